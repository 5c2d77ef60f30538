package dev.adengine.models.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SliceMetricsTest {

  @Test
  void shouldComputeMetricsPerSliceSortedByKeyWhenSlicesHaveBothClasses() {
    // given: mobile ranks perfectly, desktop backwards, tablet 5 of 6 pairs (as in MetricsTest)
    double[] p = {0.9, 0.1, 0.2, 0.8, 0.9, 0.8, 0.4, 0.3, 0.1, 0.6};
    int[] y = {1, 0, 1, 0, 1, 0, 1, 0, 0, 1};
    String[] slice = {"device=mobile", "device=mobile", "device=desktop", "device=desktop", "device=tablet",
        "device=tablet", "device=tablet", "device=tablet", "device=tablet", "device=mobile"};

    // when
    Map<String, Metrics> m = SliceMetrics.bySlice(p, y, slice, 2);

    // then
    assertEquals(List.of("device=desktop", "device=mobile", "device=tablet"), List.copyOf(m.keySet()));
    assertEquals(0.0, m.get("device=desktop").auc(), 1e-12);
    assertEquals(1.0, m.get("device=mobile").auc(), 1e-12);
    assertEquals(5.0 / 6.0, m.get("device=tablet").auc(), 1e-12);
    assertEquals(3, m.get("device=mobile").rows());
    assertEquals(2, m.get("device=mobile").positives());
    assertEquals(Metrics.of(new double[] {0.9, 0.1, 0.6}, new int[] {1, 0, 1}), m.get("device=mobile"));
  }

  @Test
  void shouldLeaveOutSlicesWhenTheyAreSmallOrHaveOneClass() {
    // given: paris 4 rows, both classes; rome 2 rows, both classes; lyon 3 rows, no click
    double[] p = {0.3, 0.2, 0.1, 0.05, 0.4, 0.1, 0.2, 0.2, 0.2};
    int[] y = {1, 0, 0, 0, 1, 0, 0, 0, 0};
    String[] slice = {"destination=paris", "destination=paris", "destination=paris", "destination=paris",
        "destination=rome", "destination=rome", "destination=lyon", "destination=lyon", "destination=lyon"};

    // when
    Map<String, Metrics> m = SliceMetrics.bySlice(p, y, slice, 3);

    // then
    assertEquals(List.of("destination=paris"), List.copyOf(m.keySet()));
    assertEquals(4, m.get("destination=paris").rows());
    assertEquals(1.0, m.get("destination=paris").auc(), 1e-12);
  }
}
