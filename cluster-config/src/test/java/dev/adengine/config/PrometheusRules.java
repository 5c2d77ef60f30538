package dev.adengine.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** The rules of a Prometheus rule file, read with Jackson's YAML module. */
record PrometheusRules(List<Rule> rules) {

  /** One recording rule ({@code record} set) or alerting rule ({@code alert} set). */
  record Rule(String group, String record, String alert, String expr, Map<String, String> labels,
              Map<String, String> annotations) {

    boolean isAlert() {
      return alert != null;
    }

    String name() {
      return isAlert() ? alert : record;
    }

    @Override
    public String toString() {
      return (isAlert() ? "alert " : "record ") + name() + (labels.isEmpty() ? "" : " " + labels) + " in group " + group;
    }
  }

  static PrometheusRules load() {
    return parse(Project.RULES);
  }

  static PrometheusRules parse(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Rule> rules = new ArrayList<>();
    for (JsonNode group : root.path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        rules.add(new Rule(group.path("name").asText(),
            rule.hasNonNull("record") ? rule.get("record").asText() : null,
            rule.hasNonNull("alert") ? rule.get("alert").asText() : null,
            rule.path("expr").asText(),
            strings(rule.path("labels")),
            strings(rule.path("annotations"))));
      }
    }
    return new PrometheusRules(List.copyOf(rules));
  }

  private static Map<String, String> strings(JsonNode object) {
    Map<String, String> map = new LinkedHashMap<>();
    object.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
    return map;
  }

  Set<String> recordedNames() {
    return rules.stream().filter(r -> !r.isAlert()).map(Rule::record).collect(Collectors.toSet());
  }

  List<Rule> alerts() {
    return rules.stream().filter(Rule::isAlert).toList();
  }

  Rule recording(String name) {
    return rules.stream().filter(r -> name.equals(r.record())).findFirst()
        .orElseThrow(() -> new AssertionError("no recording rule " + name + " in " + Project.RULES));
  }
}
