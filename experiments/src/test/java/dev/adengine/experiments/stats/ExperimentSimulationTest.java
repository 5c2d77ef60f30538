package dev.adengine.experiments.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.experiments.ArmDef;
import dev.adengine.experiments.ArmParams;
import dev.adengine.experiments.Assigner;
import dev.adengine.experiments.ExperimentConfig;
import dev.adengine.experiments.ExperimentDef;
import dev.adengine.experiments.Holdout;
import dev.adengine.experiments.Layer;
import dev.adengine.experiments.LayerAssignment;
import dev.adengine.experiments.stats.ExperimentReport.ArmReport;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The report against a ground truth ({@link AuctionSimulator}): users assigned by the real {@link
 * Assigner}, outcomes recorded per arm in {@link ArmStats}, the report computed as the engine
 * will. Seeds are fixed, so each test gives the same answer on every run; the bounds are set so a
 * correct test passes with room, and a test that is biased or blind fails.
 */
class ExperimentSimulationTest {

  /** log-sd of the CTR estimate: the production ranking, and a truly better one. */
  private static final double NOISE_CONTROL = 1.2;
  private static final double NOISE_BETTER = 0.3;

  private record Outcome(ExperimentReport report, int holdout) {}

  /** Runs one experiment (50/50, 5 % holdout) on {@code users} users, 1-3 requests each. */
  private static Outcome run(long seed, int users, double controlNoise, double treatmentNoise) {
    ExperimentConfig config = ExperimentConfig.EMPTY.withHoldout(new Holdout(500, "holdout-" + seed))
        .withLayer(new Layer("ranking", "layer-" + seed))
        .create("x", "ranking", "experiment-" + seed, 10_000, List.of(
            ArmDef.of("control", 5000, true, ArmParams.DEFAULTS.withModelVersion("prod")),
            ArmDef.of("treatment", 5000, false, ArmParams.DEFAULTS.withModelVersion("candidate"))))
        .start("x");
    Assigner assigner = Assigner.of(config);
    Map<String, ArmStats.Recorder> recorders = new HashMap<>();
    recorders.put("control", ArmStats.recorder());
    recorders.put("treatment", ArmStats.recorder());
    AuctionSimulator auction = new AuctionSimulator(seed);
    Random visits = new Random(seed * 31 + 7);
    int holdout = 0;
    for (int u = 0; u < users; u++) {
      String user = "s" + seed + "-user-" + u;
      int requests = 1 + visits.nextInt(3);
      for (int r = 0; r < requests; r++) {
        LayerAssignment a = assigner.assign(user).layer(0);
        if (!a.inExperiment()) {
          holdout++;
          continue;
        }
        auction.serve(user, a.arm().equals("control") ? controlNoise : treatmentNoise, recorders.get(a.arm()));
      }
    }
    ExperimentDef def = config.experiment("x").orElseThrow();
    Map<String, ArmStats> stats = new HashMap<>();
    recorders.forEach((arm, rec) -> stats.put(arm, rec.snapshot()));
    return new Outcome(ExperimentReport.of(def, stats), holdout);
  }

  @Test
  void shouldRejectNearTheNominalRateWhenBothArmsAreTheSame() {
    // given 400 A/A experiments (different salts and outcome seeds), 5,000 users each
    int runs = 400;
    int ctrRejections = 0;
    int revenueRejections = 0;
    int mismatches = 0;
    int requestMismatches = 0;
    long[] ctrDeciles = new long[10];
    long[] revenueDeciles = new long[10];
    for (int seed = 1; seed <= runs; seed++) {
      ExperimentReport report = run(seed, 5_000, NOISE_CONTROL, NOISE_CONTROL).report();
      ArmReport t = report.arm("treatment");
      ctrRejections += t.ctr().significant() ? 1 : 0;
      revenueRejections += t.revenuePerRequest().significant() ? 1 : 0;
      mismatches += report.sampleRatio().mismatch() ? 1 : 0;
      long[] requests = {report.arm("control").requests(), report.arm("treatment").requests()};
      requestMismatches += SignificanceTests.goodnessOfFit(requests, new double[] {1, 1}).pValue() < 0.001 ? 1 : 0;
      ctrDeciles[Math.min(9, (int) (t.ctr().pValue() * 10))]++;
      revenueDeciles[Math.min(9, (int) (t.revenuePerRequest().pValue() * 10))]++;
    }

    // then each test rejects about 5 % of the time: the count is inside the central 99.98 % of
    // Binomial(400, 0.05), about [6, 37]: a test at the wrong level (1 % or 15 %) falls outside
    assertPlausibleBinomial(ctrRejections, runs, 0.05, "CTR false positives");
    assertPlausibleBinomial(revenueRejections, runs, 0.05, "revenue/request false positives");
    assertEquals("users", run(1, 5_000, NOISE_CONTROL, NOISE_CONTROL).report().sampleRatio().unit());
    assertPlausibleBinomial(mismatches, runs, 0.001, "sample ratio mismatches");
    // while the same check on request counts would raise false alarms (users come back 1-3 times)
    assertTrue(requestMismatches >= 8, "request-count SRM alarms: " + requestMismatches);
    // and the p-values are uniform (chi-square over deciles)
    double uniformCtr = SignificanceTests.goodnessOfFit(ctrDeciles, uniform(10)).pValue();
    double uniformRevenue = SignificanceTests.goodnessOfFit(revenueDeciles, uniform(10)).pValue();
    assertTrue(uniformCtr > 0.001, "CTR p-values not uniform: " + java.util.Arrays.toString(ctrDeciles));
    assertTrue(uniformRevenue > 0.001, "revenue p-values not uniform: " + java.util.Arrays.toString(revenueDeciles));
  }

