package dev.adengine.persistence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.persistence.ExperimentRepository.AuditEntry;
import dev.adengine.persistence.ExperimentRepository.Change;
import dev.adengine.persistence.ExperimentRepository.SaveResult;
import dev.adengine.persistence.ExperimentRepository.StoredConfig;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ExperimentRepositoryTest {
  private static CqlSession session;
  private static ExperimentRepository experiments;

  @BeforeAll
  static void createKeyspace() {
    session = CassandraTestNode.freshKeyspace("experiment_repository_test");
    experiments = new ExperimentRepository(session, CassandraTestNode.keyspaceOf(session));
  }

  @AfterAll
  static void dropKeyspace() {
    CassandraTestNode.dropKeyspace(session);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void shouldKeepEveryVersionAndItsChangeWhenConfigsAreSavedInSequence() {
    // given
    Instant t0 = Instant.parse("2026-03-01T10:00:00Z");

    // when four changes are saved, each on top of the last
    SaveResult v1 = Await.result(experiments.save("main", 1, bytes("v1"), Change.created("alice", "rank-v8", 1000), t0));
    SaveResult v2 = Await.result(experiments.save("main", 2, bytes("v2"), Change.started("alice", "rank-v8"),
        t0.plusSeconds(60)));
    SaveResult v3 = Await.result(experiments.save("main", 3, bytes("v3"), Change.ramped("bob", "rank-v8", 1000, 5000)
        .withDetail("guardrails green for 24h"), t0.plusSeconds(3600)));
    SaveResult v4 = Await.result(experiments.save("main", 4, bytes("v4"), Change.stopped("bob", "rank-v8", "shipped"),
        t0.plusSeconds(7200)));

    // then every version is kept, the latest is v4, and the audit log tells who did what when
    assertEquals(List.of(new SaveResult(true, 1), new SaveResult(true, 2), new SaveResult(true, 3),
        new SaveResult(true, 4)), List.of(v1, v2, v3, v4));
    StoredConfig latest = Await.result(experiments.latest("main")).orElseThrow();
    assertEquals(4, latest.version());
    assertArrayEquals(bytes("v4"), latest.payload());
    assertArrayEquals(bytes("v2"), Await.result(experiments.version("main", 2)).orElseThrow().payload());
    List<AuditEntry> log = Await.result(experiments.auditLog("main"));
    assertEquals(List.of(1L, 2L, 3L, 4L), log.stream().map(AuditEntry::version).toList());
    AuditEntry ramp = log.get(2);
    assertEquals(new Change("bob", ExperimentRepository.RAMPED, "rank-v8", 1000, 5000, "guardrails green for 24h"),
        ramp.change());
    assertEquals(t0.plusSeconds(3600), ramp.at());
    assertEquals(new Change("alice", ExperimentRepository.CREATED, "rank-v8", null, 1000, null), log.get(0).change());
    assertEquals("shipped", log.get(3).change().detail());
  }

  @Test
  void shouldSaveAVersionOnceWhenWritersRaceForIt() {
    // given version 1 of a config
    Await.result(experiments.save("race", 1, bytes("base"), Change.created("admin", "x", 100), Instant.now()));

    // when eight admins, all on version 1, save their own version 2 at once
    List<CompletableFuture<SaveResult>> attempts = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      attempts.add(experiments.save("race", 2, bytes("writer-" + i), Change.ramped("admin-" + i, "x", 100, 200 + i),
          Instant.now()).toCompletableFuture());
    }
    List<SaveResult> results = attempts.stream().map(Await::result).toList();

    // then exactly one saved, the others learn version 2 exists, and the stored row is the winner's
    List<Integer> winners = new ArrayList<>();
    for (int i = 0; i < results.size(); i++) {
      if (results.get(i).saved()) {
        winners.add(i);
      }
      assertTrue(results.get(i).latestVersion() >= 2, results.get(i).toString());
    }
    assertEquals(1, winners.size(), results.toString());
    int w = winners.get(0);
    StoredConfig stored = Await.result(experiments.latest("race")).orElseThrow();
    assertArrayEquals(bytes("writer-" + w), stored.payload());
    assertEquals("admin-" + w, stored.audit().change().actor());
    assertEquals(2, Await.result(experiments.auditLog("race")).size());
  }

  @Test
  void shouldRefuseAVersionWhenItDoesNotFollowTheLatest() {
    // given nothing saved under this name
    SaveResult early = Await.result(experiments.save("gaps", 2, bytes("x"), Change.started("a", "x"), Instant.now()));
    Await.result(experiments.save("gaps", 1, bytes("one"), Change.created("a", "x", 10), Instant.now()));
    SaveResult skip = Await.result(experiments.save("gaps", 3, bytes("x"), Change.started("a", "x"), Instant.now()));
    SaveResult again = Await.result(experiments.save("gaps", 1, bytes("x"), Change.created("a", "x", 10), Instant.now()));

    assertEquals(new SaveResult(false, 0), early);
    assertEquals(new SaveResult(false, 1), skip);
    assertEquals(new SaveResult(false, 1), again);
    assertArrayEquals(bytes("one"), Await.result(experiments.latest("gaps")).orElseThrow().payload());
    CompletionException bad = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
        () -> experiments.save("gaps", 0, bytes("x"), Change.started("a", "x"), Instant.now()).toCompletableFuture()
            .join());
    assertTrue(bad.getCause() instanceof IllegalArgumentException);
  }

  @Test
  void shouldListOneExperimentsChangesWhenAskedForThem() {
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    Await.result(experiments.save("multi", 1, bytes("1"), Change.created("a", "x", 10), t));
    Await.result(experiments.save("multi", 2, bytes("2"), Change.created("a", "y", 20), t));
    Await.result(experiments.save("multi", 3, bytes("3"), Change.started("a", "y"), t));
    Await.result(experiments.save("multi", 4, bytes("4"), new Change("a", ExperimentRepository.HOLDOUT_SET, null,
        0, 500, null), t));

    List<AuditEntry> y = Await.result(experiments.auditLog("multi", "y"));

    assertEquals(List.of(2L, 3L), y.stream().map(AuditEntry::version).toList());
    assertEquals(4, Await.result(experiments.auditLog("multi")).size());
    assertFalse(Await.result(experiments.latest("nothing-here")).isPresent());
    assertTrue(Await.result(experiments.auditLog("nothing-here")).isEmpty());
  }
}
