package dev.adengine.engine.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.AdminServiceClient;
import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.AdvertiserKind;
import dev.adengine.api.v1.AuctionServiceClient;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.EventServiceClient;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Placement;
import dev.adengine.api.v1.Pricing;
import dev.adengine.engine.EngineNode;
import dev.adengine.persistence.CassandraSettings;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;

/** Starts real engine nodes on real Cassandra and real gRPC clients for them, for tests. */
public final class EngineTestSupport {
  private EngineTestSupport() {}

  /** Config for a node on its own keyspace with every port chosen by the OS. */
  public static Config nodeConfig(String keyspace, Map<String, Object> overrides) {
    CassandraSettings cassandra = CassandraTestNode.ensureRunning();
    Config o = ConfigFactory.parseMap(overrides)
        .withFallback(ConfigFactory.parseMap(Map.of(
            "adengine.cassandra.keyspace", keyspace,
            "adengine.cassandra.host", cassandra.host(),
            "adengine.cassandra.port", cassandra.port(),
            "adengine.grpc.port", 0,
            "pekko.remote.artery.canonical.port", 0,
            "pekko.management.http.port", 0,
            "pekko.coordinated-shutdown.exit-jvm", "off",
            "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook", "off",
            // The scalar stage 2 unless a test asks for the compiled one: building it costs a node
            // javac and ~9 s of CPU before it reports ready, which in-JVM test nodes would spend
            // beside the test's own timed requests (EngineEndToEndTest's 300 ms deadline and its
            // readiness check failed that way). The compiled path is tested by ModelHolderTest,
            // ReadinessTest (a node with it on) and the chaos module's node processes (default on).
            "adengine.ranking.vector-stage2", "off",
            // Spend reported every second (the default is 5 s): tests read a campaign's spend
            // through the admin API and wait for it in report intervals.
            "adengine.budget.report-interval", "1s")));
    return ConfigFactory.load(o.withFallback(ConfigFactory.parseResourcesAnySyntax("application")));
  }

  public static EngineNode startNode(String keyspace) {
    return startNode(keyspace, Map.of());
  }

