package dev.adengine.experiments.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import smile.math.special.Beta;
import smile.math.special.Gamma;
import smile.stat.distribution.ChiSquareDistribution;
import smile.stat.distribution.TDistribution;

/**
 * Known values: the printed tables (Student t, chi-square, normal quantiles), with more digits
 * from scipy 1.17 ({@code scipy.stats.t/chi2/norm}); and Smile's independent implementations,
 * already on the classpath through models, over a grid.
 */
class DistributionsTest {

  @Test
  void shouldMatchTheTableWhenComputingStudentTQuantiles() {
    double[] df = {1, 2, 5, 10, 30, 1000};
    double[] q975 = {12.70620474, 4.30265273, 2.57058184, 2.22813885, 2.04227246, 1.96233908};
    for (int i = 0; i < df.length; i++) {
      assertEquals(q975[i], Distributions.studentTQuantile(0.975, df[i]), 1e-7, "df " + df[i]);
      assertEquals(-q975[i], Distributions.studentTQuantile(0.025, df[i]), 1e-7, "df " + df[i]);
    }
    assertEquals(4.032142984, Distributions.studentTQuantile(0.995, 5), 1e-8);
    // Welch tests have fractional degrees of freedom
    assertEquals(2.333039627, Distributions.studentTQuantile(0.975, 7.5), 1e-8);
  }

  @Test
  void shouldMatchKnownValuesWhenComputingStudentTTails() {
    assertClose(0.07338803477074037, Distributions.studentTTwoSidedP(2.0, 10), 1e-10);
    assertClose(0.012214421128087875, Distributions.studentTTwoSidedP(-5.0, 3.3), 1e-10);
    assertClose(0.92074421365297, Distributions.studentTTwoSidedP(0.1, 50), 1e-10);
    assertClose(3.647523700755812e-33, Distributions.studentTTwoSidedP(12, 200_000), 1e-6);
    assertEquals(0.5, Distributions.studentTCdf(0, 4), 1e-15);
    // closed forms: df = 1 is the Cauchy distribution, df = 2 has F(t) = 1/2 + t / (2 sqrt(2 + t^2))
    for (double t : new double[] {-30, -1.5, -0.01, 0.7, 4}) {
      assertEquals(0.5 + Math.atan(t) / Math.PI, Distributions.studentTCdf(t, 1), 1e-14, "df 1, t " + t);
      assertEquals(0.5 + t / (2 * Math.sqrt(2 + t * t)), Distributions.studentTCdf(t, 2), 1e-14, "df 2, t " + t);
    }
    assertEquals(1 - 0.07338803477074037 / 2, Distributions.studentTCdf(2.0, 10), 1e-12);
  }

  @Test
  void shouldMatchTheTableWhenComputingChiSquareQuantilesAndTails() {
    assertEquals(3.84145882, Distributions.chiSquareQuantile(0.95, 1), 1e-7);
    assertEquals(5.99146455, Distributions.chiSquareQuantile(0.95, 2), 1e-7);
    assertEquals(18.30703805, Distributions.chiSquareQuantile(0.95, 10), 1e-7);
    assertEquals(124.3421134, Distributions.chiSquareQuantile(0.95, 100), 1e-6);
    assertEquals(10.82756617, Distributions.chiSquareQuantile(0.999, 1), 1e-7);
    assertClose(Math.exp(-1.5), Distributions.chiSquareSurvival(3, 2), 1e-12);
    assertClose(0.0009039320423540184, Distributions.chiSquareSurvival(150, 100), 1e-9);
    assertClose(0.9994464813904249, Distributions.chiSquareSurvival(0.5, 7), 1e-12);
    assertClose(0.010994608942135844, Distributions.chiSquareSurvival(1000, 900), 1e-8);
    assertEquals(0.5420702855281478, Distributions.chiSquareCdf(20, 20), 1e-13);
    assertEquals(0.5026596211076548, Distributions.chiSquareCdf(5000, 5000), 1e-11);
    assertClose(0.158639348619404, Distributions.chiSquareSurvival(5100, 5000), 1e-10);
    assertClose(0.0013565545121428954, Distributions.studentTCdf(-3, 5000), 1e-10);
  }

