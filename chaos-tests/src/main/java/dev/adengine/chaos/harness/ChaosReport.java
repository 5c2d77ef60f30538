package dev.adengine.chaos.harness;

import dev.adengine.chaos.harness.ChaosRun.Check;
import dev.adengine.chaos.harness.ChaosRun.Phase;
import dev.adengine.chaos.harness.ChaosRun.Result;
import dev.adengine.chaos.loadgen.LoadResult;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.SeriesRenderingOrder;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * What a chaos run measured, as text for the console, as a Markdown section of
 * {@code docs/chaos/README.md} and as a latency-over-time PNG with the fault marked.
 */
public final class ChaosReport {
  private static final double TARGET_P99_MS = 100;

  private ChaosReport() {}

  /** A few lines for the console. */
  public static String summary(Result r) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "[chaos] %s on %d nodes over %s: %s%n", r.scenario(), r.nodes(), r.transport(),
        r.passed() ? "all invariants held" : "INVARIANTS VIOLATED"));
    for (int i = 0; i < r.phases().size(); i++) {
      Phase p = r.phases().get(i);
      b.append(String.format(Locale.ROOT, "[chaos]   %-6s s%d-%d sent=%d ok=%d errors=%s p50=%s p99=%s p99.9=%s max=%s"
              + " cpu=%s%n", p.name(), p.fromSecond(), p.toSecond(), p.sent(), p.ok(), p.errors(), ms(p.p50Micros()),
          ms(p.p99Micros()), ms(p.p999Micros()), ms(p.maxMicros()), cpuText(r.cpu().get(i))));
    }
    b.append(String.format(Locale.ROOT, "[chaos]   recovery %d ms; ok ratio %.4f%%%n", r.timeline().recoveryMs(),
        r.load().totals().okRatio() * 100));
    for (Check c : r.checks()) {
      b.append("[chaos]   ").append(c.held() ? "held: " : "VIOLATED: ").append(c.name())
          .append(c.held() ? "" : " " + c.violations()).append('\n');
    }
    return b.toString();
  }

  /** The scenario's Markdown section; {@code png} is the chart's file name beside the Markdown. */
  public static String markdown(Result r, String png) {
    StringBuilder b = new StringBuilder();
    b.append("## ").append(title(r)).append("\n\n");
    b.append(String.format(Locale.ROOT, "%d nodes, Artery over %s; %.0f bids/s open loop (tmax %d ms, "
            + "`UNAVAILABLE` retried on the next node within it, a bid unanswered after 40%% of tmax hedged on "
            + "the next node) for %d s (at least %d, and until %d s after the recovery) after %d s of warm-up, "
            + "fault at +%d s; billing traffic %d bids/s with impressions, clicks and resent events at any node.%n%n",
        r.nodes(), r.transport(), r.settings().rate(), r.settings().tmaxMs(), r.load().totals().seconds(),
        r.settings().duration().toSeconds(), r.settings().afterAtLeast().toSeconds(), r.settings().warmup().toSeconds(),
        r.settings().faultAt().toSeconds(), r.settings().billingBidsPerSecond()));
    b.append("| phase | seconds | sent | OK | errors | p50 | p99 | p99.9 | max | p99 < 100 ms | machine CPU busy,"
        + " mean / busiest second | seconds all cores busy | nodes / harness CPU |\n");
    b.append("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n");
    for (int i = 0; i < r.phases().size(); i++) {
      Phase p = r.phases().get(i);
      CpuTimeline.PhaseCpu c = r.cpu().get(i);
      b.append(String.format(Locale.ROOT, "| %s | %d-%d | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
          p.name(), p.fromSecond(), p.toSecond(), p.sent(), p.ok(), p.errors().isEmpty() ? "0" : p.errors().toString(),
          ms(p.p50Micros()), ms(p.p99Micros()), ms(p.p999Micros()), ms(p.maxMicros()),
          p.ok() == 0 ? "-" : p.p99Micros() / 1000.0 < TARGET_P99_MS ? "yes" : "**no**",
          c.intervals() == 0 ? "-" : String.format(Locale.ROOT, "%.2f / %.2f of %d cores", c.busyMean(), c.busyMax(),
              c.cores()),
          c.intervals() == 0 ? "-" : c.saturated() + " of " + c.intervals(),
          c.intervals() == 0 ? "-" : String.format(Locale.ROOT, "%.2f / %.2f cores", c.nodesMean(), c.harnessMean())));
    }
    LoadResult.Totals t = r.load().totals();
    b.append(String.format(Locale.ROOT, "%nOK ratio %.4f%% (%d of %d; errors %s); recovery %.1f s from the fault to all "
            + "members Up and the touched node serving.%n%n", t.okRatio() * 100, t.ok(), t.sent(),
        t.errors().isEmpty() ? "none" : t.errors().toString(), r.timeline().recoveryMs() / 1000.0));
    b.append("Timeline: ").append(String.join("; ", r.timeline().notes())).append(".\n\n");
    b.append("Invariants (").append(r.billingBids()).append(" billing bids, ").append(r.billingEvents())
        .append(" distinct events):\n\n");
    for (Check c : r.checks()) {
      b.append("- ").append(c.held() ? "held" : "**violated**").append(": ").append(c.name());
      if (!c.held()) {
        b.append(" (").append(String.join("; ", c.violations())).append(')');
      }
      b.append('\n');
    }
    b.append("\n![").append(title(r)).append("](").append(png).append(")\n\n");
    return b.toString();
  }

  public static String title(Result r) {
    return switch (r.scenario()) {
      case KILL_RESTART -> "kill -9 of a node, then its restart";
      case FREEZE -> "SIGSTOP of a node for " + r.settings().downFor().toSeconds() + " s, then SIGCONT";
      case ROLLING_RESTART -> "Rolling restart of every node";
      case CASSANDRA_STOP -> "Cassandra stopped for " + r.settings().downFor().toSeconds() + " s";
    } + " (" + r.transport() + ")";
  }

  /** p50, p99 and max per second of the schedule, the fault and the recovery marked. */
  public static void chart(Result r, Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    XYSeries p50 = new XYSeries("p50");
    XYSeries p99 = new XYSeries("p99");
    XYSeries max = new XYSeries("max");
    int warmup = (int) r.settings().warmup().toSeconds();
    for (LoadResult.Second s : r.load().seconds()) {
      if (s.warmup() || s.ok() == 0) {
        continue;
      }
      double x = s.index() - warmup;
      p50.add(x, Math.max(1, s.latency().p50Micros()) / 1000.0);
      p99.add(x, Math.max(1, s.latency().p99Micros()) / 1000.0);
      max.add(x, Math.max(1, s.latency().maxMicros()) / 1000.0);
    }
    XYSeriesCollection data = new XYSeriesCollection();
    data.addSeries(p50);
    data.addSeries(p99);
    data.addSeries(max);
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
    Color[] colors = {new Color(0x2ca02c), new Color(0x1f77b4), new Color(0xd62728)};
    for (int i = 0; i < colors.length; i++) {
      renderer.setSeriesPaint(i, colors[i]);
      renderer.setSeriesStroke(i, new BasicStroke(i == 1 ? 2.2f : 1.4f));
    }
    NumberAxis x = new NumberAxis("seconds of the measured schedule");
    LogAxis y = new LogAxis("latency from intended send time (ms)");
    y.setBase(10);
    y.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    XYPlot plot = new XYPlot(data, x, y, renderer);
    // max first, under p99 and p50: at 50 bids/s a second's p99 (of ~50 latencies) is mostly its max,
    // and drawn under it the p99 line could not be seen at all
    plot.setSeriesRenderingOrder(SeriesRenderingOrder.REVERSE);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    double from = r.timeline().faultAtMs() / 1000.0;
    double to = Math.max(r.timeline().convergedMs(), r.timeline().servedAgainMs()) / 1000.0;
    IntervalMarker fault = new IntervalMarker(from, Math.max(to, from + 0.2), new Color(255, 160, 0, 60));
    fault.setLabel("fault until recovered");
    plot.addDomainMarker(fault);
    ValueMarker target = new ValueMarker(TARGET_P99_MS, Color.GRAY, new BasicStroke(1f, BasicStroke.CAP_BUTT,
        BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
    target.setLabel("100 ms");
    plot.addRangeMarker(target);
    JFreeChart chart = new JFreeChart(title(r), JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    Files.createDirectories(png.toAbsolutePath().getParent());
    ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 480);
  }

  /** The whole report page for several runs. */
  public static String page(List<Result> results, List<String> pngs, List<String> aborted, String how) {
    StringBuilder b = new StringBuilder("# Chaos suite\n\n").append(how).append("\n\n");
    b.append("| scenario | OK ratio | worst p99 | recovery | invariants |\n| --- | ---: | ---: | ---: | --- |\n");
    for (Result r : results) {
      long worst = r.phases().stream().mapToLong(Phase::p99Micros).max().orElse(0);
      b.append(String.format(Locale.ROOT, "| %s | %.4f%% | %s | %.1f s | %s |%n", title(r),
          r.load().totals().okRatio() * 100, ms(worst), r.timeline().recoveryMs() / 1000.0,
          r.passed() ? "all held" : "**violated**"));
    }
    b.append('\n');
    if (!aborted.isEmpty()) {
      b.append("Scenarios that could not run to their end (each counts as failed):\n\n");
      aborted.forEach(a -> b.append("- ").append(a).append('\n'));
      b.append('\n');
    }
    for (int i = 0; i < results.size(); i++) {
      b.append(markdown(results.get(i), pngs.get(i)));
    }
    return b.toString();
  }

  /** A phase's CPU in one token for the console. */
  static String cpuText(CpuTimeline.PhaseCpu c) {
    return c.intervals() == 0 ? "-" : String.format(Locale.ROOT, "%.2f/%.2f(max)of%d,all-busy=%ds/%d,nodes=%.2f,harness=%.2f",
        c.busyMean(), c.busyMax(), c.cores(), c.saturated(), c.intervals(), c.nodesMean(), c.harnessMean());
  }

  static String ms(long micros) {
    return String.format(Locale.ROOT, "%.1f ms", micros / 1000.0);
  }
}
