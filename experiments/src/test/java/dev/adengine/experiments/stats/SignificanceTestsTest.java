package dev.adengine.experiments.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.experiments.stats.SignificanceTests.ChiSquare;
import dev.adengine.experiments.stats.SignificanceTests.MeanTest;
import dev.adengine.experiments.stats.SignificanceTests.Moments;
import dev.adengine.experiments.stats.SignificanceTests.ProportionTest;
import org.junit.jupiter.api.Test;

/** Expected values computed with scipy 1.17 from the same inputs. */
class SignificanceTestsTest {

  @Test
  void shouldMatchTheTextbookZTestWhenComparingTwoProportions() {
    // given 200/1000 against 250/1000
    ProportionTest t = SignificanceTests.twoProportion(200, 1000, 250, 1000, 0.95);

    // then: pooled z, two-sided p; unpooled 95 % interval of the difference
    assertEquals(2.677397763008329, t.z(), 1e-12);
    assertEquals(0.007419649261025687, t.pValue(), 1e-12);
    assertEquals(0.01346362168753984, t.ciLow(), 1e-12);
    assertEquals(0.08653637831246014, t.ciHigh(), 1e-12);
    assertEquals(0.25, t.relativeLift(), 1e-12);
    assertTrue(t.significant());
  }

  @Test
  void shouldMatchScipyWhenRunningWelchsTest() {
    // given two samples (scipy.stats.ttest_ind(b, a, equal_var=False)), as count, sum, sum of squares
    Moments a = Moments.of(15, 312.3, 6612.23);
    Moments b = Moments.of(15, 344.8, 7979.18);

    // when
    MeanTest t = SignificanceTests.welch(a, b, 0.95);

    // then
    assertEquals(2.455356398286006, t.t(), 1e-9);
    assertEquals(24.988529290231416, t.df(), 1e-8);
    assertEquals(0.021378001462866992, t.pValue(), 1e-10);
    assertEquals(0.3492370661924069, t.ciLow(), 1e-8);
    assertEquals(3.984096267140929, t.ciHigh(), 1e-8);
    assertTrue(t.significant());
  }

  @Test
  void shouldMatchScipyWhenTestingGoodnessOfFit() {
    ChiSquare skewed = SignificanceTests.goodnessOfFit(new long[] {5210, 4790}, new double[] {1, 1});
    assertEquals(17.64, skewed.statistic(), 1e-9);
    assertEquals(1, skewed.df());
    assertEquals(2.6691498031812692e-05, skewed.pValue(), 1e-12);
    ChiSquare fine = SignificanceTests.goodnessOfFit(new long[] {2051, 2962, 4987}, new double[] {2000, 3000, 5000});
    assertEquals(1.8156333333333334, fine.statistic(), 1e-9);
    assertEquals(0.40340402869336467, fine.pValue(), 1e-10);
    assertEquals(0, SignificanceTests.goodnessOfFit(new long[] {10, 1}, new double[] {1, 0}).pValue());
  }

  @Test
  void shouldMatchScipyWhenTestingIndependence() {
    ChiSquare c = SignificanceTests.independence(new long[][] {{120, 90, 40}, {110, 95, 45}});
    assertEquals(0.8640353908896108, c.statistic(), 1e-9);
    assertEquals(2, c.df());
    assertEquals(0.6491978887380976, c.pValue(), 1e-10);
  }

  @Test
  void shouldNotBeSignificantWhenThereIsNoData() {
    ProportionTest p = SignificanceTests.twoProportion(0, 0, 0, 0, 0.95);
    assertTrue(Double.isNaN(p.pValue()));
    assertFalse(p.significant());
    MeanTest m = SignificanceTests.welch(Moments.of(1, 5, 25), Moments.of(0, 0, 0), 0.95);
    assertTrue(Double.isNaN(m.pValue()));
    assertFalse(m.significant());
    MeanTest constant = SignificanceTests.welch(Moments.of(10, 50, 250), Moments.of(10, 50, 250), 0.95);
    assertFalse(constant.significant());
  }
}
