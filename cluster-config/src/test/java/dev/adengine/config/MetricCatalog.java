package dev.adengine.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metrics docs/metrics.md lists (one per table row, the name in backticks, then the type) and
 * the series names Prometheus sees for them: a histogram's {@code _bucket}, {@code _count} and
 * {@code _sum}, a counter's or a gauge's own name.
 */
record MetricCatalog(Map<String, String> typeByMetric, Set<String> seriesNames) {

  private static final Pattern ROW = Pattern.compile("^\\|\\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\\s*\\|\\s*(\\w+)\\s*\\|");

  static MetricCatalog load() {
    return parse(Project.METRIC_CATALOG);
  }

  static MetricCatalog parse(Path markdown) {
    Map<String, String> types = new LinkedHashMap<>();
    Set<String> series = new TreeSet<>();
    try {
      for (String line : Files.readAllLines(markdown)) {
        Matcher m = ROW.matcher(line.strip());
        if (!m.find()) continue;
        String name = m.group(1);
        String type = m.group(2);
        types.put(name, type);
        switch (type) {
          case "histogram" -> {
            series.add(name + "_bucket");
            series.add(name + "_count");
            series.add(name + "_sum");
          }
          case "counter" -> {
            if (!name.endsWith("_total")) {
              throw new IllegalStateException(markdown + ": counter " + name + " does not end in _total");
            }
            series.add(name);
          }
          case "gauge" -> series.add(name);
          default -> throw new IllegalStateException(markdown + ": unknown metric type " + type + " of " + name);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new MetricCatalog(Map.copyOf(types), Set.copyOf(series));
  }
}
