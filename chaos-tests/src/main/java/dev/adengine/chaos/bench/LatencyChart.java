package dev.adengine.chaos.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * {@code latency-vs-rate.png}: p99 (solid) and p50 (dashed) latency of the OK answers against the
 * intended rate, one colour per server, both axes logarithmic, so that where each server's
 * latency turns upward can be read off at a glance. Drawn headless with JFreeChart; steps that
 * were not run or had no OK answer are left out.
 */
public final class LatencyChart {
  private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
      new Color(0xd62728)};
  private static final int WIDTH = 900;
  private static final int HEIGHT = 560;

  private LatencyChart() {}

  public static void write(Path png, Map<String, List<StepResult>> results) throws IOException {
    System.setProperty("java.awt.headless", "true");
    XYSeriesCollection data = new XYSeriesCollection();
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    int serverIndex = 0;
    for (Map.Entry<String, List<StepResult>> e : results.entrySet()) {
      XYSeries p99 = new XYSeries(e.getKey() + " p99");
      XYSeries p50 = new XYSeries(e.getKey() + " p50");
      for (StepResult s : e.getValue()) {
        if (s.run() && s.ok() > 0) {
          // a log axis cannot show 0: a sub-microsecond value is drawn at 1 us
          p99.add(s.rate(), Math.max(1, s.p99Micros()) / 1000.0);
          p50.add(s.rate(), Math.max(1, s.p50Micros()) / 1000.0);
        }
      }
      Color color = COLORS[serverIndex % COLORS.length];
      int i = data.getSeriesCount();
      data.addSeries(p99);
      data.addSeries(p50);
      renderer.setSeriesPaint(i, color);
      renderer.setSeriesStroke(i, new BasicStroke(2.2f));
      renderer.setSeriesPaint(i + 1, color);
      renderer.setSeriesStroke(i + 1, new BasicStroke(1.4f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
          new float[] {6f, 4f}, 0f));
      serverIndex++;
    }
    LogAxis x = new LogAxis("intended rate (requests/s)");
    x.setBase(2);
    x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    x.setNumberFormatOverride(new DecimalFormat("#,##0"));
    LogAxis y = new LogAxis("latency from intended send time (ms)");
    y.setBase(10);
    y.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    y.setNumberFormatOverride(new DecimalFormat("0.###"));
    XYPlot plot = new XYPlot(data, x, y, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    JFreeChart chart = new JFreeChart("Bid latency against rate (p99 solid, p50 dashed)",
        JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
  }
}
