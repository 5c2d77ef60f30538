package dev.adengine.models.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class DriftWindowTest {
  static final List<String> NAMES = List.of("mobile", "stars", "review", "log_price_ratio", "ad_ctr_logit");
  static final int ROWS = 20_000;
  static final long SLOT_MS = 10_000;
  static final int SLOTS = 12;
  static final long T0 = 1_700_000_000_000L;

  /** Independent features, one of each kind: a flag, small integers, continuous, and a mostly tied column. */
  record Traffic(double mobileRate, double priceScale) {
    static final Traffic NORMAL = new Traffic(0.3, 1);

    double[] row(SplittableRandom r) {
      double mobile = r.nextDouble() < mobileRate ? 1 : 0;
      double stars = 1 + r.nextInt(5);
      double review = Math.min(10, Math.max(0, 8 + r.nextGaussian()));
      double logPrice = priceScale * 0.4 * r.nextGaussian();
      double adCtr = r.nextDouble() < 0.6 ? -3.89 : -3.89 + 0.5 * r.nextGaussian();
      return new double[] {mobile, stars, review, logPrice, adCtr};
    }

    static double score(double[] x) {
      double z = -4.6 + 0.3 * x[0] + 0.2 * (x[1] - 3) + 0.1 * (x[2] - 8) - 0.5 * x[3] + 0.4 * (x[4] + 3.89);
      return 1 / (1 + Math.exp(-z));
    }
  }

  static ReferenceDistribution reference() {
    SplittableRandom r = new SplittableRandom(1);
    double[][] x = new double[ROWS][];
    double[] s = new double[ROWS];
    for (int i = 0; i < ROWS; i++) {
      x[i] = Traffic.NORMAL.row(r);
      s[i] = Traffic.score(x[i]);
    }
    return ReferenceDistribution.fit(NAMES, x, ROWS, s, 10);
  }

  /** {@code ROWS} rows of {@code traffic} spread over the window's last minute before {@code T0}. */
  static DriftWindow live(Traffic traffic) {
    DriftWindow w = new DriftWindow(reference(), SLOT_MS, SLOTS);
    SplittableRandom r = new SplittableRandom(2);
    for (int i = 0; i < ROWS; i++) {
      double[] x = traffic.row(r);
      w.add(x, Traffic.score(x), T0 - 60_000 + 3L * i);
    }
    return w;
  }

  static void assertStable(DriftReport report, String except) {
    for (Map.Entry<String, Double> e : report.featurePsi().entrySet()) {
      if (!e.getKey().equals(except)) {
        assertTrue(e.getValue() < Psi.MODERATE, e.getKey() + " " + report);
      }
    }
  }

  @Test
  void shouldReportEveryFeatureStableWhenLiveTrafficIsLikeTheReference() {
    // when
    DriftReport report = live(Traffic.NORMAL).report(T0, 1_000);

    // then
    assertEquals(ROWS, report.rows());
    assertEquals(NAMES, List.copyOf(report.featurePsi().keySet()));
    assertStable(report, "");
    assertTrue(report.scorePsi() < Psi.MODERATE, report.toString());
    assertEquals(List.of(), report.drifted(Psi.MODERATE));
  }

  @Test
  void shouldFlagOnlyTheFlagWhenTheMobileShareMovesFrom30To70Percent() {
    // when
    DriftReport report = live(new Traffic(0.7, 1)).report(T0, 1_000);

    // then: 2 x 0.4 x ln(0.7 / 0.3) = 0.68 expected
    assertEquals(List.of("mobile"), report.drifted(Psi.SIGNIFICANT));
    assertEquals(0.68, report.featurePsi().get("mobile"), 0.05);
    assertStable(report, "mobile");
  }

  @Test
  void shouldFlagOnlyThePriceWhenPricesSpreadTwiceAsWide() {
    // when
    DriftReport report = live(new Traffic(0.3, 2)).report(T0, 1_000);

    // then
    assertEquals(List.of("log_price_ratio"), report.drifted(Psi.SIGNIFICANT));
    assertStable(report, "log_price_ratio");
  }

  @Test
  void shouldForgetRowsWhenTheirSlotsLeaveTheWindow() {
    // given: 100 rows in the first 10 s slot, 50 a minute later
    DriftWindow w = new DriftWindow(reference(), SLOT_MS, SLOTS);
    double[] x = Traffic.NORMAL.row(new SplittableRandom(3));
    for (int i = 0; i < 100; i++) {
      w.add(x, 0.01, T0 + i);
    }
    for (int i = 0; i < 50; i++) {
      w.add(x, 0.01, T0 + 60_000 + i);
    }

    // when / then: all within the 2 min window; the first slot gone 2 min after it began
    assertEquals(150, w.report(T0 + 60_000, 0).rows());
    assertEquals(150, w.report(T0 + 119_999, 0).rows());
    assertEquals(50, w.report(T0 + 120_000, 0).rows());
    assertEquals(0, w.report(T0 + 60_000 + w.windowMillis() + SLOT_MS, 0).rows());
  }

  @Test
  void shouldClearASlotWhenTheRingComesRoundToItAgain() {
    // given: 100 rows at T0, then 30 in the same ring slot one window later
    DriftWindow w = new DriftWindow(reference(), SLOT_MS, SLOTS);
    double[] x = Traffic.NORMAL.row(new SplittableRandom(4));
    for (int i = 0; i < 100; i++) {
      w.add(x, 0.01, T0);
    }

    // when
    for (int i = 0; i < 30; i++) {
      w.add(x, 0.01, T0 + w.windowMillis());
    }

    // then
    assertEquals(30, w.report(T0 + w.windowMillis(), 0).rows());
  }

  @Test
  void shouldReportNoDriftWhenThereAreTooFewRows() {
    // given: traffic unlike the reference, but only 999 rows
    DriftWindow w = new DriftWindow(reference(), SLOT_MS, SLOTS);
    SplittableRandom r = new SplittableRandom(5);
    Traffic shifted = new Traffic(1.0, 3);
    for (int i = 0; i < 999; i++) {
      double[] x = shifted.row(r);
      w.add(x, Traffic.score(x), T0);
    }

    // when
    DriftReport report = w.report(T0, 1_000);

    // then
    assertEquals(999, report.rows());
    assertTrue(report.featurePsi().values().stream().allMatch(v -> v.isNaN()), report.toString());
    assertTrue(Double.isNaN(report.scorePsi()));
    assertEquals(List.of(), report.drifted(0));
    // one more row is enough
    double[] x = shifted.row(r);
    w.add(x, Traffic.score(x), T0);
    assertEquals(List.of("mobile", "log_price_ratio"), w.report(T0, 1_000).drifted(Psi.SIGNIFICANT));
  }

  @Test
  void shouldNeverReportMoreRowsThanTheWindowHoldsWhenReadWhileWritten() throws Exception {
    // given: a writer that moves one slot on every 5,000 rows through a ring of 4
    DriftWindow w = new DriftWindow(reference(), SLOT_MS, 4);
    AtomicLong clock = new AtomicLong(T0);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Long> seen = new ArrayList<>();
    Thread writer = new Thread(() -> {
      SplittableRandom r = new SplittableRandom(6);
      for (int i = 0; i < 200_000; i++) {
        long now = T0 + (i / 5_000) * SLOT_MS;
        clock.set(now);
        double[] x = Traffic.NORMAL.row(r);
        w.add(x, Traffic.score(x), now);
      }
    });
    writer.setUncaughtExceptionHandler((t, e) -> failure.set(e));

    // when: reports read at the writer's time, concurrently
    writer.start();
    while (writer.isAlive()) {
      DriftReport report = w.report(clock.get(), 1);
      seen.add(report.rows());
      if (report.rows() > 0) {
        assertTrue(report.featurePsi().values().stream().noneMatch(v -> v.isNaN() || v.isInfinite()),
            report.toString());
      }
    }
    writer.join();

    // then: at most four slots of 5,000; all 20,000 once the writer is done
    assertEquals(null, failure.get());
    assertTrue(seen.stream().allMatch(n -> n <= 20_000), "max " + seen.stream().mapToLong(n -> n).max());
    assertEquals(20_000, w.report(clock.get(), 1).rows());
  }
}
