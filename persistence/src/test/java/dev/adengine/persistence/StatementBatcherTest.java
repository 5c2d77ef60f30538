package dev.adengine.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The batcher against a real Cassandra node: what it holds, when it writes, and what a failure does. */
class StatementBatcherTest {

  private static CqlSession session;
  private static PreparedStatement insert;

  @BeforeAll
  static void createKeyspace() {
    session = CassandraTestNode.freshKeyspace("statement_batcher_test");
    session.execute("CREATE TABLE kv (k text PRIMARY KEY, v int)");
    insert = session.prepare("INSERT INTO kv (k, v) VALUES (?, ?)");
  }

  @AfterAll
  static void dropKeyspace() {
    CassandraTestNode.dropKeyspace(session);
  }

  private static BoundStatement put(String k, int v) {
    return insert.bind(k, v);
  }

  private static Integer read(String k) {
    Row row = session.execute("SELECT v FROM kv WHERE k = '" + k + "'").one();
    return row == null ? null : row.getInt("v");
  }

  @Test
  void shouldHoldGroupsUntilABatchIsFullThenWriteThemTogether() throws Exception {
    // given a batcher that lingers far longer than the test and writes batches of 3 statements
    StatementBatcher batcher = new StatementBatcher(session, Duration.ofSeconds(60), 3, ConsistencyLevel.LOCAL_QUORUM);

    // when two one-statement groups are added
    CompletableFuture<Void> first = batcher.add(List.of(put("full-1", 1))).toCompletableFuture();
    CompletableFuture<Void> second = batcher.add(List.of(put("full-2", 2))).toCompletableFuture();
    Thread.sleep(300);

    // then neither is written yet: they wait for others
    assertFalse(first.isDone());
    assertFalse(second.isDone());
    assertEquals(null, read("full-1"));

    // and when a third fills the batch, all three are written
    CompletableFuture<Void> third = batcher.add(List.of(put("full-3", 3))).toCompletableFuture();
    CompletableFuture.allOf(first, second, third).get(30, TimeUnit.SECONDS);
    assertEquals(1, read("full-1"));
    assertEquals(2, read("full-2"));
    assertEquals(3, read("full-3"));
  }

  @Test
  void shouldWriteALoneGroupAfterItsLingerAndAGroupLargerThanABatchAtOnce() throws Exception {
    // given a batcher lingering 400 ms, batches of 2 statements
    StatementBatcher batcher = new StatementBatcher(session, Duration.ofMillis(400), 2, ConsistencyLevel.LOCAL_QUORUM);

    // when one statement is added alone
    long start = System.nanoTime();
    batcher.add(List.of(put("lone", 7))).toCompletableFuture().get(30, TimeUnit.SECONDS);

    // then it was written, not before its linger
    assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(400),
        "written after " + (System.nanoTime() - start) / 1_000_000 + " ms");
    assertEquals(7, read("lone"));

    // and a group of three statements (more than a batch) goes alone, at once, in one batch
    CompletableFuture<Void> big = batcher.add(List.of(put("big-1", 1), put("big-2", 2), put("big-3", 3)))
        .toCompletableFuture();
    big.get(30, TimeUnit.SECONDS); // well before another 60 s: it did not wait for a linger it does not need
    assertEquals(3, read("big-3"));
  }

  @Test
  void shouldWriteEveryGroupOfManyConcurrentCallers() throws Exception {
    // given a batcher as the engine configures it
    StatementBatcher batcher = new StatementBatcher(session, Duration.ofMillis(5), 10, ConsistencyLevel.LOCAL_QUORUM);

    // when 4 threads add 250 groups of 1-3 statements each
    List<CompletableFuture<Void>> writes = new CopyOnWriteArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int thread = t;
      Thread writer = new Thread(() -> {
        for (int i = 0; i < 250; i++) {
          List<BoundStatement> group = new ArrayList<>();
          for (int j = 0; j <= i % 3; j++) {
            group.add(put("many-" + thread + "-" + i + "-" + j, i));
          }
          writes.add(batcher.add(group).toCompletableFuture());
        }
      });
      writer.start();
      threads.add(writer);
    }
    for (Thread t : threads) {
      t.join();
    }

    // then every group's stage completes and every statement is stored
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    assertEquals(1000, writes.size());
    long stored = session.execute("SELECT count(*) AS n FROM kv WHERE k IN ('many-0-249-0', 'many-3-0-0', 'many-2-248-2')")
        .one().getLong("n");
    assertEquals(3, stored);
    long all = 0;
    for (Row r : session.execute("SELECT k FROM kv")) {
      all += r.getString("k").startsWith("many-") ? 1 : 0;
    }
    assertEquals(4 * (84 * 1 + 83 * 2 + 83 * 3), all); // i % 3 = 0, 1, 2 for 84, 83, 83 of the 250
  }

  @Test
  void shouldFailEveryGroupOfABatchCassandraRejects() {
    // given a statement for a table that no longer exists, batched with a good one
    session.execute("CREATE TABLE doomed (k text PRIMARY KEY, v int)");
    BoundStatement orphan = session.prepare("INSERT INTO doomed (k, v) VALUES (?, ?)").bind("x", 1);
    session.execute("DROP TABLE doomed");
    StatementBatcher batcher = new StatementBatcher(session, Duration.ofSeconds(60), 2, ConsistencyLevel.LOCAL_QUORUM);

    // when both are written in one batch
    CompletableFuture<Void> good = batcher.add(List.of(put("with-orphan", 1))).toCompletableFuture();
    CompletableFuture<Void> bad = batcher.add(List.of(orphan)).toCompletableFuture();

    // then both groups' stages fail (an unlogged batch is one request: it is rejected whole)
    assertThrows(ExecutionException.class, () -> bad.get(30, TimeUnit.SECONDS));
    assertThrows(ExecutionException.class, () -> good.get(30, TimeUnit.SECONDS));
  }

  @Test
  void shouldRejectAnEmptyGroupAndBadSettings() {
    StatementBatcher batcher = new StatementBatcher(session, Duration.ofMillis(5), 10, ConsistencyLevel.LOCAL_QUORUM);
    assertThrows(IllegalArgumentException.class, () -> batcher.add(List.of()));
    assertThrows(IllegalArgumentException.class,
        () -> new StatementBatcher(session, Duration.ofMillis(-1), 10, ConsistencyLevel.LOCAL_QUORUM));
    assertThrows(IllegalArgumentException.class,
        () -> new StatementBatcher(session, Duration.ofMillis(5), 0, ConsistencyLevel.LOCAL_QUORUM));
  }
}
