package dev.adengine.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.experiments.ArmParams.AuctionType;
import dev.adengine.persistence.CassandraSessions;
import dev.adengine.persistence.CassandraSettings;
import dev.adengine.persistence.ExperimentRepository;
import dev.adengine.persistence.ExperimentRepository.AuditEntry;
import dev.adengine.persistence.ExperimentRepository.Change;
import dev.adengine.persistence.ExperimentRepository.SaveResult;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A config stored in the real Cassandra the way the admin API will store it (one version per
 * change, with its audit record), then loaded by "nodes" with their own sessions, before and
 * after a "restart": they all assign every user alike.
 */
class PersistedConfigTest {

  private static CqlSession admin;
  private static CassandraSettings settings;

  @BeforeAll
  static void createKeyspace() {
    admin = CassandraTestNode.freshKeyspace("persisted_config_test");
    settings = CassandraTestNode.ensureRunning().withKeyspace(CassandraTestNode.keyspaceOf(admin));
  }

  @AfterAll
  static void dropKeyspace() {
    CassandraTestNode.dropKeyspace(admin);
  }

  /** Saves {@code next} as the version after the stored one, failing the test if someone else did. */
  private static void save(ExperimentRepository repo, ExperimentConfig next, Change change) {
    SaveResult r = await(repo.save("main", next.version(), ExperimentConfigCodec.encode(next), change, Instant.now()));
    assertTrue(r.saved(), "version " + next.version() + ": " + r);
  }

  private static ExperimentConfig load(ExperimentRepository repo) {
    return ExperimentConfigCodec.decode(await(repo.latest("main")).orElseThrow().payload());
  }

  @Test
  void shouldAssignEveryUserAlikeWhenNodesLoadThePersistedConfigBeforeAndAfterARestart() {
    // given an admin who builds the config change by change, saving each version
    ExperimentRepository repo = new ExperimentRepository(admin, settings.keyspace());
    ExperimentConfig c = ExperimentConfig.EMPTY.withHoldout(new Holdout(200, "holdout-2026"));
    save(repo, c, new Change("ops", ExperimentRepository.HOLDOUT_SET, null, 0, 200, null));
    c = c.withLayer(Layer.of("ranking"));
    save(repo, c, new Change("ops", ExperimentRepository.LAYER_ADDED, null, null, null, "ranking"));
    c = c.withLayer(Layer.of("auction"));
    save(repo, c, new Change("ops", ExperimentRepository.LAYER_ADDED, null, null, null, "auction"));
    c = c.create("rank-v8", "ranking", 1000, List.of(
        ArmDef.of("control", 5000, true, ArmParams.DEFAULTS.withModelVersion("gbt-7")),
        ArmDef.of("v8", 5000, false, ArmParams.DEFAULTS.withModelVersion("gbt-8").withShadowModelVersion("lr-3"))));
    save(repo, c, Change.created("alice", "rank-v8", 1000));
    c = c.start("rank-v8");
    save(repo, c, Change.started("alice", "rank-v8"));
    c = c.ramp("rank-v8", 4000);
    save(repo, c, Change.ramped("alice", "rank-v8", 1000, 4000));
    c = c.create("first-price", "auction", 3000, List.of(
        ArmDef.of("gsp", 5000, true, ArmParams.DEFAULTS.withAuctionType(AuctionType.GSP)),
        ArmDef.of("first", 5000, false, ArmParams.DEFAULTS.withAuctionType(AuctionType.FIRST_PRICE)
            .withReserveMicros(20_000L))));
    save(repo, c, Change.created("bob", "first-price", 3000));
    c = c.start("first-price");
    save(repo, c, Change.started("bob", "first-price"));
    ExperimentConfig written = c;

    // when two nodes load it with their own sessions, and a third after they are gone
    Assigner node1;
    Assigner node2;
    try (CqlSession s1 = connect(); CqlSession s2 = connect()) {
      node1 = Assigner.of(load(new ExperimentRepository(s1, settings.keyspace())));
      node2 = Assigner.of(load(new ExperimentRepository(s2, settings.keyspace())));
    }
    Assigner restarted;
    try (CqlSession s3 = connect()) {
      restarted = Assigner.of(load(new ExperimentRepository(s3, settings.keyspace())));
    }

    // then they hold the config as written, and assign every user alike
    assertEquals(written, node1.config());
    assertEquals(8, restarted.config().version());
    Assigner local = Assigner.of(written);
    Random random = new Random(11);
    int inBoth = 0;
    for (int i = 0; i < 100_000; i++) {
      String user = new UUID(random.nextLong(), random.nextLong()).toString();
      Assignment expected = local.assign(user);
      assertEquals(expected, node1.assign(user));
      assertEquals(expected, node2.assign(user));
      assertEquals(expected, restarted.assign(user));
      inBoth += expected.experiments().size() == 2 ? 1 : 0;
    }
    // 98 % not held out x 40 % x 30 %
    assertEquals(0.98 * 0.4 * 0.3, inBoth / 100_000.0, 0.005);
    // and the audit log says who started and ramped what
    List<AuditEntry> log = await(repo.auditLog("main", "rank-v8"));
    assertEquals(List.of("CREATED", "STARTED", "RAMPED"), log.stream().map(e -> e.change().action()).toList());
    assertEquals(4000, log.get(2).change().toBasisPoints());
  }

