package dev.adengine.engine.sim;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * Totals of a simulation run. Counts are of what the simulator did and saw; spend is tallied as
 * the engine should bill it (CPC: the price per click; CPM: price / 1000 per impression).
 *
 * @param requests bid requests due by the schedule (sent + refused)
 * @param refused requests not sent because {@code maxInFlight} calls were outstanding
 * @param ok bid calls answered successfully
 * @param errorsByStatus failed bid calls by gRPC status code name
 * @param slotsRequested sum of {@code slots} over the successfully answered requests
 * @param winners winners returned; each is shown, so it is also an impression
 * @param filledRequests answered requests with at least one winner
 * @param partial answers flagged {@code partial}
 * @param clicks clicks the ground-truth model drew
 * @param expectedClicks sum over shown ads of the ground-truth click probability
 * @param unknownAds winners whose ad is not in the simulator's market (no click model for them)
 * @param latencyP50Micros bid latency from the intended send time (successful calls)
 * @param eventsResent events sent a second time to exercise de-duplication
 * @param eventsDropped events not sent (local queue full, or the run ended first)
 * @param eventBatchErrorsByStatus failed {@code Report} calls by gRPC status code name
 * @param rejectionReasons event rejections by the reason the engine gave
 */
public record SimulationSummary(
    Duration elapsed,
    long requests,
    long refused,
    long ok,
    Map<String, Long> errorsByStatus,
    long slotsRequested,
    long winners,
    long filledRequests,
    long partial,
    long clicks,
    double expectedClicks,
    long spendMicros,
    long unknownAds,
    long latencyP50Micros,
    long latencyP99Micros,
    long latencyMaxMicros,
    long eventsSent,
    long eventsAccepted,
    long eventsDuplicate,
    long eventsRejected,
    long eventsResent,
    long eventsDropped,
    Map<String, Long> eventBatchErrorsByStatus,
    Map<String, Long> rejectionReasons) {

  public SimulationSummary {
    errorsByStatus = Map.copyOf(errorsByStatus);
    eventBatchErrorsByStatus = Map.copyOf(eventBatchErrorsByStatus);
    rejectionReasons = Map.copyOf(rejectionReasons);
  }

  public long impressions() {
    return winners;
  }

  public long errors() {
    return errorsByStatus.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Share of requested slots that got a winner. */
  public double fillRate() {
    return slotsRequested == 0 ? 0 : (double) winners / slotsRequested;
  }

  public double ctr() {
    return winners == 0 ? 0 : (double) clicks / winners;
  }

  public String render() {
    double seconds = Math.max(1e-9, elapsed.toMillis() / 1000.0);
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "[sim] summary after %.1fs%n", seconds));
    s.append(String.format(Locale.ROOT,
        "  requests=%d (%.1f/s) ok=%d errors=%d %s refused=%d partial=%d%n",
        requests, requests / seconds, ok, errors(), errorsByStatus, refused, partial));
    if (ok == 0) {
      s.append("  latency n/a (no successful call)").append(System.lineSeparator());
    } else {
      s.append(String.format(Locale.ROOT,
          "  latency (from intended send time) p50=%.2fms p99=%.2fms max=%.2fms%n",
          latencyP50Micros / 1000.0, latencyP99Micros / 1000.0, latencyMaxMicros / 1000.0));
    }
    s.append(String.format(Locale.ROOT,
        "  fill=%.1f%% (%d of %d slots; %d requests with a winner) impressions=%d clicks=%d ctr=%.2f%% expected-clicks=%.1f unknown-ads=%d%n",
        100 * fillRate(), winners, slotsRequested, filledRequests, winners, clicks, 100 * ctr(), expectedClicks, unknownAds));
    s.append(String.format(Locale.ROOT, "  spend=%s%n", units(spendMicros)));
    s.append(String.format(Locale.ROOT,
        "  events sent=%d accepted=%d duplicate=%d rejected=%d resent=%d dropped=%d batch-errors=%s%n",
        eventsSent, eventsAccepted, eventsDuplicate, eventsRejected, eventsResent, eventsDropped, eventBatchErrorsByStatus));
    if (!rejectionReasons.isEmpty()) {
      s.append("  rejections ").append(rejectionReasons).append(System.lineSeparator());
    }
    return s.toString();
  }

  static String units(long micros) {
    return String.format(Locale.ROOT, "%d.%02d", micros / 1_000_000, Math.abs(micros % 1_000_000) / 10_000);
  }
}
