package dev.adengine.engine.metrics;

import com.typesafe.config.Config;
import kamon.Kamon;
import kamon.prometheus.PrometheusReporter;

/**
 * Kamon, once per JVM: {@link #start} initializes it (attaching the kamon-bundle's instrumentation
 * of Pekko, the JVM and the host) and registers the Prometheus reporter whose scrape data
 * {@code GET /metrics} serves. Kamon is JVM-global: when tests start several nodes in one JVM, the
 * first node's config is the one used, and every engine metric carries a {@code node} tag.
 */
public final class MetricsRuntime {
  private static PrometheusReporter reporter; // guarded by the class

  private MetricsRuntime() {}

  /** Starts Kamon with {@code config} unless it was started already; idempotent and thread-safe. */
  public static synchronized void start(Config config) {
    if (reporter != null) {
      return;
    }
    Kamon.init(config);
    // Not the kamon.modules entry (disabled in kamon.conf): this instance is kept to read its data.
    // Its embedded HTTP server stays off (kamon.prometheus.start-embedded-http-server = no).
    PrometheusReporter r = new PrometheusReporter(PrometheusReporter.DefaultConfigPath(), Kamon.config());
    Kamon.addReporter("adengine-prometheus", r);
    reporter = r;
  }

  /**
   * The Prometheus text (format 0.0.4) of every metric as of Kamon's last tick ({@code
   * kamon.metric.tick-interval}); empty before {@link #start} or the first tick.
   */
  public static String scrapeData() {
    PrometheusReporter r;
    synchronized (MetricsRuntime.class) {
      r = reporter;
    }
    return r == null ? "" : r.scrapeData();
  }
}