  @Test
  void shouldKeepBothChangesWhenTwoAdminsChangeTheSameVersion() {
    // given version 3 with a running experiment, loaded by two admins
    ExperimentRepository repo = new ExperimentRepository(admin, settings.keyspace());
    String name = "race";
    ExperimentConfig v1 = ExperimentConfig.EMPTY.withLayer(Layer.of("ranking"));
    ExperimentConfig v2 = v1.create("x", "ranking", 1000, List.of(ArmDef.of("c", 5000, true, ArmParams.DEFAULTS),
        ArmDef.of("t", 5000, false, ArmParams.DEFAULTS.withTopK(30))));
    ExperimentConfig v3 = v2.start("x");
    for (ExperimentConfig v : List.of(v1, v2, v3)) {
      assertTrue(await(repo.save(name, v.version(), ExperimentConfigCodec.encode(v), new Change("setup", "SETUP", null,
          null, null, null), Instant.now())).saved());
    }
    ExperimentConfig seenByA = ExperimentConfigCodec.decode(await(repo.latest(name)).orElseThrow().payload());
    ExperimentConfig seenByB = ExperimentConfigCodec.decode(await(repo.latest(name)).orElseThrow().payload());

    // when A ramps x and B creates y, both on version 3
    ExperimentConfig fromA = seenByA.ramp("x", 3000);
    ExperimentConfig fromB = seenByB.create("y", "ranking", 2000, List.of(ArmDef.of("c", 5000, true,
        ArmParams.DEFAULTS), ArmDef.of("t", 5000, false, ArmParams.DEFAULTS.withModelVersion("m9"))));
    SaveResult a = await(repo.save(name, fromA.version(), ExperimentConfigCodec.encode(fromA),
        Change.ramped("a", "x", 1000, 3000), Instant.now()));
    SaveResult b = await(repo.save(name, fromB.version(), ExperimentConfigCodec.encode(fromB),
        Change.created("b", "y", 2000), Instant.now()));

    // then A saved version 4, B was refused; B reloads, reapplies and saves version 5
    assertTrue(a.saved());
    assertFalse(b.saved());
    assertEquals(4, b.latestVersion());
    ExperimentConfig reloaded = ExperimentConfigCodec.decode(await(repo.latest(name)).orElseThrow().payload());
    ExperimentConfig retried = reloaded.create("y", "ranking", 2000, List.of(ArmDef.of("c", 5000, true,
        ArmParams.DEFAULTS), ArmDef.of("t", 5000, false, ArmParams.DEFAULTS.withModelVersion("m9"))));
    assertTrue(await(repo.save(name, retried.version(), ExperimentConfigCodec.encode(retried),
        Change.created("b", "y", 2000), Instant.now())).saved());
    ExperimentConfig last = ExperimentConfigCodec.decode(await(repo.latest(name)).orElseThrow().payload());
    assertEquals(5, last.version());
    assertEquals(3000, last.experiment("x").orElseThrow().allocationBasisPoints());
    assertEquals(2000, last.experiment("y").orElseThrow().allocationBasisPoints());
    assertFalse(last.experiment("x").orElseThrow().layerBuckets().intersects(
        last.experiment("y").orElseThrow().layerBuckets()));
  }

  private static CqlSession connect() {
    return CassandraSessions.connectToKeyspace(settings, Duration.ofSeconds(30));
  }

  private static <T> T await(java.util.concurrent.CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
