package dev.adengine.config;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths of the project's checkout, found from the test's working directory (the module). */
final class Project {

  static final Path ROOT = findRoot();
  static final Path METRIC_CATALOG = ROOT.resolve("docs/metrics.md");
  static final Path SLO_CONF = ROOT.resolve("cluster-config/src/main/resources/slo.conf");
  static final Path RULES = ROOT.resolve("cluster-config/prometheus/adengine-rules.yml");
  static final Path RULE_TESTS = ROOT.resolve("cluster-config/prometheus/tests");
  static final Path DASHBOARD = ROOT.resolve("cluster-config/grafana/adengine-overview.json");
  static final Path PROMTOOL = ROOT.resolve("bin/promtool");

  private Project() {}

  private static Path findRoot() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("bin/promtool")) && Files.isRegularFile(dir.resolve("docs/metrics.md"))) {
        return dir;
      }
    }
    throw new IllegalStateException("no project root (bin/promtool, docs/metrics.md) above " + Path.of("").toAbsolutePath());
  }
}
