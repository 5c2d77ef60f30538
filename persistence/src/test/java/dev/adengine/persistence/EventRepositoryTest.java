package dev.adengine.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.persistence.EventRepository.StoredEvent;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EventRepositoryTest {

  private static final int CONCURRENT_INSERTS = 8;

  private static CqlSession session;
  private static EventRepository events;

  @BeforeAll
  static void createKeyspace() {
    session = CassandraTestNode.freshKeyspace("event_repository_test");
    events = new EventRepository(session, CassandraTestNode.keyspaceOf(session));
  }

  @AfterAll
  static void dropKeyspace() {
    CassandraTestNode.dropKeyspace(session);
  }

  @Test
  void shouldReturnTrueThenFalseWhenSameEventInsertedTwice() {
    // given
    StoredEvent click = event("e-twice", "node-1", 250_000);
    StoredEvent replay = event("e-twice", "node-2", 999_999);

    // when
    boolean first = Await.result(events.insertIfAbsent(click));
    boolean second = Await.result(events.insertIfAbsent(replay));

    // then
    assertTrue(first);
    assertFalse(second);
    assertEquals(Optional.of(click), Await.result(events.find("e-twice")));
  }

  @Test
  void shouldStoreExactlyOnceWhenSameEventInsertedConcurrently() {
    // given
    List<StoredEvent> attempts =
        IntStream.range(0, CONCURRENT_INSERTS)
            .mapToObj(i -> event("e-concurrent", "node-" + i, 1_000L * i))
            .toList();

    // when
    List<CompletableFuture<Boolean>> results =
        attempts.stream().map(e -> events.insertIfAbsent(e).toCompletableFuture()).toList();
    Await.result(CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)));

    // then
    List<Integer> winners =
        IntStream.range(0, CONCURRENT_INSERTS).filter(i -> results.get(i).join()).boxed().toList();
    assertEquals(1, winners.size(), "exactly one insert wins, winners: " + winners);
    assertEquals(
        Optional.of(attempts.get(winners.get(0))), Await.result(events.find("e-concurrent")));
  }

  @Test
  void shouldReturnEmptyWhenEventUnknown() {
    // given
    String unknown = "e-never-stored";

    // when
    Optional<StoredEvent> found = Await.result(events.find(unknown));

    // then
    assertTrue(found.isEmpty());
  }

  @Test
  void shouldFindAStoredEventAtSerialConsistencyAndNothingForAnUnknownOne() {
    // given an event stored by its lightweight transaction
    StoredEvent click = event("e-serial", "node-s", 7_000);
    assertTrue(Await.result(events.insertIfAbsent(click)));

    // when both it and an id never stored are read at serial consistency
    Optional<StoredEvent> found = Await.result(events.findSerial("e-serial"));
    Optional<StoredEvent> none = Await.result(events.findSerial("e-serial-never"));

    // then the stored one is found as stored, the other not
    assertEquals(Optional.of(click), found);
    assertTrue(none.isEmpty());
  }

  private static StoredEvent event(String eventId, String node, long chargedMicros) {
    return new StoredEvent(
        eventId, "req-1", "ad-1", "camp-1", "CLICK", 1_767_225_600_000L, chargedMicros, node);
  }
}
