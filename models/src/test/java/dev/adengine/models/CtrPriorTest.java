package dev.adengine.models;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class CtrPriorTest {
  private final CtrPrior prior = new CtrPrior(0.02, 200);

  @Test
  void shouldReturnPriorWhenNoHistory() {
    assertEquals(0.02, prior.estimate(0, 0), 1e-12);
  }

  @Test
  void shouldApproachObservedCtrWhenHistoryGrows() {
    // given an ad that truly clicks at 5%
    double small = prior.estimate(100, 5);
    double large = prior.estimate(1_000_000, 50_000);
    // then more evidence moves the estimate from the prior towards 5%
    assertTrue(small > 0.02 && small < 0.05, "small " + small);
    assertEquals(0.05, large, 1e-3);
    assertTrue(Math.abs(large - 0.05) < Math.abs(small - 0.05));
  }

  @Test
  void shouldCapClicksWhenTheyExceedImpressions() {
    assertEquals(prior.estimate(10, 10), prior.estimate(10, 50), 1e-12);
  }

  @Test
  void shouldRejectPriorWhenOutsideUnitInterval() {
    assertThrows(IllegalArgumentException.class, () -> new CtrPrior(0, 10));
    assertThrows(IllegalArgumentException.class, () -> new CtrPrior(1.5, 10));
    assertThrows(IllegalArgumentException.class, () -> new CtrPrior(0.1, 0));
  }
}
