package dev.adengine.experiments.stats;

import dev.adengine.experiments.ArmDef;
import dev.adengine.experiments.ExperimentDef;
import dev.adengine.experiments.stats.SignificanceTests.ChiSquare;
import dev.adengine.experiments.stats.SignificanceTests.MeanTest;
import dev.adengine.experiments.stats.SignificanceTests.ProportionTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Did an arm help? Every arm against the control: CTR and fill rate by the two-proportion z-test,
 * revenue per request by Welch's t-test (lift, confidence interval of the difference, two-sided
 * p-value), plus spend and latency p99; and a sample-ratio-mismatch check over all arms.
 *
 * <p>Sample ratio mismatch: Pearson's chi-square of the users per arm against the configured
 * split; flagged when {@code p < srmThreshold} (0.001 by default). Users, not requests, because
 * users are what is randomized: request counts of users who come back several times are
 * over-dispersed (an A/A simulation with 1-3 requests per user flagged 15 of 400 runs at p <
 * 0.001 when counting requests), and a treatment that changes how often users return would look
 * like a broken split. The users are each arm's {@link UserSample}, compared at their common
 * sampling level; if no arm sampled any user, requests are counted and the report says so. A flagged experiment's
 * comparisons are not to be trusted: users were lost or double-counted somewhere (a bug in
 * assignment or logging, a crash that dropped one arm's stats, a resplit inside the window).
 *
 * <p>What the tests assume: each request (CTR: each impression) is an independent draw. Users
 * are randomized, not requests, so users with many requests make the intervals somewhat too
 * narrow; the per-user (delta-method) analysis is not done here. Each arm is compared with the
 * control at the nominal level, with no correction for several arms.
 */
public record ExperimentReport(String experimentId, String controlArm, List<ArmReport> arms, SampleRatio sampleRatio,
    double confidence) {

  /** 95 % intervals, two-sided tests at 5 %. */
  public static final double DEFAULT_CONFIDENCE = 0.95;
  /** SRM is flagged below this p-value. */
  public static final double DEFAULT_SRM_THRESHOLD = 0.001;

  public ExperimentReport {
    arms = List.copyOf(arms);
  }

  /**
   * One arm. For the control the tests are null.
   *
   * @param configuredBasisPoints the arm's share of the experiment
   */
  public record ArmReport(String arm, boolean control, int configuredBasisPoints, ArmStats stats,
      ProportionTest ctr, ProportionTest fillRate, MeanTest revenuePerRequest) {

    public long requests() {
      return stats.requests();
    }

    public long spendMicros() {
      return stats.spendMicros();
    }

    public long latencyP99Micros() {
      return stats.latencyP99Micros();
    }
  }

  /**
   * Units ({@code unit}: sampled users, or requests) observed and expected per arm, in arm order;
   * the chi-square and whether it flags.
   */
  public record SampleRatio(String unit, long[] observed, double[] expected, ChiSquare chiSquare, double threshold) {

    public boolean mismatch() {
      return !Double.isNaN(chiSquare.pValue()) && chiSquare.pValue() < threshold;
    }
  }

  /** The report at 95 % confidence, SRM flagged below p = 0.001. */
  public static ExperimentReport of(ExperimentDef experiment, Map<String, ArmStats> statsByArm) {
    return of(experiment, statsByArm, DEFAULT_CONFIDENCE, DEFAULT_SRM_THRESHOLD);
  }

  /**
   * @param statsByArm cluster-wide stats per arm name; a missing arm counts as empty
   */
  public static ExperimentReport of(ExperimentDef experiment, Map<String, ArmStats> statsByArm, double confidence,
      double srmThreshold) {
    ArmDef controlDef = experiment.control();
    ArmStats control = statsByArm.getOrDefault(controlDef.name(), ArmStats.empty());
    List<ArmReport> reports = new ArrayList<>();
    int armCount = experiment.arms().size();
    double[] shares = new double[armCount];
    int level = 0;
    boolean usersSampled = false;
    for (ArmDef arm : experiment.arms()) {
      UserSample users = statsByArm.getOrDefault(arm.name(), ArmStats.empty()).users();
      level = Math.max(level, users.level());
      usersSampled |= users.size() > 0;
    }
    long[] observed = new long[armCount];
    for (int i = 0; i < armCount; i++) {
      ArmDef arm = experiment.arms().get(i);
      ArmStats s = statsByArm.getOrDefault(arm.name(), ArmStats.empty());
      observed[i] = usersSampled ? s.users().sizeAt(level) : s.requests();
      shares[i] = arm.basisPoints();
      if (arm.control()) {
        reports.add(new ArmReport(arm.name(), true, arm.basisPoints(), s, null, null, null));
        continue;
      }
      reports.add(new ArmReport(arm.name(), false, arm.basisPoints(), s,
          SignificanceTests.twoProportion(control.clicks(), control.impressions(), s.clicks(), s.impressions(),
              confidence),
          SignificanceTests.twoProportion(control.filledRequests(), control.requests(), s.filledRequests(),
              s.requests(), confidence),
          SignificanceTests.welch(control.revenueMoments(), s.revenueMoments(), confidence)));
    }
    ChiSquare chi = SignificanceTests.goodnessOfFit(observed, shares);
    double[] expected = new double[observed.length];
    long total = 0;
    for (long o : observed) {
      total += o;
    }
    for (int i = 0; i < expected.length; i++) {
      expected[i] = total * shares[i] / 10_000.0;
    }
    return new ExperimentReport(experiment.id(), controlDef.name(), reports,
        new SampleRatio(usersSampled ? (level == 0 ? "users" : "users (1/" + (1L << level) + " sample)") : "requests",
            observed, expected, chi, srmThreshold), confidence);
  }

  public ArmReport arm(String name) {
    return arms.stream().filter(a -> a.arm().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no arm " + name + " in " + experimentId));
  }

  /** A plain-text table for the CLI and logs; a figure without data (no traffic yet) prints "-". */
  public String render() {
    StringBuilder sb = new StringBuilder();
    int pct = (int) Math.round(confidence * 100);
    sb.append(String.format(Locale.ROOT, "experiment %s (control %s, %d%% intervals)%n", experimentId, controlArm,
        pct));
    sb.append(String.format(Locale.ROOT, "%-14s %10s %8s %11s %9s %9s %13s %12s %9s%n", "arm", "requests", "fill",
        "impressions", "clicks", "CTR", "rev/req", "spend", "p99 ms"));
    for (ArmReport a : arms) {
      ArmStats s = a.stats();
      sb.append(String.format(Locale.ROOT, "%-14s %10d %8s %11d %9d %9s %13s %12.2f %9s%n", a.arm(),
          s.requests(), num("%.4f", s.fillRate()), s.impressions(), s.clicks(), num("%.5f", s.ctr()),
          num("%.1f", s.revenuePerRequestMicros()), s.spendMicros() / 1e6,
          s.requests() == 0 ? "-" : num("%.1f", s.latencyP99Micros() / 1000.0)));
    }
    for (ArmReport a : arms) {
      if (a.control()) {
        continue;
      }
      ProportionTest c = a.ctr();
      MeanTest r = a.revenuePerRequest();
      ProportionTest f = a.fillRate();
      sb.append(String.format(Locale.ROOT, "%s vs %s:%n", a.arm(), controlArm));
      sb.append(String.format(Locale.ROOT, "  CTR          lift %s  diff %s  CI [%s, %s]  p %s%s%n",
          num("%+7.2f%%", 100 * c.relativeLift()), num("%+.5f", c.difference()), num("%+.5f", c.ciLow()),
          num("%+.5f", c.ciHigh()), num("%.4g", c.pValue()), c.significant() ? "  *" : ""));
      sb.append(String.format(Locale.ROOT,
          "  rev/request  lift %s  diff %s  CI [%s, %s] micros  t %s  df %s  p %s%s%n",
          num("%+7.2f%%", 100 * r.relativeLift()), num("%+.1f", r.difference()), num("%+.1f", r.ciLow()),
          num("%+.1f", r.ciHigh()), num("%.3f", r.t()), num("%.1f", r.df()), num("%.4g", r.pValue()),
          r.significant() ? "  *" : ""));
      sb.append(String.format(Locale.ROOT, "  fill rate    lift %s  diff %s  CI [%s, %s]  p %s%s%n",
          num("%+7.2f%%", 100 * f.relativeLift()), num("%+.5f", f.difference()), num("%+.5f", f.ciLow()),
          num("%+.5f", f.ciHigh()), num("%.4g", f.pValue()), f.significant() ? "  *" : ""));
    }
    ChiSquare chi = sampleRatio.chiSquare();
    sb.append(String.format(Locale.ROOT, "sample ratio (%s %s): chi-square %s, df %d, p %s%s%n",
        sampleRatio.unit(), Arrays.toString(sampleRatio.observed()), num("%.3f", chi.statistic()), chi.df(),
        num("%.4g", chi.pValue()), sampleRatio.mismatch() ? "  MISMATCH: do not trust the comparisons" : ""));
    return sb.toString();
  }

  /** {@code value} formatted, or "-" when there is none (NaN or infinite: no data yet). */
  static String num(String format, double value) {
    return Double.isFinite(value) ? String.format(Locale.ROOT, format, value) : "-";
  }
}
