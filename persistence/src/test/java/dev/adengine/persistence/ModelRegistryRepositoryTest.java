package dev.adengine.persistence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.persistence.ModelRegistryRepository.Activation;
import dev.adengine.persistence.ModelRegistryRepository.ModelVersion;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each test uses its own version names and scopes, so the tests share the keyspace. */
class ModelRegistryRepositoryTest {

  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

  private static CqlSession session;
  private static ModelRegistryRepository registry;

  @BeforeAll
  static void createKeyspace() {
    session = CassandraTestNode.freshKeyspace("model_registry_repository_test");
    registry = new ModelRegistryRepository(session, CassandraTestNode.keyspaceOf(session));
  }

  @AfterAll
  static void dropKeyspace() {
    CassandraTestNode.dropKeyspace(session);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static ModelVersion version(String name, Instant createdAt, String model) {
    return new ModelVersion(name, createdAt, "pipeline", "run-0000001772359200000-a1b2", "ctr-6", "f1674fb",
        "schema-abc", 1_000L, 2_000L, 2_000L, 3_000L, 120_000L, 2_400L, 30_000L, 610L,
        Map.of("trees", "200", "depth", "6"), Map.of("auc", 0.781, "logloss", 0.0931),
        bytes("reference:" + name), bytes(model));
  }

  @Test
  void shouldKeepTheFirstContentWhenTheSameVersionIsRegisteredTwice() {
    // given
    ModelVersion first = version("ctr-7", T0, "first model bytes");
    ModelVersion second = new ModelVersion("ctr-7", T0.plusSeconds(60), "someone-else", null, null, null, null,
        0, 0, 0, 0, 0, 0, 0, 0, Map.of(), Map.of("auc", 0.5), null, bytes("second model bytes"));

    // when
    boolean registeredFirst = Await.result(registry.register(first));
    boolean registeredSecond = Await.result(registry.register(second));

    // then
    assertTrue(registeredFirst);
    assertFalse(registeredSecond);
    ModelVersion stored = Await.result(registry.find("ctr-7")).orElseThrow();
    assertEquals(first, stored);
    assertArrayEquals(bytes("first model bytes"), stored.model());
    assertArrayEquals(bytes("reference:ctr-7"), stored.reference());
    assertEquals(Map.of("auc", 0.781, "logloss", 0.0931), stored.metrics());
    assertEquals(Map.of("trees", "200", "depth", "6"), stored.hyperParams());
  }

  @Test
  void shouldReadBackANullReferenceAndNothingForAnUnknownVersionWhenFound() {
    // given a version without reference distributions
    ModelVersion noReference = new ModelVersion("ctr-noref", T0, "alice", null, null, null, "schema-abc",
        1, 2, 3, 4, 5, 6, 7, 8, null, null, null, bytes("model"));

    // when
    Await.result(registry.register(noReference));

    // then
    ModelVersion stored = Await.result(registry.find("ctr-noref")).orElseThrow();
    assertEquals(noReference, stored);
    assertNull(stored.reference());
    assertEquals(Map.of(), stored.metrics());
    assertEquals(Optional.empty(), Await.result(registry.find("ctr-never-registered")));
  }

  @Test
  void shouldRefuseToRegisterAVersionWhenItHasNoModel() {
    // given
    ModelVersion empty = new ModelVersion("ctr-empty", T0, "alice", null, null, null, null,
        0, 0, 0, 0, 0, 0, 0, 0, null, null, bytes("reference"), null);

    // when
    CompletionException error = assertThrows(CompletionException.class,
        () -> registry.register(empty).toCompletableFuture().join());

    // then
    assertTrue(error.getCause() instanceof IllegalArgumentException, error.toString());
    assertEquals(Optional.empty(), Await.result(registry.find("ctr-empty")));
  }

  @Test
  void shouldListVersionsNewestFirstWithoutBlobsWhenListed() {
    // given three versions registered out of creation order
    ModelVersion middle = version("list-b", T0.plusSeconds(3600), "model b");
    ModelVersion oldest = version("list-a", T0, "model a");
    ModelVersion newest = version("list-c", T0.plusSeconds(7200), "model c");
    for (ModelVersion v : List.of(middle, oldest, newest)) {
      assertTrue(Await.result(registry.register(v)));
    }

    // when
    List<ModelVersion> listed = Await.result(registry.list());

    // then every version comes without bytes, and these three newest first with all else intact
    assertTrue(listed.stream().allMatch(v -> v.model() == null && v.reference() == null), listed.toString());
    List<ModelVersion> ours = listed.stream().filter(v -> v.version().startsWith("list-")).toList();
    assertEquals(List.of(newest.withoutBlobs(), middle.withoutBlobs(), oldest.withoutBlobs()), ours);
  }

  @Test
  void shouldChainSeqAndPreviousVersionWhenActivatedThenRolledBack() {
    // given
    String scope = "chain";

    // when ctr-1 is activated, then ctr-2, then rolled back to ctr-1
    Activation first = Await.result(registry.activate(scope, "ctr-1", ModelRegistryRepository.ACTIVATE,
        "alice", "first model", T0));
    Activation second = Await.result(registry.activate(scope, "ctr-2", ModelRegistryRepository.ACTIVATE,
        "pipeline", "auc +0.004", T0.plusSeconds(60)));
    Activation third = Await.result(registry.activate(scope, "ctr-1", ModelRegistryRepository.ROLLBACK,
        "bob", "ctr drop on mobile", T0.plusSeconds(120)));

    // then
    Activation expectedFirst = new Activation(scope, 1, "ctr-1", null, "ACTIVATE", "alice", "first model", T0);
    Activation expectedSecond = new Activation(scope, 2, "ctr-2", "ctr-1", "ACTIVATE", "pipeline", "auc +0.004",
        T0.plusSeconds(60));
    Activation expectedThird = new Activation(scope, 3, "ctr-1", "ctr-2", "ROLLBACK", "bob", "ctr drop on mobile",
        T0.plusSeconds(120));
    assertEquals(List.of(expectedFirst, expectedSecond, expectedThird), List.of(first, second, third));
    assertEquals(Optional.of(expectedThird), Await.result(registry.active(scope)));
    assertEquals(List.of(expectedThird, expectedSecond, expectedFirst), Await.result(registry.history(scope, 10)));
    assertEquals(List.of(expectedThird, expectedSecond), Await.result(registry.history(scope, 2)));
    assertEquals(Optional.empty(), Await.result(registry.active("never-activated")));
  }

  @Test
  void shouldGiveEachConcurrentActivationItsOwnSeqWhenActivatedAtOnce() {
    // given a scope whose active version is base
    String scope = "race";
    Await.result(registry.activate(scope, "base", ModelRegistryRepository.ACTIVATE, "alice", null, T0));

    // when four activations of the scope run at once
    List<CompletableFuture<Activation>> attempts = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      attempts.add(registry.activate(scope, "ctr-" + i, ModelRegistryRepository.ACTIVATE, "admin-" + i, null,
          T0.plusSeconds(i + 1)).toCompletableFuture());
    }
    List<Activation> results = attempts.stream().map(Await::result).toList();

    // then all succeed with seqs 2..5, none lost, each replacing the one before it
    assertEquals(List.of(2L, 3L, 4L, 5L), results.stream().map(Activation::seq).sorted().toList());
    List<Activation> history = Await.result(registry.history(scope, 10));
    assertEquals(List.of(5L, 4L, 3L, 2L, 1L), history.stream().map(Activation::seq).toList());
    for (int i = 0; i < history.size() - 1; i++) {
      assertEquals(history.get(i + 1).version(), history.get(i).previousVersion(), history.toString());
    }
    assertEquals(List.of("base", "ctr-0", "ctr-1", "ctr-2", "ctr-3"),
        history.stream().map(Activation::version).sorted().toList());
    assertEquals(Optional.of(history.get(0)), Await.result(registry.active(scope)));
  }

  @Test
  void shouldRejectActivationWhenVersionOrScopeIsBlank() {
    // given
    String scope = "blank";

    // when
    List<CompletionException> errors = List.of(
        assertThrows(CompletionException.class, () -> registry.activate(scope, " ", "ACTIVATE", "alice", null, T0)
            .toCompletableFuture().join()),
        assertThrows(CompletionException.class, () -> registry.activate(scope, null, "ACTIVATE", "alice", null, T0)
            .toCompletableFuture().join()),
        assertThrows(CompletionException.class, () -> registry.activate("", "ctr-1", "ACTIVATE", "alice", null, T0)
            .toCompletableFuture().join()));

    // then
    for (CompletionException error : errors) {
      assertTrue(error.getCause() instanceof IllegalArgumentException, error.toString());
    }
    assertEquals("version is required", errors.get(0).getCause().getMessage());
    assertEquals("scope is required", errors.get(2).getCause().getMessage());
    assertEquals(Optional.empty(), Await.result(registry.active(scope)));
  }
}
