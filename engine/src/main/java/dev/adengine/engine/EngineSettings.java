package dev.adengine.engine;

import com.typesafe.config.Config;
import dev.adengine.engine.auction.Auction;
import dev.adengine.engine.ranking.RankingPool;
import dev.adengine.api.v1.Placement;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** Every engine timeout and limit, read once from the {@code adengine} config block. */
public record EngineSettings(
    /** Configured node name, or empty for the node's remoting address. */
    String nodeId,
    String grpcInterface,
    int grpcPort,
    String cassandraHost,
    int cassandraPort,
    String cassandraDatacenter,
    String keyspace,
    int replicationFactor,
    int maxTmaxMs,
    Map<Placement, Long> placementFloors,
    double pctrAlpha,
    /** Rank-score quality factor: (review / 10)^qualityWeight; 0 = off. */
    double qualityWeight,
    Auction.Type auctionType,
    /** Ranking answers with what it has this long before tmax. */
    Duration replyMargin,
    RankingPool.Settings ranking,
    /** A CtrModel file, or empty for the model bundled in the jar. */
    String modelPath,
    /** CtrModel files loaded beside the active model, for experiment arms that name their versions. */
    List<String> armModelPaths,
    /** Whether stage 2 is compiled to vector code in the background (ModelHolder.compileInBackground). */
    boolean vectorStage2,
    /** Where the compiled stage 2's generated classes are kept across restarts; empty: nowhere. */
    String stage2ClassCache,
    /** How long a starting node stays unready while its compiled stage 2 is built; then it serves scalar. */
    Duration stage2ReadyWait,
    /** The longest the compiled stage 2's build may take; past it the node stays on the scalar path. */
    Duration stage2BuildBudget,
    Duration catalogResync,
    Duration catalogCoalesce,
    double refillBelow,
    double grantShare,
    Duration keeperInterval,
    Duration reportInterval,
    /** The longest wait after asks for allowance that got nothing. */
    Duration askBackoffMax,
    Duration askTimeout,
    Duration clickWindow,
    Duration clickGrace,
    Duration lease,
    Duration settleInterval,
    Duration idleAfter,
    /** EVEN pacing: how far ahead of the traffic curve grants may run. */
    Duration pacingLookahead,
    /** EVEN pacing: slack on top of the curve, as a share of it. */
    double pacingHeadroom,
    int maxEventBatch,
    List<Duration> servedRetryDelays,
    int servedLocalCapacity,
    int servedWriteMaxInFlight,
    /** How long a served record may wait to be written with others (0: each request's on its own). */
    Duration servedWriteLinger,
    /** The most statements (served ads and charges) in one batch to Cassandra. */
    int servedWriteBatchStatements,
    Duration snapshotInterval,
    Duration featureHalfLife,
    Duration snapshotStaleAfter,
    Experiments experiments) {

  /**
   * The {@code adengine.experiments} block.
   *
   * @param defaultExperimentId the experiment id responses carry for users in no experiment (the
   *     engine's former single default experiment, kept as the label of unexperimented traffic)
   * @param defaultArm the arm those responses carry
   * @param configName the name under which the experiment config's versions are stored
   * @param writeTimeout how long a new config version's {@code WriteAll} waits for every node
   * @param resync how often each node re-reads the latest config from Cassandra
   * @param statsInterval how often each node publishes its per-arm stats
   * @param userSampleCapacity distinct users sampled per arm per node (for the sample-ratio check)
   */
  public record Experiments(String defaultExperimentId, String defaultArm, String configName, Duration writeTimeout,
      Duration resync, Duration statsInterval, int userSampleCapacity) {}

  public static EngineSettings from(Config root) {
    Config c = root.getConfig("adengine");
    String nodeId = c.getString("node-id");
    Map<Placement, Long> floors = new EnumMap<>(Placement.class);
    Config f = c.getConfig("bid.placement-floor-micros");
    for (String key : f.root().keySet()) {
      floors.put(Placement.valueOf(key), f.getLong(key));
    }
    Config x = c.getConfig("experiments");
    Config e = x.getConfig("default");
    List<? extends Config> arms = e.getConfigList("arms");
    if (arms.size() != 1) {
      // The former single experiment could split users; experiments are now made through the admin
      // API (ExperimentConfig), and this block only labels traffic that is in no experiment.
      throw new IllegalArgumentException("adengine.experiments.default.arms: exactly one arm (the label of traffic"
          + " in no experiment), got " + arms.size() + "; create experiments through the admin API");
    }
    return new EngineSettings(
        nodeId,
        c.getString("grpc.interface"),
        c.getInt("grpc.port"),
        c.getString("cassandra.host"),
        c.getInt("cassandra.port"),
        c.getString("cassandra.local-datacenter"),
        c.getString("cassandra.keyspace"),
        c.getInt("cassandra.replication-factor"),
        (int) c.getDuration("bid.max-tmax").toMillis(),
        Map.copyOf(floors),
        c.getDouble("bid.pctr-alpha"),
        c.getDouble("bid.quality-weight"),
        Auction.Type.valueOf(c.getString("bid.auction-type")),
        c.getDuration("bid.reply-margin"),
        new RankingPool.Settings(c.getInt("ranking.workers"), c.getInt("ranking.top-k"),
            c.getInt("ranking.batch-size"), c.getInt("ranking.fan-out-min"), c.getDouble("bid.pctr-alpha")),
        c.getString("ranking.model"),
        List.copyOf(c.getStringList("ranking.arm-models")),
        c.getBoolean("ranking.vector-stage2"),
        c.getString("ranking.stage2-class-cache"),
        c.getDuration("ranking.stage2-ready-wait"),
        c.getDuration("ranking.stage2-build-budget"),
        c.getDuration("catalog.resync-interval"),
        c.getDuration("catalog.coalesce"),
        c.getDouble("budget.refill-below"),
        c.getDouble("budget.grant-share"),
        c.getDuration("budget.keeper-interval"),
        c.getDuration("budget.report-interval"),
        c.getDuration("budget.ask-backoff-max"),
        c.getDuration("budget.ask-timeout"),
        c.getDuration("budget.click-window"),
        c.getDuration("budget.click-grace"),
        c.getDuration("budget.lease"),
        c.getDuration("budget.settle-interval"),
        c.getDuration("budget.idle-after"),
        c.getDuration("budget.pacing.lookahead"),
        c.getDouble("budget.pacing.headroom"),
        c.getInt("events.max-batch"),
        c.getDurationList("events.served-retry-delays"),
        c.getInt("served.local-capacity"),
        c.getInt("served.write-max-in-flight"),
        c.getDuration("served.write-linger"),
        c.getInt("served.write-batch-statements"),
        c.getDuration("features.publish-interval"),
        c.getDuration("features.half-life"),
        c.getDuration("features.stale-after"),
        new Experiments(e.getString("id"), arms.get(0).getString("name"), x.getString("config-name"),
            x.getDuration("write-timeout"), x.getDuration("resync-interval"), x.getDuration("stats-interval"),
            x.getInt("user-sample-capacity")));
  }
}
