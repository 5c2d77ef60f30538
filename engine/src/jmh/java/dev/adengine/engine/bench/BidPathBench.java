package dev.adengine.engine.bench;

import dev.adengine.api.v1.Placement;
import dev.adengine.engine.auction.Auction;
import dev.adengine.engine.auction.BidHandler;
import dev.adengine.engine.auction.BidQuery;
import dev.adengine.engine.auction.OnlineStats;
import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.catalog.Catalog;
import dev.adengine.engine.experiment.ServingExperiments;
import dev.adengine.engine.features.FeatureStore;
import dev.adengine.engine.lifecycle.FeatureLogWriter;
import dev.adengine.engine.lifecycle.ModelHealth;
import dev.adengine.engine.grpc.Validation;
import dev.adengine.engine.testing.ServingFixture;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.engine.ranking.RankingPool;
import dev.adengine.engine.sim.Market;
import dev.adengine.engine.sim.MarketGenerator;
import dev.adengine.engine.sim.RequestGenerator;
import dev.adengine.models.scoring.CtrModel;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The pure part of the bid path for one request, on one thread: retrieval from a real catalog
 * snapshot of the simulator's 1,000-campaign market, two-stage ranking with the bundled model
 * (logistic regression on every candidate, boosted trees on the top K, stage 2 inline so the
 * figure is CPU, not a thread hop; {@code stage2=scalar} on the {@code FlatForest},
 * {@code compiled} on the generated {@code RankForest} a node serves once compiled) and the auction. Budget reservation and served records are not
 * included (the ledger is benchmarked on its own). Requests come from the simulator's generator;
 * the setup prints the mean candidate count. {@code candidates=200} keeps requests with 150 to 250
 * candidate ads (about 200 on average); {@code all} keeps every request (popular destinations have
 * over a thousand).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class BidPathBench {
  @Param({"200", "all"})
  public String candidates;

  @Param({"64"})
  public int topK;

  /** Stage 2 on the scalar {@code FlatForest} or on the compiled {@code RankForest} (the node's default). */
  @Param({"scalar", "compiled"})
  public String stage2;

  /**
   * {@code warm}: requests back to back, so the market's objects a request reads stay in the CPU's
   * caches from one request to the next (as they do not on a node sharing its cores with Cassandra,
   * the load generator and its own transport). {@code cold}: before each request (not timed) this
   * thread reads {@link #EVICT_BYTES} of other memory, so that the request finds the market's
   * objects, the model's tables and its own compiled code in main memory, as a node's request
   * mostly does: the difference is what the memory layout of what a request reads costs it.
   */
  @Param({"warm", "cold"})
  public String caches;

  /** Read before each {@code cold} request: more than the last-level cache of the machines here. */
  static final int EVICT_BYTES = 64 << 20;

  private BidHandler handler;
  private BidQuery[] queries;
  private int next;
  private long[] evict;
  private long evictSum;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    ServingFixture f = ServingFixture.of(MarketGenerator.DEFAULT_CAMPAIGNS, today);
    Market market = f.market();
    Catalog catalog = f.catalog();
    BudgetLedger ledger = f.ledger();
    CtrModel model = ModelHolder.load("");
    if (stage2.equals("compiled")) {
      model = model.withCompiledStage2();
      if (!model.stage2Vectorized()) {
        throw new IllegalStateException("stage 2 did not compile: " + model.stage2Path());
      }
    }
    // Every ad with impressions and some clicks seen, as on a node that has served for a while: the
    // bid path reads each candidate's counts, and a lookup that finds an entry costs more than a miss.
    OnlineStats stats = new OnlineStats();
    java.util.SplittableRandom random = new java.util.SplittableRandom(3);
    for (var e : catalog.current().campaigns().values()) {
      for (var ad : e.def().ads()) {
        for (int i = 1 + random.nextInt(3); i > 0; i--) {
          stats.impression(ad.adId());
        }
        if (random.nextInt(10) == 0) {
          stats.click(ad.adId());
        }
      }
    }
    RankingPool ranking = RankingPool.inline(new RankingPool.Settings(0, topK, 64, 0, 1.0), new ModelHolder(model));
    handler = new BidHandler(new BidHandler.Settings(Map.of(Placement.SEARCH_RESULTS, 10_000L), 1.0, 0.0,
        Auction.Type.GSP, Duration.ofMinutes(30), Duration.ofMinutes(1), Duration.ofMillis(15), "bench",
        "default", "control"),
        catalog, ledger, stats, new FeatureStore(), ranking,
        new ServingExperiments(1_024), null,
        new FeatureLogWriter(FeatureLogWriter.Settings.disabled(), null, "bench", null, null),
        new ModelHealth("bench", 0),
        Clock.systemUTC());
    RequestGenerator gen = new RequestGenerator(market.destinations(), 99, today, "bench");
    List<BidQuery> list = new ArrayList<>();
    long total = 0;
    while (list.size() < 2_048) {
      BidQuery q = Validation.bid(gen.next().request(), 1_000);
      BidHandler.Plan plan = handler.plan(q).toCompletableFuture().join();
      if (candidates.equals("200") && (plan.candidates() < 150 || plan.candidates() > 250)) {
        continue;
      }
      list.add(q);
      total += plan.candidates();
    }
    queries = list.toArray(new BidQuery[0]);
    evict = caches.equals("cold") ? new long[EVICT_BYTES / Long.BYTES] : null;
    System.out.printf("%n[bidpath] %d requests, mean %.1f candidates (ads) per request%n", queries.length,
        (double) total / queries.length);
  }

  /** For {@code cold}: reads a word of every cache line of {@link #evict} (and keeps the sum, so the reads stay). */
  @Setup(Level.Invocation)
  public void evictCaches() {
    if (evict == null) {
      return;
    }
    long sum = evictSum;
    for (int i = 0; i < evict.length; i += 8) {
      sum += evict[i];
    }
    evict[(int) (sum & 7)] = sum;
    evictSum = sum;
  }

  @Benchmark
  public BidHandler.Plan retrieveRankAuction() {
    BidQuery q = queries[next++ & (queries.length - 1)];
    return handler.plan(q).toCompletableFuture().join();
  }
}
