package dev.adengine.models.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.models.eval.Metrics;
import dev.adengine.models.scoring.Blend;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.models.scoring.Platt;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Training on a synthetic problem whose true probabilities are known. */
class CtrTrainerTest {
  static final List<String> NAMES = List.of("a", "b", "c", "d");

  record Data(double[][] x, int[] y, double[] p) {}

  /** Logit-linear in a and b, a step in c, d is noise; base rate a few percent, like CTR. */
  static Data data(int n, long seed) {
    Random r = new Random(seed);
    double[][] x = new double[n][];
    int[] y = new int[n];
    double[] p = new double[n];
    for (int i = 0; i < n; i++) {
      double a = r.nextGaussian();
      double b = r.nextInt(5);
      double c = r.nextDouble();
      double d = r.nextGaussian();
      double z = -3.5 + 0.8 * a + 0.3 * b + (c > 0.6 ? 0.9 : 0);
      p[i] = 1 / (1 + Math.exp(-z));
      x[i] = new double[] {a, b, c, d};
      y[i] = r.nextDouble() < p[i] ? 1 : 0;
    }
    return new Data(x, y, p);
  }

  @Test
  void shouldLearnBothStagesCloseToTheTruthAndCalibratedWhenTrained() throws Exception {
    // given
    Data train = data(30_000, 1);
    Data cal = data(10_000, 2);
    Data test = data(30_000, 3);
    CtrTrainer.Options o = new CtrTrainer.Options(0.1, 60, 4, 8, 20, 0.1, 0.7, 5);

    // when
    CtrTrainer.Trained t = CtrTrainer.train("v-test", NAMES, "hash", train.x(), train.y(), cal.x(), cal.y(), o,
        Map.of("source", "synthetic"));

    // then: both stages rank nearly as well as the truth and are right on average
    CtrModel m = t.model();
    double[] p1 = new double[test.y().length];
    double[] p2 = new double[test.y().length];
    for (int i = 0; i < p1.length; i++) {
      p1[i] = m.stage1(test.x()[i]);
      p2[i] = m.stage2(test.x()[i]);
    }
    Metrics oracle = Metrics.of(test.p(), test.y());
    Metrics s1 = Metrics.of(p1, test.y());
    Metrics s2 = Metrics.of(p2, test.y());
    assertTrue(s1.auc() >= 0.97 * oracle.auc(), "stage 1 " + s1 + " vs oracle " + oracle);
    assertTrue(s2.auc() >= 0.97 * oracle.auc(), "stage 2 " + s2 + " vs oracle " + oracle);
    assertEquals(1.0, s1.calibrationRatio(), 0.1, "stage 1 " + s1);
    assertEquals(1.0, s2.calibrationRatio(), 0.1, "stage 2 " + s2);
    assertEquals("30000", m.metadata().get("training.rows"));
    assertEquals("synthetic", m.metadata().get("source"));
  }

  @Test
  void shouldScoreIdenticallyAfterARoundTripWhenWrittenAndRead() throws Exception {
    // given
    Data train = data(5_000, 4);
    CtrModel m = CtrTrainer.train("v-rt", NAMES, "hash", train.x(), train.y(), train.x(), train.y(),
        new CtrTrainer.Options(0.1, 10, 3, 6, 20, 0.1, 0.7, 5), Map.of()).model();

    // when
    CtrModel back = CtrModel.fromBytes(m.toBytes());

    // then
    assertEquals("v-rt", back.version());
    assertEquals(NAMES, back.featureNames());
    assertEquals(m.metadata(), back.metadata());
    for (int i = 0; i < 1_000; i++) {
      assertEquals(m.stage1(train.x()[i]), back.stage1(train.x()[i]), 0.0);
      assertEquals(m.stage2(train.x()[i]), back.stage2(train.x()[i]), 0.0);
    }
    assertThrows(IllegalStateException.class, () -> back.requireSchema("other"));
  }

  @Test
  void shouldGiveTheTreesNoWeightWhenTheyAreNoiseAndBlendIsFitted() {
    // given: stage 1 is the truth, the "trees" are pure noise
    Random r = new Random(3);
    int n = 40_000;
    double[] m1 = new double[n];
    double[] m2 = new double[n];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      m1[i] = -3 + r.nextGaussian();
      m2[i] = r.nextGaussian();
      y[i] = r.nextDouble() < 1 / (1 + Math.exp(-m1[i])) ? 1 : 0;
    }

    // when
    Blend blend = Blend.fit(m1, m2, y);

    // then
    assertEquals(1.0, blend.w1(), 0.1);
    assertEquals(0.0, blend.w2(), 0.1);
    assertEquals(0.0, blend.b(), 0.3);
  }

  @Test
  void shouldRecoverAKnownDistortionWhenPlattIsFitted() {
    // given: true probabilities p, reported as sigmoid(2 logit(p) + 1)
    Random r = new Random(9);
    int n = 50_000;
    double[] reported = new double[n];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      double z = -3 + r.nextGaussian();
      double p = 1 / (1 + Math.exp(-z));
      reported[i] = 1 / (1 + Math.exp(-(2 * z + 1)));
      y[i] = r.nextDouble() < p ? 1 : 0;
    }

    // when
    double[] reportedLogOdds = new double[n];
    for (int i = 0; i < n; i++) {
      reportedLogOdds[i] = Math.log(reported[i] / (1 - reported[i]));
    }
    Platt platt = Platt.fit(reportedLogOdds, y);

    // then: the inverse map, a = 0.5, b = -0.5
    assertEquals(0.5, platt.a(), 0.05);
    assertEquals(-0.5, platt.b(), 0.15);
  }
}
