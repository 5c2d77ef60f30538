package dev.adengine.models.drift;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PsiTest {

  @Test
  void shouldBeZeroWhenTheDistributionsAreIdentical() {
    // given
    double[] p = {0.1, 0.2, 0.3, 0.4, 0.0};

    // when / then
    assertEquals(0.0, Psi.of(p, p.clone()));
  }

  @Test
  void shouldSumTheBinTermsWhenTheDistributionsDiffer() {
    // given
    double[] expected = {0.5, 0.3, 0.2};
    double[] actual = {0.3, 0.3, 0.4};

    // when
    double psi = Psi.of(expected, actual);

    // then: (0.3 - 0.5) ln(0.3 / 0.5) = -0.2 x -0.510826 = 0.102165
    //     + (0.3 - 0.3) ln(1)                             = 0
    //     + (0.4 - 0.2) ln(0.4 / 0.2) =  0.2 x  0.693147 = 0.138629
    //                                                      0.240795, a moderate shift
    assertEquals(0.240795, psi, 1e-6);
  }

  @Test
  void shouldStayFiniteWhenABinIsEmptyOnOneSide() {
    // given: the reference never saw the third bin; live traffic puts 20% there
    double[] expected = {0.5, 0.5, 0.0};
    double[] actual = {0.4, 0.4, 0.2};

    // when
    double psi = Psi.of(expected, actual);

    // then: 2 x (0.4 - 0.5) ln(0.4 / 0.5)           = 2 x 0.022314 = 0.044629
    //     + (0.2 - 1e-4) ln(0.2 / 1e-4) = 0.1999 x 7.600902       = 1.519420
    //                                                               1.564049
    assertEquals(1.564049, psi, 1e-6);
  }

  @Test
  void shouldDivideByTheTotalWhenTurningCountsIntoProportions() {
    assertArrayEquals(new double[] {0.25, 0.75, 0.0}, Psi.proportions(new long[] {1, 3, 0}), 1e-15);
    assertArrayEquals(new double[] {0.0, 0.0}, Psi.proportions(new long[] {0, 0}));
  }
}
