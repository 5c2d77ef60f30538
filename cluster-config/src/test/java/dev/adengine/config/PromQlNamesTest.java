package dev.adengine.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PromQlNamesTest {

  private static List<String> names(String expr) {
    return List.copyOf(PromQlNames.metricNames(expr));
  }

  @Test
  void shouldSkipLabelMatchersRangesAndGroupingLabelsWhenAnAggregationWrapsAHistogram() {
    // given
    String expr = "histogram_quantile(0.99, sum by (placement, le) "
        + "(rate(adengine_bid_latency_seconds_bucket{outcome=~\"filled|empty\", le=\"0.1\"}[5m])))";
    // when / then
    assertEquals(List.of("adengine_bid_latency_seconds_bucket"), names(expr));
  }

  @Test
  void shouldFindRecordingRulesAndSkipNumbersWhenABurnRateIsCompared() {
    assertEquals(List.of("adengine:slo_availability_errors:ratio_rate1h", "adengine:slo_availability_errors:ratio_rate5m"),
        names("adengine:slo_availability_errors:ratio_rate1h > (14.4 * (1 - 0.999))\nand\n"
            + "adengine:slo_availability_errors:ratio_rate5m > (14.4 * (1 - 0.999))"));
  }

  @Test
  void shouldSkipMatchingLabelsAndOffsetsWhenVectorsAreMatched() {
    assertEquals(List.of("foo_total", "bar", "baz_total"),
        names("max by (node) (max_over_time(foo_total[1h] offset 5m)) unless on (node, instance) bar\n"
            + "/ ignoring (code) group_left (le, node) sum(rate(baz_total[5m])) without (instance)"));
  }

  @Test
  void shouldSkipStringsWhenTheyLookLikeExpressions() {
    assertEquals(List.of("a_total", "b"),
        names("label_replace(a_total, \"dst\", \"sum(rate(x[5m]))\", 'src', `(.*)`) or count_values(\"code\", b)"));
  }

  @Test
  void shouldSkipGrafanaVariablesWhenTheyStandInMatchersAndRanges() {
    assertEquals(List.of("x_bucket"),
        names("histogram_quantile(0.5, sum by (le) (rate(x_bucket{node=~\"$node\"}[$__rate_interval])))"));
  }

  @Test
  void shouldTakeTheNameMatcherWhenASelectorHasNoName() {
    assertEquals(List.of("adengine_node_ready"), names("{__name__=\"adengine_node_ready\", node!=\"n1\"} == bool 0"));
    assertThrows(IllegalArgumentException.class, () -> names("{__name__=~\"adengine_.*\"}"));
  }

  @Test
  void shouldSkipLiteralsCommentsAndFunctionsWhenNoMetricIsRead() {
    assertEquals(List.of(), names("vector(1e-6) * 0x1F + Inf - NaN # not_a_metric\n"));
    assertEquals(List.of("y", "z"), names("y # x\n + z @ start()"));
  }

  @Test
  void shouldTreatAFunctionNameAsAMetricWhenNoCallFollows() {
    assertEquals(Set.of("rate"), PromQlNames.metricNames("rate > 0"));
  }
}
