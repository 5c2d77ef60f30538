package dev.adengine.engine.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.Pricing;
import dev.adengine.engine.budget.PacingPolicy;
import dev.adengine.engine.campaign.AdvertiserBudget;
import dev.adengine.engine.campaign.CampaignEntity;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * Commands per second through one real {@link CampaignEntity}: each {@link CampaignEntity.SyncNode}
 * carries new totals, so the entity persists one {@link CampaignEntity.NodeSynced} event and
 * replies after the write. The benchmark thread keeps {@code window} asks outstanding: one
 * operation waits for the oldest reply and sends the next ask ({@code window = 1} is a plain
 * round trip, one command at a time).
 *
 * <p>{@code journal = inmem}: Pekko's in-memory journal and snapshot store
 * ({@code PersistenceTestKitPlugin}, events serialized with Jackson CBOR as configured), so this
 * is the entity's own processing (command handler, event handler, Pekko persistence machinery,
 * ask) and not any database's write throughput. {@code journal = cassandra}: the project's
 * pekko-persistence-cassandra configuration against the Cassandra node on 127.0.0.1:9042 (or
 * {@code ADENGINE_CASSANDRA_HOST/PORT}), in a fresh migrated keyspace that is dropped afterwards.
 *
 * <p>Each iteration uses a new entity (fresh id), so state and journal size stay bounded; the
 * actor system uses the engine's dispatcher settings from cluster.conf (parallelism 2).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@State(Scope.Benchmark)
public class EntityBench {
  static final String NODE = "bench-node";
  static final String DAY = "2024-03-01";
  static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);
  /** Noon UTC, far from midnight, so the budget day never rolls during a run. */
  static final Clock CLOCK = Clock.fixed(Instant.parse(DAY + "T12:00:00Z"), ZoneOffset.UTC);
  /** The engine's dispatcher settings (cluster-config/src/main/resources/cluster.conf). */
  static final String DISPATCHER = """
      pekko.actor.default-dispatcher.fork-join-executor { parallelism-min = 2, parallelism-max = 2 }
      pekko.actor.internal-dispatcher = "pekko.actor.default-dispatcher"
      pekko.loglevel = WARNING
      """;

  @Param({"inmem", "cassandra"})
  public String journal;

  @Param({"1", "64"})
  public int window;

  private ActorSystem<Void> system;
  private PersistenceTestKit inMemory;
  private CqlSession keyspace;
  private int entities;
  private String persistenceId;
  private ActorRef<CampaignEntity.Command> entity;
  private final ArrayDeque<CompletableFuture<CampaignEntity.Grant>> inFlight = new ArrayDeque<>();
  private long seq;

  @Setup(Level.Trial)
  public void startSystem() {
    Config config;
    if (journal.equals("inmem")) {
      config = EventSourcedBehaviorTestKit.config();
    } else {
      keyspace = CassandraTestNode.freshKeyspace("bench_entity");
      var node = CassandraTestNode.ensureRunning();
      config = ConfigFactory.parseString("adengine.cassandra.keyspace = " + CassandraTestNode.keyspaceOf(keyspace)
              + "\nadengine.cassandra.host = \"" + node.host() + "\"\nadengine.cassandra.port = " + node.port())
          .withFallback(ConfigFactory.parseResources("persistence.conf"));
    }
    config = config
        .withFallback(ConfigFactory.parseResources("serialization.conf"))
        .withFallback(ConfigFactory.parseString(DISPATCHER))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
    system = ActorSystem.create(Behaviors.empty(), "EntityBench", config);
    if (journal.equals("inmem")) {
      inMemory = PersistenceTestKit.create(system);
    }
  }

  @Setup(Level.Iteration)
  public void newEntity() {
    if (inMemory != null) {
      inMemory.clearAll();
    }
    String campaignId = "bench-camp-" + (++entities);
    persistenceId = CampaignEntity.ENTITY_KEY.name() + "|" + campaignId;
    CampaignEntity.CatalogPublisher publisher =
        (update, parent) -> CompletableFuture.completedFuture(Done.getInstance());
    entity = system.systemActorOf(
        CampaignEntity.create(campaignId, CampaignEntity.Deps.of(publisher, CLOCK, 0.07, PacingPolicy.NONE, AdvertiserBudget.UNCAPPED)),
        campaignId, Props.empty());
    byte[] definition = Campaign.newBuilder()
        .setCampaignId(campaignId)
        .setAdvertiserId("bench-adv")
        .setName("Benchmark campaign")
        .setPricing(Pricing.CPM)
        .setBidMicros(2_000_000)
        .setDailyBudgetMicros(1_000_000_000)
        .addAds(Ad.newBuilder().setAdId("ad-1").setTitle("Hotel One").setHotelId("h1"))
        .setTimeZone("UTC")
        .build().toByteArray();
    AskPattern.<CampaignEntity.Command, CampaignEntity.Summary>askWithStatus(entity,
        replyTo -> new CampaignEntity.Upsert(definition, "bench-adv", 1_000_000_000, "UTC", replyTo),
        ASK_TIMEOUT, system.scheduler()).toCompletableFuture().join();
    seq = 0;
    for (int i = 0; i < window; i++) {
      inFlight.add(send());
    }
  }

  private CompletableFuture<CampaignEntity.Grant> send() {
    long s = ++seq;
    return AskPattern.<CampaignEntity.Command, CampaignEntity.Grant>askWithStatus(entity,
        replyTo -> new CampaignEntity.SyncNode(NODE, DAY, s, s * 1_000, 0, s, 0, false, replyTo),
        ASK_TIMEOUT, system.scheduler()).toCompletableFuture();
  }

  /** One command: wait for the oldest outstanding reply, send the next sync. */
  @Benchmark
  public CampaignEntity.Grant sync() {
    CampaignEntity.Grant grant = inFlight.poll().join();
    inFlight.add(send());
    return grant;
  }

  /** Drains the window and checks that every sync was applied and persisted as one NodeSynced. */
  @TearDown(Level.Iteration)
  public void verify() {
    while (!inFlight.isEmpty()) {
      inFlight.poll().join();
    }
    CampaignEntity.Summary summary = AskPattern.<CampaignEntity.Command, CampaignEntity.Summary>askWithStatus(
        entity, CampaignEntity.Get::new, ASK_TIMEOUT, system.scheduler()).toCompletableFuture().join();
    long applied = summary.nodes().get(NODE).seq();
    if (applied != seq || summary.spentMicros() != seq * 1_000) {
      throw new IllegalStateException("sent " + seq + " syncs, entity applied up to " + applied);
    }
    if (inMemory != null) {
      long synced = inMemory.persistedInStorage(persistenceId).stream()
          .filter(e -> e instanceof CampaignEntity.NodeSynced).count();
      if (synced != seq) {
        throw new IllegalStateException("sent " + seq + " syncs, journal holds " + synced + " NodeSynced");
      }
    }
  }

  @TearDown(Level.Trial)
  public void stopSystem() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
    if (keyspace != null) {
      CassandraTestNode.dropKeyspace(keyspace);
    }
  }
}
