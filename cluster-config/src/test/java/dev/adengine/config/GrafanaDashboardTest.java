package dev.adengine.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cluster-config/grafana/adengine-overview.json: every query reads only docs/metrics.md's metrics
 * or the rule file's recording rules through the dashboard's Prometheus datasource variable, is
 * valid PromQL for promtool once Grafana's variables are filled in, and the panels are laid out
 * on Grafana's 24-column grid without overlapping.
 */
class GrafanaDashboardTest {

  private static final String DATASOURCE_UID = "${datasource}";
  /** Grafana's own variables, and what stands in for them when promtool checks an expression. */
  private static final Map<String, String> BUILT_INS = Map.of(
      "__rate_interval", "5m", "__interval", "1m", "__range", "1d");
  /** A variable: $name, ${name} or ${name:format}. */
  private static final Pattern VARIABLE = Pattern.compile("\\$(?:\\{(\\w+)(?::\\w+)?\\}|(\\w+))");
  private static final Pattern LABEL_VALUES = Pattern.compile("^label_values\\((.+),\\s*(\\w+)\\s*\\)$");
  private static final List<String> ROWS = List.of(
      "SLOs", "Traffic", "Auction", "Budget", "Models", "Experiments", "Feature log", "Nodes");

  private final JsonNode dashboard = read();
  private final List<JsonNode> panels = panels(dashboard);

  @Test
  void shouldHaveTheBriefsRowsWhenTheDashboardIsRead() {
    List<String> rows = panels.stream().filter(p -> "row".equals(p.path("type").asText()))
        .map(p -> p.path("title").asText()).toList();
    assertEquals(ROWS, rows);
    assertTrue(dashboard.path("schemaVersion").asInt() >= 36, "schemaVersion " + dashboard.path("schemaVersion"));
  }

  @Test
  void shouldGiveEachPanelAUniqueIdAndItsOwnPlaceOnTheGridWhenLaidOut() {
    Set<Integer> ids = new HashSet<>();
    List<int[]> boxes = new ArrayList<>();
    List<String> titles = new ArrayList<>();
    for (JsonNode panel : panels) {
      String title = panel.path("title").asText();
      assertTrue(panel.path("id").isInt(), "no id: " + title);
      assertTrue(ids.add(panel.path("id").asInt()), "id " + panel.path("id") + " twice (" + title + ")");
      JsonNode pos = panel.path("gridPos");
      int x = pos.path("x").asInt(-1);
      int y = pos.path("y").asInt(-1);
      int w = pos.path("w").asInt(0);
      int h = pos.path("h").asInt(0);
      assertTrue(x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= 24, "gridPos of " + title + ": " + pos);
      for (int i = 0; i < boxes.size(); i++) {
        int[] o = boxes.get(i);
        boolean overlap = x < o[0] + o[2] && o[0] < x + w && y < o[1] + o[3] && o[1] < y + h;
        assertFalse(overlap, title + " " + pos + " overlaps " + titles.get(i));
      }
      boxes.add(new int[] {x, y, w, h});
      titles.add(title);
    }
  }

  @Test
  void shouldQueryThroughTheDatasourceVariableWhenAPanelOrVariableQueries() {
    JsonNode variables = dashboard.path("templating").path("list");
    JsonNode datasource = variable(variables, "datasource");
    assertEquals("datasource", datasource.path("type").asText());
    assertEquals("prometheus", datasource.path("query").asText());
    JsonNode node = variable(variables, "node");
    assertEquals("query", node.path("type").asText());
    for (JsonNode v : variables) {
      if ("query".equals(v.path("type").asText())) assertDatasource(v, "variable " + v.path("name").asText());
    }
    for (JsonNode panel : panels) {
      if ("row".equals(panel.path("type").asText())) continue;
      String title = panel.path("title").asText();
      assertDatasource(panel, title);
      assertFalse(panel.path("targets").isEmpty(), "no query in " + title);
      for (JsonNode target : panel.path("targets")) {
        if (target.has("datasource")) assertDatasource(target, title + " " + target.path("refId").asText());
        assertFalse(target.path("expr").asText().isBlank(), "empty expr in " + title);
      }
    }
  }