  @Test
  void shouldFindASignificantLiftForTheBetterArmWhenItsRankingIsTrulyBetter() {
    // given the ground truth: ranking with less noise earns more per request, with a higher CTR
    double[] control = trueMeans(NOISE_CONTROL);
    double[] better = trueMeans(NOISE_BETTER);
    assertTrue(better[0] > control[0] * 1.08 && better[1] > control[1] * 1.08,
        "the simulator's better arm must be better: " + java.util.Arrays.toString(control) + " "
            + java.util.Arrays.toString(better));

    for (int seed = 1; seed <= 10; seed++) {
      // when the better ranking is the treatment, and then the control
      Outcome forward = run(1000 + seed, 100_000, NOISE_CONTROL, NOISE_BETTER);
      Outcome backward = run(2000 + seed, 100_000, NOISE_BETTER, NOISE_CONTROL);

      // then the report finds it, in the right direction, every time
      ArmReport f = forward.report().arm("treatment");
      assertTrue(f.ctr().significant() && f.ctr().ciLow() > 0, "seed " + seed + "\n" + forward.report().render());
      assertTrue(f.revenuePerRequest().significant() && f.revenuePerRequest().ciLow() > 0,
          "seed " + seed + "\n" + forward.report().render());
      ArmReport b = backward.report().arm("treatment");
      assertTrue(b.ctr().significant() && b.ctr().ciHigh() < 0, "seed " + seed + "\n" + backward.report().render());
      assertTrue(b.revenuePerRequest().significant() && b.revenuePerRequest().ciHigh() < 0,
          "seed " + seed + "\n" + backward.report().render());
      assertTrue(!forward.report().sampleRatio().mismatch() && !backward.report().sampleRatio().mismatch());
      assertTrue(forward.holdout() > 0);
    }
  }

  @Test
  void shouldFlagAMismatchWhenOneArmLosesSomeOfItsUsers() {
    // given a correct run, then the same stats with the data of 5 % of the treatment's users lost
    ExperimentReport good = run(77, 60_000, NOISE_CONTROL, NOISE_CONTROL).report();
    ArmStats treatment = good.arm("treatment").stats();
    UserSample users = treatment.users();
    long[] kept = java.util.Arrays.stream(users.hashes()).filter(h -> Math.floorMod(h, 100) >= 5).toArray();
    ArmStats lossy = ArmStats.of(Math.round(treatment.requests() * 0.95), Math.round(treatment.filledRequests() * 0.95),
        treatment.impressions(), treatment.clicks(), treatment.revenueMicros(), treatment.revenueSquares(),
        treatment.spendMicros(), treatment.latencyHistogram(), UserSample.of(users.level(), users.capacity(), kept));
    ExperimentDef def = ExperimentReportTest.experiment(5000);

    ExperimentReport bad = ExperimentReport.of(def, Map.of("control", good.arm("control").stats(), "v8", lossy));

    assertTrue(!good.sampleRatio().mismatch(), good.render());
    assertTrue(bad.sampleRatio().mismatch(), bad.render());
  }

  /** Expected revenue per request (micros) and CTR of an arm, by a long run of the simulator. */
  private static double[] trueMeans(double noise) {
    ArmStats.Recorder r = ArmStats.recorder();
    AuctionSimulator sim = new AuctionSimulator(424242);
    for (int i = 0; i < 1_000_000; i++) {
      sim.serve("user-" + i, noise, r);
    }
    ArmStats s = r.snapshot();
    return new double[] {s.revenuePerRequestMicros(), s.ctr()};
  }

  private static double[] uniform(int n) {
    double[] shares = new double[n];
    java.util.Arrays.fill(shares, 1);
    return shares;
  }

  /** Fails when {@code k} is in either tail of Binomial(n, p) with probability below 1e-4. */
  private static void assertPlausibleBinomial(int k, int n, double p, String what) {
    double atMost = k == n ? 1 : Distributions.regularizedBeta(1 - p, n - k, k + 1.0); // P(X <= k)
    double atLeast = k == 0 ? 1 : Distributions.regularizedBeta(p, k, n - k + 1.0); // P(X >= k)
    assertTrue(atMost > 1e-4 && atLeast > 1e-4, what + ": " + k + " of " + n + " (expected " + n * p
        + "), P(X <= k) = " + atMost + ", P(X >= k) = " + atLeast);
  }
}
