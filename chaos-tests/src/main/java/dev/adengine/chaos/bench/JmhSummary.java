package dev.adengine.chaos.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;

/**
 * The JMH micro-benchmarks {@code bin/bench} ran before its load steps ({@code bin/bench-micro},
 * which writes {@code <group>.json} with JMH's raw results and {@code <group>.md} with the full
 * tables), read back for the end-to-end report: one row per benchmark and parameter set. A group
 * file older than the run's start was not written by this run and is reported as such, never
 * presented as this run's.
 */
public final class JmhSummary {
  /** One JMH result: the mean and its 99.9% error, the unit, and the allocation per operation. */
  public record Row(String group, String benchmark, String params, int threads, String mode, double score,
      double error, String unit, Double allocBytesPerOp) {}

  private final List<Row> rows;
  private final List<String> notes;

  private JmhSummary(List<Row> rows, List<String> notes) {
    this.rows = List.copyOf(rows);
    this.notes = List.copyOf(notes);
  }

  /** Reads {@code dir/<group>.json} for each group; only files modified at or after {@code since}. */
  public static JmhSummary read(Path dir, List<String> groups, Instant since) throws IOException {
    List<Row> rows = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (String group : groups) {
      Path file = dir.resolve(group + ".json");
      if (!Files.exists(file)) {
        notes.add("`" + group + ".json` does not exist: its passes were not run");
        continue;
      }
      Instant written = Files.getLastModifiedTime(file).toInstant();
      if (written.isBefore(since)) {
        notes.add("`" + group + ".json` was written at " + written + ", before this run: not included");
        continue;
      }
      for (JsonNode n : json.readTree(file.toFile())) {
        String name = n.path("benchmark").asText();
        name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
        StringJoiner params = new StringJoiner(", ");
        n.path("params").fields().forEachRemaining(e -> params.add(e.getKey() + "=" + e.getValue().asText()));
        JsonNode primary = n.path("primaryMetric");
        JsonNode alloc = n.path("secondaryMetrics").path("gc.alloc.rate.norm");
        rows.add(new Row(group, name, params.toString(), n.path("threads").asInt(), n.path("mode").asText(),
            primary.path("score").asDouble(), primary.path("scoreError").asDouble(),
            primary.path("scoreUnit").asText(), alloc.isMissingNode() ? null : alloc.path("score").asDouble()));
      }
    }
    return new JmhSummary(rows, notes);
  }

  public List<Row> rows() {
    return rows;
  }

  public List<String> notes() {
    return notes;
  }

  /** The rows as a markdown table, with the notes under it. */
  public String markdown() {
    StringBuilder b = new StringBuilder();
    if (!rows.isEmpty()) {
      b.append("| file | benchmark | params | threads | mode | mean ± error (99.9%) | unit | alloc B/op |\n");
      b.append("| --- | --- | --- | ---: | --- | ---: | --- | ---: |\n");
      for (Row r : rows) {
        b.append(String.format(Locale.ROOT, "| [%s.md](%s.md) | %s | %s | %d | %s | %s ± %s | %s | %s |%n",
            r.group(), r.group(), r.benchmark(), r.params(), r.threads(), r.mode(), num(r.score()),
            num(r.error()), r.unit(), r.allocBytesPerOp() == null ? "-" : num(r.allocBytesPerOp())));
      }
      b.append('\n');
    }
    for (String n : notes) {
      b.append("- ").append(n).append('\n');
    }
    return b.toString();
  }

  /** The rows as a JSON array (hand-built like the rest of {@code bench.json}). */
  public String json() {
    StringJoiner a = new StringJoiner(",", "[", "]");
    for (Row r : rows) {
      a.add(new StringJoiner(",", "{", "}")
          .add("\"group\":" + BenchReport.quote(r.group())).add("\"benchmark\":" + BenchReport.quote(r.benchmark()))
          .add("\"params\":" + BenchReport.quote(r.params())).add("\"threads\":" + r.threads())
          .add("\"mode\":" + BenchReport.quote(r.mode())).add("\"score\":" + r.score())
          .add("\"error\":" + (Double.isFinite(r.error()) ? Double.toString(r.error()) : "null"))
          .add("\"unit\":" + BenchReport.quote(r.unit())).add("\"allocBytesPerOp\":" + r.allocBytesPerOp())
          .toString());
    }
    return a.toString();
  }

  static String num(double v) {
    if (!Double.isFinite(v)) {
      return "-";
    }
    double a = Math.abs(v);
    return String.format(Locale.ROOT, a >= 100 ? "%,.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f", v);
  }
}