  @Test
  void shouldReadOnlyCatalogMetricsOrRecordingRulesWhenAnyQueryRuns() {
    // given
    Set<String> known = new TreeSet<>(MetricCatalog.load().seriesNames());
    known.addAll(PrometheusRules.load().recordedNames());
    Set<String> variables = variableNames();
    // when
    List<String> unknown = new ArrayList<>();
    List<String> undefined = new ArrayList<>();
    queries().forEach((where, expr) -> {
      for (String name : PromQlNames.metricNames(expr)) {
        if (!known.contains(name)) unknown.add(name + " (" + where + ")");
      }
      Matcher v = VARIABLE.matcher(expr);
      while (v.find()) {
        String name = v.group(1) != null ? v.group(1) : v.group(2);
        if (!variables.contains(name) && !BUILT_INS.containsKey(name)) undefined.add("$" + name + " (" + where + ")");
      }
    });
    // then
    assertFalse(queries().isEmpty());
    assertEquals(List.of(), unknown, "metrics neither in docs/metrics.md nor recorded in " + Project.RULES);
    assertEquals(List.of(), undefined, "variables the dashboard does not define");
  }

  @Test
  void shouldBeValidPromQlWhenPromtoolChecksEveryQuery(@TempDir Path dir) throws IOException {
    // given: one recording rule per query, Grafana's variables filled in
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    ObjectNode file = yaml.createObjectNode();
    ArrayNode rules = file.putArray("groups").addObject().put("name", "grafana-dashboard-queries").putArray("rules");
    Map<String, String> queries = queries();
    int i = 0;
    for (Map.Entry<String, String> query : queries.entrySet()) {
      rules.addObject()
          .put("record", "dashboard:query_" + (++i) + ":expr")
          .put("expr", substitute(query.getValue()));
    }
    Path ruleFile = dir.resolve("dashboard-queries.yml");
    yaml.writeValue(ruleFile.toFile(), file);
    // when
    String output = Promtool.succeed("check", "rules", ruleFile.toString());
    // then
    assertTrue(output.contains("SUCCESS: " + queries.size() + " rules found"), output);
  }

  /** Each query of the dashboard, by where it is: panel targets and query variables. */
  private Map<String, String> queries() {
    Map<String, String> queries = new LinkedHashMap<>();
    for (JsonNode panel : panels) {
      for (JsonNode target : panel.path("targets")) {
        queries.put("panel " + panel.path("id") + " \"" + panel.path("title").asText() + "\" " + target.path("refId").asText(),
            target.path("expr").asText());
      }
    }
    for (JsonNode v : dashboard.path("templating").path("list")) {
      if (!"query".equals(v.path("type").asText())) continue;
      JsonNode query = v.path("query");
      String text = query.isObject() ? query.path("query").asText() : query.asText();
      Matcher labelValues = LABEL_VALUES.matcher(text.strip());
      // label_values(selector, label) lists a label's values of the series the selector picks
      queries.put("variable " + v.path("name").asText(), labelValues.matches() ? labelValues.group(1) : text);
    }
    return queries;
  }

  private static String substitute(String expr) {
    Matcher m = VARIABLE.matcher(expr);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      // a dashboard variable stands in a label matcher's regular expression
      m.appendReplacement(out, Matcher.quoteReplacement(BUILT_INS.getOrDefault(name, ".*")));
    }
    m.appendTail(out);
    return out.toString();
  }

  private Set<String> variableNames() {
    Set<String> names = new HashSet<>();
    dashboard.path("templating").path("list").forEach(v -> names.add(v.path("name").asText()));
    return names;
  }

  private static JsonNode variable(JsonNode variables, String name) {
    for (JsonNode v : variables) {
      if (name.equals(v.path("name").asText())) return v;
    }
    throw new AssertionError("no variable " + name + " in the dashboard's templating");
  }

  private static void assertDatasource(JsonNode node, String where) {
    JsonNode ds = node.path("datasource");
    assertEquals("prometheus", ds.path("type").asText(), "datasource type of " + where);
    assertEquals(DATASOURCE_UID, ds.path("uid").asText(), "datasource of " + where);
  }

  /** Every panel, rows' nested panels (collapsed rows keep theirs) included. */
  private static List<JsonNode> panels(JsonNode dashboard) {
    List<JsonNode> all = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      all.add(panel);
      panel.path("panels").forEach(all::add);
    }
    return all;
  }

  private static JsonNode read() {
    try {
      return new ObjectMapper().readTree(Project.DASHBOARD.toFile());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
