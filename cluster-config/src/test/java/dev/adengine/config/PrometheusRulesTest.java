package dev.adengine.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.adengine.config.PrometheusRules.Rule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * cluster-config/prometheus/adengine-rules.yml: valid for promtool, its promtool unit tests pass,
 * it reads only docs/metrics.md's metrics, and its SLO rules and burn-rate alerts follow slo.conf
 * and the Google SRE workbook's multi-window multi-burn-rate policy.
 */
class PrometheusRulesTest {

  static final Config SLO = ConfigFactory.parseFile(Project.SLO_CONF.toFile()).resolve().getConfig("adengine.slo");
  static final List<String> SLIS = List.of("availability", "latency");

  /**
   * The workbook's policy ("Alerting on SLOs", multiwindow multi-burn-rate alerts): page when 2%
   * of the period's budget goes in 1 hour or 5% in 6 hours, open a ticket when 10% goes in 3
   * days; each with a short window of 1/12 of the long one. The burn rate follows from the share:
   * share * period / long window (14.4, 6 and 1 for 30 days).
   */
  record BurnPolicy(String severity, double budgetShare, String longWindow, String shortWindow) {
    double burnRate(Duration period) {
      return budgetShare * period.toSeconds() / promDuration(longWindow).toSeconds();
    }
  }

  static final List<BurnPolicy> WORKBOOK = List.of(
      new BurnPolicy("page", 0.02, "1h", "5m"),
      new BurnPolicy("page", 0.05, "6h", "30m"),
      new BurnPolicy("ticket", 0.10, "3d", "6h"));

  private static final Pattern BUDGET = Pattern.compile("\\(\\s*1\\s*-\\s*([0-9.]+)\\s*\\)");
  private static final Pattern RANGE = Pattern.compile("\\[([^\\]]+)\\]");
  private static final Pattern LE = Pattern.compile("le\\s*=\\s*\"([^\"]*)\"");
  private static final Pattern OBJECTIVE_VECTOR = Pattern.compile("^vector\\(\\s*([0-9.]+)\\s*\\)$");
  private static final Pattern BURN_COMPARISON = Pattern.compile(
      "adengine:slo_(\\w+)_errors:ratio_rate(\\w+)\\s*>\\s*\\(\\s*([0-9.]+)\\s*\\*\\s*\\(\\s*1\\s*-\\s*([0-9.]+)\\s*\\)\\s*\\)");

  private final PrometheusRules rules = PrometheusRules.load();
  private final MetricCatalog catalog = MetricCatalog.load();

  @Test
  void shouldPassPromtoolCheckWhenTheRuleFileIsChecked() {
    // given the rule file; when
    String output = Promtool.succeed("check", "rules", Project.RULES.toString());
    // then
    assertTrue(output.contains("SUCCESS"), output);
  }

  @Test
  void shouldPassEveryPromtoolUnitTestWhenTheRuleTestsRun() throws IOException {
    // given
    List<String> testFiles;
    try (Stream<Path> files = Files.list(Project.RULE_TESTS)) {
      testFiles = files.filter(p -> p.toString().endsWith(".yml")).map(Path::toString).sorted().toList();
    }
    assertFalse(testFiles.isEmpty(), "no promtool unit tests in " + Project.RULE_TESTS);
    List<String> args = new ArrayList<>(List.of("test", "rules"));
    args.addAll(testFiles);
    // when
    String output = Promtool.succeed(args.toArray(String[]::new));
    // then
    assertFalse(output.contains("FAILED"), output);
  }

  @Test
  void shouldReadOnlyCatalogMetricsOrOwnRecordingRulesWhenAnyRuleIsEvaluated() {
    // given
    assertTrue(catalog.seriesNames().contains("adengine_bid_latency_seconds_count"),
        "docs/metrics.md's catalog was not read: " + catalog.seriesNames());
    Set<String> known = new TreeSet<>(catalog.seriesNames());
    known.addAll(rules.recordedNames());
    // when
    List<String> unknown = new ArrayList<>();
    for (Rule rule : rules.rules()) {
      for (String name : PromQlNames.metricNames(rule.expr())) {
        if (!known.contains(name)) unknown.add(name + " (" + rule + ")");
      }
    }
    // then
    assertEquals(List.of(), unknown, "metrics neither in docs/metrics.md nor recorded in " + Project.RULES);
    for (String recorded : rules.recordedNames()) {
      assertTrue(recorded.matches("[a-z_]+:[a-z0-9_]+:[a-z0-9_]+"), "not named level:metric:operations: " + recorded);
    }
  }

  @Test
  void shouldRecordEachErrorRatioOverEachSloConfWindowWhenTheWindowsAreRead() {
    // given
    List<String> windows = new ArrayList<>(SLO.getStringList("windows"));
    assertEquals(5, windows.size(), "slo.conf windows: " + windows);
    for (String sli : SLIS) {
      for (String window : windows) {
        // when
        Rule rule = rules.recording("adengine:slo_" + sli + "_errors:ratio_rate" + window);
        // then: every range in it is the window (an expression over another window would lie)
        Matcher ranges = RANGE.matcher(rule.expr());
        int count = 0;
        while (ranges.find()) {
          assertEquals(window, ranges.group(1), rule.toString());
          count++;
        }
        assertTrue(count > 0, "no range selector in " + rule);
      }
      Rule period = rules.recording("adengine:slo_" + sli + "_errors:ratio_rate30d");
      assertEquals(SLO.getDuration("period"), promDuration("30d"), "the budget's period is slo.conf's");
      assertTrue(period.expr().contains("[30d]"), period.toString());
    }
  }

