package dev.adengine.engine.metrics;

import java.util.Map;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /metrics} on the node's Pekko Management HTTP port: the Prometheus text exposition
 * format (0.0.4) of the JVM's Kamon metrics, as {@link MetricsRuntime} last rendered them. Registered
 * in {@code pekko.management.http.routes} (cluster-config's management.conf). Answers from memory:
 * the reporter renders its text at each Kamon tick, not per scrape.
 */
public final class MetricsRoute extends AllDirectives implements ManagementRouteProvider {
  /** {@code text/plain; version=0.0.4; charset=UTF-8}: what Prometheus expects of the text format. */
  public static final ContentType.WithCharset PROMETHEUS_TEXT = ContentTypes.create(
      MediaTypes.customWithOpenCharset("text", "plain", Map.of("version", "0.0.4"), false), HttpCharsets.UTF_8);

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return path("metrics", () -> get(() ->
        extractRequest(request -> complete(HttpEntities.create(PROMETHEUS_TEXT, MetricsRuntime.scrapeData())))));
  }
}
