package dev.adengine.engine.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.api.v1.Placement;
import dev.adengine.engine.auction.Auction;
import dev.adengine.engine.auction.BidHandler;
import dev.adengine.engine.auction.BidQuery;
import dev.adengine.engine.auction.OnlineStats;
import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.catalog.Catalog;
import dev.adengine.engine.events.ServedAds;
import dev.adengine.engine.experiment.ServingExperiments;
import dev.adengine.engine.features.FeatureStore;
import dev.adengine.engine.grpc.Validation;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.engine.ranking.RankingPool;
import dev.adengine.engine.sim.Market;
import dev.adengine.engine.sim.RequestGenerator;
import dev.adengine.models.drift.DriftReport;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.persistence.ChargeRepository;
import dev.adengine.persistence.FeatureLogRepository;
import dev.adengine.persistence.ServedRepository;
import dev.adengine.persistence.StatementBatcher;
import dev.adengine.persistence.testing.CassandraTestNode;
import dev.adengine.engine.testing.ServingFixture;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Drift through the real serving path: the bid handler serves simulator requests and hands them to
 * the feature log (written to Cassandra), the model's reference distributions are fitted on the
 * rows read back from the log, exactly as the retraining pipeline fits them, and a drift monitor
 * then watches new traffic. Traffic with the same mix drifts nowhere; traffic whose device mix is
 * shifted (55% to 90% mobile) drifts in exactly the device feature that changed.
 *
 * <p>Online features are held still (no events reach this handler, so every candidate's decayed
 * counts stay zero): on a live node they grow with traffic, which is drift too, but not the one
 * this test isolates.
 */
class DriftTest {
  private static final int REQUESTS = 4_000;
  private static final double THRESHOLD = 0.2;
  private static CqlSession session;
  private static FeatureLogRepository logRepo;
  private static ServedAds served;
  private static Catalog catalog;
  private static BudgetLedger ledger;
  private static Market market;
  private static ModelHolder models;
  private static RankingPool ranking;
  private static LocalDate today;

  @BeforeAll
  static void setUp() throws Exception {
    session = CassandraTestNode.freshKeyspace("drift_test");
    String ks = CassandraTestNode.keyspaceOf(session);
    logRepo = new FeatureLogRepository(session, ks);
    served = new ServedAds(new ServedRepository(session, ks), new ChargeRepository(session, ks),
        new StatementBatcher(session, Duration.ofMillis(5), 10, ConsistencyLevel.LOCAL_QUORUM), 10_000, 256);
    today = LocalDate.now(ZoneOffset.UTC);
    ServingFixture f = ServingFixture.of(300, today);
    market = f.market();
    catalog = f.catalog();
    ledger = f.ledger();
    models = new ModelHolder(ModelHolder.load(""));
    ranking = RankingPool.inline(new RankingPool.Settings(0, 20, 16, 0, 1.0), models);
  }

  @AfterAll
  static void tearDown() {
    CassandraTestNode.dropKeyspace(session);
  }

  /** Serves {@code n} requests of {@code mix} through a handler logging to {@code writer}; waits until all are written. */
  private static void serve(FeatureLogWriter writer, RequestGenerator.Mix mix, long seed, int n) {
    BidHandler handler = new BidHandler(new BidHandler.Settings(Map.of(Placement.SEARCH_RESULTS, 0L), 1.0, 0.0,
        Auction.Type.GSP, Duration.ofMinutes(30), Duration.ofMinutes(1), Duration.ofMillis(15), "drift-node",
        "default", "control"), catalog, ledger, new OnlineStats(), new FeatureStore(), ranking,
        new ServingExperiments(64), served, writer, new ModelHealth(models.current().version(), 0),
        Clock.systemUTC());
    RequestGenerator gen = new RequestGenerator(market.destinations(), seed, today, "drift" + seed, 10_000, 1_000,
        0.0, mix);
    for (int i = 0; i < n; i++) {
      BidQuery q = Validation.bid(gen.next().request(), 1_000);
      handler.handle(q).toCompletableFuture().join();
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      FeatureLogWriter.Stats s = writer.stats();
      if (s.written() + s.dropped() >= s.captured()) {
        assertEquals(0, s.dropped(), "feature-log records dropped: " + s);
        return;
      }
      assertTrue(System.nanoTime() < deadline, "feature log not flushed: " + s);
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  private static FeatureLogWriter writer(DriftMonitor drift) {
    return new FeatureLogWriter(new FeatureLogWriter.Settings(true, 8_192, 256, 1_024, 1.0, 0,
        FeatureLogWriter.Candidates.AUCTION, Duration.ofMinutes(1)), FeatureLogWriter.Store.of(logRepo), "drift-node",
        drift, null);
  }

  private static DriftMonitor monitor() {
    return new DriftMonitor(new DriftMonitor.Settings(Duration.ofMinutes(30), 10, 5_000, THRESHOLD));
  }

  @Test
  void shouldRaiseThePsiOfExactlyTheShiftedFeatureWhenTheTrafficMixShifts() {
    CtrModel model = models.current();

    // given reference distributions fitted on logged rows of the default mix, as the pipeline fits them
    long from = System.currentTimeMillis();
    DriftMonitor ignored = monitor();
    try (FeatureLogWriter w = writer(ignored)) {
      serve(w, RequestGenerator.Mix.DEFAULT, 1, REQUESTS);
    }
    long to = System.currentTimeMillis() + 1;
    List<FeatureLogRepository.LoggedRequest> logged = logRepo.read(from, to).toCompletableFuture().join();
    assertEquals(REQUESTS, logged.size(), "logged requests read back");
    double[][] rows = TrainingData.scoredRows(logged, 200_000);
    var reference = ModelTraining.reference(model, rows, rows.length);

    // when new traffic of the same mix is monitored
    DriftMonitor same = monitor();
    same.reference(model.version(), reference);
    try (FeatureLogWriter w = writer(same)) {
      serve(w, RequestGenerator.Mix.DEFAULT, 2, REQUESTS);
    }
    DriftMonitor.Status stable = same.status(model.version(), System.currentTimeMillis());
    print("same mix", stable);

    // and traffic whose device mix moved from 55% to 90% mobile
    DriftMonitor shifted = monitor();
    shifted.reference(model.version(), reference);
    try (FeatureLogWriter w = writer(shifted)) {
      serve(w, new RequestGenerator.Mix(0.90, 0.08, 0.02), 3, REQUESTS);
    }
    DriftMonitor.Status moved = shifted.status(model.version(), System.currentTimeMillis());
    print("shifted device mix", moved);

    // then the same mix drifts nowhere, and the shifted one exactly in "mobile"
    assertTrue(stable.report().rows() >= 5_000, "rows monitored: " + stable.report().rows());
    assertEquals(List.of(), stable.drifted(), "drifted features under the same mix");
    assertEquals(List.of("mobile"), moved.drifted(), "drifted features under the shifted mix");
    assertTrue(moved.report().featurePsi().get("mobile") > 0.25, "PSI of mobile: "
        + moved.report().featurePsi().get("mobile"));
  }

  private static void print(String what, DriftMonitor.Status s) {
    DriftReport r = s.report();
    List<String> top = new ArrayList<>();
    r.featurePsi().entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(5)
        .forEach(e -> top.add(String.format(java.util.Locale.ROOT, "%s %.4f", e.getKey(), e.getValue())));
    System.out.printf(java.util.Locale.ROOT, "%s: %d rows, score PSI %.4f, highest feature PSI %s, drifted %s%n",
        what, r.rows(), r.scorePsi(), top, s.drifted());
  }
}