  /**
   * Starts a node in this JVM and waits, as a load balancer's readiness check would, until its
   * catalog replica is loaded: before that it answers bids and events UNAVAILABLE.
   */
  public static EngineNode startNode(String keyspace, Map<String, Object> overrides) {
    EngineNode node;
    try {
      node = EngineNode.start(nodeConfig(keyspace, overrides));
    } catch (Exception e) {
      throw new IllegalStateException("engine node failed to start", e);
    }
    try {
      awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(20), () -> {
        if (!node.catalog().loaded()) {
          throw new AssertionError("node " + node.nodeId() + ": catalog replica not loaded within 60 s");
        }
      });
    } catch (AssertionError | RuntimeException e) {
      stop(node);
      throw e;
    }
    return node;
  }

  /**
   * Drops a test's keyspace once its nodes are stopped: every keyspace costs the shared test
   * Cassandra heap for its tables, and tests that write much (the feature log) should not leave theirs.
   */
  public static void dropKeyspace(String keyspace) {
    try (com.datastax.oss.driver.api.core.CqlSession session = CassandraTestNode.connect()) {
      CassandraTestNode.dropKeyspace(session, keyspace);
    }
  }

  /**
   * The first {@code CREATE TABLE} statement of a persistence migration, for {@code keyspace}: how a
   * test that dropped a table to simulate a failing store brings it back exactly as deployed.
   */
  public static String migrationTable(String migration, String keyspace) {
    try {
      String cql = java.nio.file.Files.readString(
          java.nio.file.Path.of("../persistence/src/main/resources/db/migration", migration));
      int start = cql.indexOf("CREATE TABLE");
      if (start < 0) {
        throw new IllegalArgumentException(migration + " creates no table");
      }
      int end = cql.indexOf(';', start);
      return cql.substring(start, end).replace("${keyspace}", keyspace);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  public static void stop(EngineNode node) {
    if (node != null) {
      await(node.stop());
    }
  }

  /** A client-side actor system that is not a cluster node (the engine's config is not used). */
  public static ActorSystem<Void> clientSystem(String name) {
    Config config = ConfigFactory.parseString("pekko.actor.provider = local\npekko.loglevel = WARNING")
        .withFallback(ConfigFactory.defaultReference());
    return ActorSystem.create(Behaviors.empty(), name, config);
  }

  public static GrpcClientSettings clientSettings(ActorSystem<?> system, int port) {
    return GrpcClientSettings.connectToServiceAt("127.0.0.1", port, system).withTls(false);
  }

  /** The three API clients for one node. */
  public record Clients(AuctionServiceClient auction, EventServiceClient events, AdminServiceClient admin) {
    public static Clients of(ActorSystem<?> system, int port) {
      GrpcClientSettings s = clientSettings(system, port);
      return new Clients(AuctionServiceClient.create(s, system), EventServiceClient.create(s, system),
          AdminServiceClient.create(s, system));
    }

    public void close() {
      await(auction.close());
      await(events.close());
      await(admin.close());
    }
  }

  public static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(cause);
    }
  }

  /** Retries {@code check} until it passes or {@code max} elapses; rethrows its last failure. */
  public static void awaitAssert(Duration max, Runnable check) {
    awaitAssert(max, Duration.ofMillis(25), check);
  }

  /** As {@link #awaitAssert(Duration, Runnable)}, trying every {@code interval} (for expensive checks). */
  public static void awaitAssert(Duration max, Duration interval, Runnable check) {
    long deadline = System.nanoTime() + max.toNanos();
    while (true) {
      try {
        check.run();
        return;
      } catch (AssertionError | RuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
      try {
        Thread.sleep(interval.toMillis());
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(ie);
      }
    }
  }

  public static <T> T awaitValue(Duration max, Supplier<T> attempt) {
    Object[] holder = new Object[1];
    awaitAssert(max, () -> holder[0] = attempt.get());
    @SuppressWarnings("unchecked")
    T value = (T) holder[0];
    return value;
  }

  // ---- fixtures ----

  public static Advertiser advertiser(String id, long dailyBudgetMicros) {
    return Advertiser.newBuilder().setAdvertiserId(id).setName("Advertiser " + id)
        .setKind(AdvertiserKind.HOTEL_CHAIN).setDailyBudgetMicros(dailyBudgetMicros).setTimeZone("UTC").build();
  }

  /**
   * A campaign paced {@code ASAP}, so that it serves as soon as it is created at any time of day:
   * {@code EVEN} pacing grants almost nothing just after midnight in the campaign's zone (that is
   * its job; the pacing tests cover it), which made tests that expect winners fail when run then.
   */
  public static Campaign.Builder campaign(String id, String advertiserId, Pricing pricing, long bidMicros,
      long budgetMicros, String... adIds) {
    Campaign.Builder b = Campaign.newBuilder().setCampaignId(id).setAdvertiserId(advertiserId).setName("Campaign " + id)
        .setPricing(pricing).setBidMicros(bidMicros).setDailyBudgetMicros(budgetMicros).setPacing(Pacing.ASAP);
    for (String adId : adIds) {
      b.addAds(Ad.newBuilder().setAdId(adId).setTitle("Hotel " + adId).setHotelId("h-" + adId)
          .setStarRating(4).setReviewScore(8.5).setNightlyPriceMicros(120_000_000L));
    }
    return b;
  }

  public static BidRequest.Builder bid(String requestId, String destination, Device device, int slots) {
    return BidRequest.newBuilder().setRequestId(requestId).setUserId("user-" + requestId)
        .setDestination(destination).setDevice(device).setPlacement(Placement.SEARCH_RESULTS)
        .setSlots(slots).setTmaxMs(100).setCheckin("2027-03-01").setNights(2);
  }
}
