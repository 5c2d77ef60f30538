package dev.adengine.engine.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalTime;
import org.junit.jupiter.api.Test;

class TrafficCurveTest {
  private final TrafficCurve curve = TrafficCurve.TRAVEL;

  @Test
  void shouldStartAtZeroAndEndAtOneWhenEvaluatedAtTheDaysEdges() {
    // given the travel curve

    // when
    double atMidnight = curve.cumulativeShare(LocalTime.MIDNIGHT);
    double atEnd = curve.cumulativeShare(24.0);
    double lastNano = curve.cumulativeShare(LocalTime.MAX);

    // then
    assertEquals(0.0, atMidnight);
    assertEquals(1.0, atEnd);
    assertEquals(1.0, lastNano, 1e-12);
    assertTrue(lastNano <= 1.0);
  }

  @Test
  void shouldSumHourlySharesToOneAndMatchTheCumulativeAtEveryHourWhenAddedUp() {
    // given
    double running = 0;

    for (int h = 0; h < 24; h++) {
      // then: the running total of the hourly shares is the cumulative share at the next hour
      assertTrue(curve.share(h) > 0, "hour " + h);
      running += curve.share(h);
      assertEquals(running, curve.cumulativeShare(h + 1.0), 1e-12, "hour " + (h + 1));
    }
    assertEquals(1.0, running, 1e-12);
  }

  @Test
  void shouldBeNonDecreasingAndContinuousWhenSampledEveryTenSeconds() {
    // given
    double previous = 0;
    double largestStep = 0;

    // when: every 10 s of the day
    for (int s = 10; s <= 86_400; s += 10) {
      double now = curve.cumulativeShare(s / 3600.0);
      // then
      assertTrue(now >= previous, "decreases at second " + s);
      largestStep = Math.max(largestStep, now - previous);
      previous = now;
    }

    // then: no jump larger than 10 s of the busiest hour's traffic
    double busiest = 0;
    for (int h = 0; h < 24; h++) {
      busiest = Math.max(busiest, curve.share(h));
    }
    assertTrue(largestStep <= busiest * 10 / 3600.0 + 1e-12, "step " + largestStep);
    assertEquals(1.0, previous, 1e-12);
  }

  @Test
  void shouldHaveANightTroughALunchBumpAndAnEveningPeakWhenShapedForTravelSearch() {
    // given
    int trough = 0;
    int peak = 0;
    for (int h = 0; h < 24; h++) {
      trough = curve.share(h) < curve.share(trough) ? h : trough;
      peak = curve.share(h) > curve.share(peak) ? h : peak;
    }

    // then
    assertTrue(trough >= 3 && trough <= 5, "trough at " + trough);
    assertTrue(peak >= 20 && peak <= 22, "peak at " + peak);
    assertTrue(curve.share(12) > curve.share(11) && curve.share(12) > curve.share(14), "lunchtime bump");
    assertTrue(curve.share(9) > curve.share(7) && curve.share(7) > curve.share(5), "morning rise");
    assertTrue(curve.cumulativeShare(LocalTime.of(6, 0)) < 0.12, "little traffic before 06:00");
  }

  @Test
  void shouldInterpolateLinearlyWhenInsideAnHour() {
    // given
    double start = curve.cumulativeShare(LocalTime.of(20, 0));

    // when
    double halfway = curve.cumulativeShare(LocalTime.of(20, 30));

    // then
    assertEquals(start + curve.share(20) / 2, halfway, 1e-12);
  }

  @Test
  void shouldRefuseWhenTheWeightsAreNotTwentyFourNonNegativeNumbers() {
    assertThrows(IllegalArgumentException.class, () -> new TrafficCurve(new double[23]));
    assertThrows(IllegalArgumentException.class, () -> new TrafficCurve(new double[24]));
    double[] negative = new double[24];
    java.util.Arrays.fill(negative, 1);
    negative[3] = -1;
    assertThrows(IllegalArgumentException.class, () -> new TrafficCurve(negative));
    assertThrows(IllegalArgumentException.class, () -> curve.share(24));
  }
}