  @Test
  void shouldUseSloConfObjectivesWhenABudgetOrObjectiveIsSpelledOut() {
    // given
    Map<String, Double> objectives = Map.of(
        "availability", SLO.getDouble("availability-objective"),
        "latency", SLO.getDouble("latency-objective"));
    double thresholdSeconds = SLO.getDuration("latency-threshold").toNanos() / 1e9;
    Set<String> slisWithBudget = new LinkedHashSet<>();
    for (Rule rule : rules.rules()) {
      String sli = sliOf(rule);
      // when / then: each (1 - objective) is its SLI's objective
      Matcher budget = BUDGET.matcher(rule.expr());
      while (budget.find()) {
        if (sli == null) fail("an error budget in a rule of no SLO: " + rule);
        assertEquals(objectives.get(sli), Double.parseDouble(budget.group(1)), 0.0, "objective in " + rule);
        slisWithBudget.add(sli);
      }
      if (rule.record() != null && rule.record().endsWith(":objective")) {
        Matcher vector = OBJECTIVE_VECTOR.matcher(rule.expr().strip());
        assertTrue(vector.matches(), rule.toString());
        assertEquals(objectives.get(sli), Double.parseDouble(vector.group(1)), 0.0, rule.toString());
      }
      // the latency SLI counts the answers within slo.conf's threshold
      if ("latency".equals(sli)) {
        Matcher le = LE.matcher(rule.expr());
        while (le.find()) {
          assertEquals(thresholdSeconds, Double.parseDouble(le.group(1)), 0.0, "le of " + rule);
        }
      }
    }
    assertEquals(Set.copyOf(SLIS), slisWithBudget, "SLIs whose error budget the rules spell out");
  }

  @Test
  void shouldBurnAtTheWorkbookRatesOverSloConfWindowsWhenAnSloAlerts() {
    // given
    Duration period = SLO.getDuration("period");
    Set<String> policyWindows = new TreeSet<>();
    WORKBOOK.forEach(p -> {
      policyWindows.add(p.longWindow());
      policyWindows.add(p.shortWindow());
    });
    assertEquals(new TreeSet<>(SLO.getStringList("windows")), policyWindows, "slo.conf's windows are the policy's");
    for (String sli : SLIS) {
      double objective = SLO.getDouble(sli + "-objective");
      Set<String> expected = new TreeSet<>();
      WORKBOOK.forEach(p -> expected.add(policyKey(p.severity(), p.burnRate(period), p.longWindow(), p.shortWindow())));
      // when
      Set<String> actual = new TreeSet<>();
      for (Rule alert : rules.alerts()) {
        if (!sli.equals(alert.labels().get("slo"))) continue;
        String oneLine = alert.expr().strip().replaceAll("\\s+", " ");
        Matcher m = BURN_COMPARISON.matcher(oneLine);
        List<String[]> comparisons = new ArrayList<>();
        int end = 0;
        StringBuilder between = new StringBuilder();
        while (m.find()) {
          between.append(oneLine, end, m.start());
          end = m.end();
          comparisons.add(new String[] {m.group(1), m.group(2), m.group(3), m.group(4)});
        }
        between.append(oneLine.substring(end));
        // then: "long > rate * budget and short > rate * budget", both of this SLI and objective
        assertEquals(2, comparisons.size(), "two windows compared in " + alert);
        assertEquals(" and ", between.toString(), "the windows joined by 'and' in " + alert);
        String[] longWindow = comparisons.get(0);
        String[] shortWindow = comparisons.get(1);
        for (String[] c : comparisons) {
          assertEquals(sli, c[0], alert.toString());
          assertEquals(objective, Double.parseDouble(c[3]), 0.0, "objective in " + alert);
        }
        assertEquals(longWindow[2], shortWindow[2], "one burn rate for both windows in " + alert);
        assertEquals(alert.labels().get("long_window"), longWindow[1], alert.toString());
        assertEquals(alert.labels().get("short_window"), shortWindow[1], alert.toString());
        actual.add(policyKey(alert.labels().get("severity"), Double.parseDouble(longWindow[2]), longWindow[1], shortWindow[1]));
      }
      assertEquals(expected, actual, "burn-rate alerts of the " + sli + " SLO");
    }
  }

  @Test
  void shouldSayWhatBurnsWhenAnyAlertFires() {
    assertFalse(rules.alerts().isEmpty());
    for (Rule alert : rules.alerts()) {
      assertTrue(Set.of("page", "ticket").contains(alert.labels().get("severity")), "severity of " + alert);
      assertFalse(alert.annotations().getOrDefault("summary", "").isBlank(), "summary of " + alert);
      assertFalse(alert.annotations().getOrDefault("description", "").isBlank(), "description of " + alert);
    }
  }

  /** The SLI a rule is about: its slo label, or the slo_<sli> in its recorded name. */
  private static String sliOf(Rule rule) {
    if (rule.labels().containsKey("slo")) return rule.labels().get("slo");
    if (rule.record() != null) {
      for (String sli : SLIS) {
        if (rule.record().startsWith("adengine:slo_" + sli + "_") || rule.record().startsWith("adengine:slo_" + sli + ":")) {
          return sli;
        }
      }
    }
    return null;
  }

  private static String policyKey(String severity, double burnRate, String longWindow, String shortWindow) {
    return String.format("%s %.6f over %s and %s", severity, burnRate, longWindow, shortWindow);
  }

  /** A PromQL duration of one unit (5m, 6h, 3d, 1w). */
  static Duration promDuration(String text) {
    Matcher m = Pattern.compile("(\\d+)(ms|s|m|h|d|w|y)").matcher(text);
    if (!m.matches()) throw new IllegalArgumentException("not a one-unit PromQL duration: " + text);
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      case "d" -> Duration.ofDays(n);
      case "w" -> Duration.ofDays(7 * n);
      default -> Duration.ofDays(365 * n);
    };
  }
}
