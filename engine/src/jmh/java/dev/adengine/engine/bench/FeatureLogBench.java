package dev.adengine.engine.bench;

import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.Placement;
import dev.adengine.api.v1.Winner;
import dev.adengine.engine.auction.Auction;
import dev.adengine.engine.auction.BidHandler;
import dev.adengine.engine.auction.BidQuery;
import dev.adengine.engine.auction.OnlineStats;
import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.catalog.Catalog;
import dev.adengine.engine.experiment.ServingExperiments;
import dev.adengine.engine.features.FeatureStore;
import dev.adengine.engine.grpc.Validation;
import dev.adengine.engine.testing.ServingFixture;
import dev.adengine.engine.lifecycle.DriftMonitor;
import dev.adengine.engine.lifecycle.FeatureLogWriter;
import dev.adengine.engine.lifecycle.ModelHealth;
import dev.adengine.engine.lifecycle.ModelTraining;
import dev.adengine.engine.lifecycle.TrainingData;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.engine.ranking.RankingPool;
import dev.adengine.engine.sim.Market;
import dev.adengine.engine.sim.MarketGenerator;
import dev.adengine.engine.sim.RequestGenerator;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.persistence.FeatureLogRepository.LoggedRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
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
import org.openjdk.jmh.annotations.TearDown;

/**
 * The feature log's cost per answered request, in its two halves: what the bid path adds (the
 * hand-over) and what the writer thread does off it (rows, drift, guardrail counts, shadow scores,
 * encoding). Requests as in {@link BidPathBench}: the simulator's market, about 200 candidate ads,
 * top K 50, each planned once in the setup (retrieval, ranking and the auction are not measured
 * here).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FeatureLogBench {
  @Param({"off", "on"})
  public String shadow;

  private BidHandler.Plan[] plans;
  private BidResponse[] responses;
  private FeatureLogWriter.Capture[] captures;
  private FeatureLogWriter writer;
  private ArrayBlockingQueue<FeatureLogWriter.Capture> queue;
  private Thread drain;
  private volatile boolean draining = true;
  private int next;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    ServingFixture f = ServingFixture.of(MarketGenerator.DEFAULT_CAMPAIGNS, today);
    Market market = f.market();
    Catalog catalog = f.catalog();
    BudgetLedger ledger = f.ledger();
    ModelHolder models = new ModelHolder(ModelHolder.load(""));
    CtrModel model = models.current();
    if (shadow.equals("on")) {
      models.setShadow(model); // the same trees: the cost of a second model's scores
    }
    RankingPool ranking = RankingPool.inline(new RankingPool.Settings(0, 50, 16, 0, 1.0), models);
    BidHandler handler = new BidHandler(new BidHandler.Settings(Map.of(Placement.SEARCH_RESULTS, 10_000L), 1.0,
        0.0, Auction.Type.GSP, Duration.ofMinutes(30), Duration.ofMinutes(1), Duration.ofMillis(15), "bench",
        "default", "control"), catalog, ledger, new OnlineStats(), new FeatureStore(), ranking,
        new ServingExperiments(1_024), null,
        new FeatureLogWriter(FeatureLogWriter.Settings.disabled(), null, "bench", null, null),
        new ModelHealth("bench", 0),
        Clock.systemUTC());
    RequestGenerator gen = new RequestGenerator(market.destinations(), 99, today, "bench");
    int n = 1_024;
    plans = new BidHandler.Plan[n];
    responses = new BidResponse[n];
    captures = new FeatureLogWriter.Capture[n];
    long now = System.currentTimeMillis();
    for (int i = 0; i < n; i++) {
      BidQuery q = Validation.bid(gen.next().request(), 1_000);
      plans[i] = handler.plan(q).toCompletableFuture().join();
      BidResponse.Builder r = BidResponse.newBuilder().setRequestId(q.requestId()).setModelVersion(model.version());
      int position = 0;
      for (Auction.Win w : plans[i].auction().winners()) {
        r.addWinners(Winner.newBuilder().setPosition(++position).setAdId(w.candidate().ad().adId())
            .setCampaignId(w.candidate().campaign().campaignId()).setPriceMicros(w.priceMicros()));
      }
      responses[i] = r.build();
      captures[i] = BidHandler.capture(plans[i], responses[i], now);
    }
    // the drift monitor compares with a reference fitted on these requests' rows, as the pipeline does
    FeatureLogWriter plain = new FeatureLogWriter(FeatureLogWriter.Settings.disabled(), null, "bench", null, null);
    List<LoggedRequest> logged = new ArrayList<>();
    for (FeatureLogWriter.Capture c : captures) {
      logged.add(plain.encode(c));
    }
    DriftMonitor drift = new DriftMonitor(new DriftMonitor.Settings(Duration.ofMinutes(10), 20, 2_000, 0.2));
    double[][] rows = TrainingData.scoredRows(logged, 50_000);
    drift.reference(model.version(), ModelTraining.reference(model, rows, rows.length));
    writer = new FeatureLogWriter(FeatureLogWriter.Settings.disabled(), null, "bench", drift,
        new ModelHealth(model.version(), now));
    queue = new ArrayBlockingQueue<>(4_096);
    drain = new Thread(() -> {
      while (draining) {
        try {
          queue.poll(10, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "bench-drain");
    drain.setDaemon(true);
    drain.start();
    long rowsPerRequest = 0;
    for (LoggedRequest r : logged) {
      rowsPerRequest += r.candidates().length;
    }
    System.out.printf("%n[featurelog] %d requests, %.1f KB encoded candidates per request%n", n,
        rowsPerRequest / 1024.0 / n);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws InterruptedException {
    draining = false;
    drain.join();
  }

  @Benchmark
  public boolean handOver() {
    int i = next++ & (plans.length - 1);
    return queue.offer(BidHandler.capture(plans[i], responses[i], System.currentTimeMillis()));
  }

  @Benchmark
  public LoggedRequest encode() {
    return writer.encode(captures[next++ & (captures.length - 1)]);
  }
}