  @Test
  void shouldMatchKnownValuesWhenComputingTheNormal() {
    assertEquals(1.959963984540054, Distributions.normalQuantile(0.975), 1e-12);
    assertEquals(-6.361340902404056, Distributions.normalQuantile(1e-10), 1e-9);
    assertClose(4.016000583859088e-11, Distributions.normalCdf(-6.5), 1e-9);
    assertEquals(0.5, Distributions.normalCdf(0), 1e-15);
    assertClose(0.05, Distributions.normalTwoSidedP(1.959963984540054), 1e-12);
    assertEquals(0.5723649429247001, Distributions.logGamma(0.5), 1e-14);
    assertEquals(Math.log(362_880), Distributions.logGamma(10), 1e-12);
  }

  /**
   * Smile is a second, independent implementation, good to about 1e-8 (off by 1.5e-9 from the
   * closed form at t df=1 x=-1.5, by 2e-9 from scipy at chi-square df=20 x=20, by 1.8e-8 from the
   * exact 1/2 of I_0.5(0.5, 0.5)), hence the 1e-7 tolerance: this catches a wrong formula or branch,
   * the tables and scipy values above catch the digits. Past df = 100 Smile drifts further (4e-8
   * at chi-square df=5000 x=5000), so large df are checked against scipy instead.
   */
  @Test
  void shouldAgreeWithSmileWhenComparedOverAGrid() {
    for (int df : new int[] {1, 2, 3, 7, 20, 100}) {
      TDistribution t = new TDistribution(df);
      ChiSquareDistribution chi = new ChiSquareDistribution(df);
      for (double x : new double[] {-8, -3, -1.5, -0.2, 0.3, 1, 2.5, 6}) {
        assertEquals(t.cdf(x), Distributions.studentTCdf(x, df), 1e-7, "t cdf df=" + df + " x=" + x);
      }
      for (double x : new double[] {0.01, 0.5, 1, df / 2.0, df, 1.5 * df + 3, 3.0 * df + 10}) {
        assertEquals(chi.cdf(x), Distributions.chiSquareCdf(x, df), 1e-7, "chi2 cdf df=" + df + " x=" + x);
      }
      for (double p : new double[] {0.001, 0.05, 0.5, 0.9, 0.999}) {
        double expected = t.quantile(p);
        assertEquals(expected, Distributions.studentTQuantile(p, df), 1e-6 * Math.max(1, Math.abs(expected)),
            "t quantile df=" + df + " p=" + p);
      }
    }
    for (double a : new double[] {0.5, 1, 2.5, 10, 80}) {
      for (double b : new double[] {0.5, 1, 3, 40}) {
        for (double x : new double[] {0.001, 0.1, 0.5, 0.77, 0.999}) {
          assertEquals(Beta.regularizedIncompleteBetaFunction(a, b, x), Distributions.regularizedBeta(x, a, b), 1e-7,
              "I_" + x + "(" + a + ", " + b + ")");
        }
      }
      for (double x : new double[] {0.01, 0.5, 1, a, 2 * a + 5}) {
        assertEquals(Gamma.regularizedIncompleteGamma(a, x), Distributions.regularizedGammaP(a, x), 1e-7,
            "P(" + a + ", " + x + ")");
        assertEquals(1, Distributions.regularizedGammaP(a, x) + Distributions.regularizedGammaQ(a, x), 1e-14);
      }
    }
  }

  @Test
  void shouldApproachTheNormalWhenDegreesOfFreedomGrow() {
    for (double z : new double[] {-3, -1, 0.5, 2}) {
      assertEquals(Distributions.normalCdf(z), Distributions.studentTCdf(z, 1e7), 1e-6);
    }
  }

  private static void assertClose(double expected, double actual, double relative) {
    assertTrue(Math.abs(actual - expected) <= relative * Math.abs(expected),
        "expected " + expected + " got " + actual + " (relative " + Math.abs(actual - expected) / Math.abs(expected)
            + ")");
  }
}
