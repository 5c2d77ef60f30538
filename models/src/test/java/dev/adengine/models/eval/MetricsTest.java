package dev.adengine.models.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MetricsTest {

  @Test
  void shouldCountCorrectlyOrderedPairsWhenComputingTheAuc() {
    // given: positives at 0.9 and 0.4; negatives at 0.8, 0.3, 0.1 -> pairs (pos > neg): 0.9 beats 3, 0.4 beats 2
    double[] p = {0.9, 0.8, 0.4, 0.3, 0.1};
    int[] y = {1, 0, 1, 0, 0};

    // when / then: 5 of 6 pairs
    assertEquals(5.0 / 6.0, Metrics.auc(p, y), 1e-12);
  }

  @Test
  void shouldGiveHalfCreditToTiesWhenComputingTheAuc() {
    // given: every score equal
    double[] p = {0.5, 0.5, 0.5, 0.5};
    int[] y = {1, 0, 1, 0};

    // when / then
    assertEquals(0.5, Metrics.auc(p, y), 1e-12);
  }

  @Test
  void shouldReportLogLossAndMeansWhenPredictionsAreGiven() {
    // given
    double[] p = {0.8, 0.2};
    int[] y = {1, 0};

    // when
    Metrics m = Metrics.of(p, y);

    // then
    assertEquals(-Math.log(0.8), m.logLoss(), 1e-12);
    assertEquals(0.5, m.meanPredicted(), 1e-12);
    assertEquals(0.5, m.observedRate(), 1e-12);
    assertEquals(1.0, m.calibrationRatio(), 1e-12);
    assertEquals(1, m.positives());
  }

  @Test
  void shouldMeasureMiscalibrationPerBinWhenPredictionsAreOff() {
    // given: 1,000 rows predicted 0.3, of which 10% click -> error 0.2 in every bin
    int n = 1_000;
    double[] p = new double[n];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = 0.3;
      y[i] = i % 10 == 0 ? 1 : 0;
    }

    // when
    Metrics m = Metrics.of(p, y);

    // then: one value, so the bins average to |0.3 - 0.1| overall
    assertEquals(0.2, m.calibrationError(), 0.02);
    assertEquals(3.0, m.calibrationRatio(), 1e-9);
  }
}
