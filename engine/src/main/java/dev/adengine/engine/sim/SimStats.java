package dev.adengine.engine.sim;

import io.grpc.Status;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Counters a simulation run updates from many threads (the sender, gRPC callbacks, the
 * scheduler). Latency goes into an HdrHistogram {@link Recorder}; only the reporting thread reads
 * intervals from it.
 */
final class SimStats {

  private static final long MAX_LATENCY_MICROS = TimeUnit.MINUTES.toMicros(10);

  final LongAdder requests = new LongAdder();
  final LongAdder refused = new LongAdder();
  final LongAdder ok = new LongAdder();
  final LongAdder errors = new LongAdder();
  final LongAdder slotsRequested = new LongAdder();
  final LongAdder winners = new LongAdder();
  final LongAdder filledRequests = new LongAdder();
  final LongAdder partial = new LongAdder();
  final LongAdder clicks = new LongAdder();
  final DoubleAdder expectedClicks = new DoubleAdder();
  final LongAdder cpcSpendMicros = new LongAdder();
  /** CPM prices summed; spend is this / 1000, divided once at the end so no micro is lost. */
  final LongAdder cpmPriceSumMicros = new LongAdder();
  final LongAdder unknownAds = new LongAdder();
  final LongAdder eventsSent = new LongAdder();
  final LongAdder eventsAccepted = new LongAdder();
  final LongAdder eventsDuplicate = new LongAdder();
  final LongAdder eventsRejected = new LongAdder();
  final LongAdder eventsResent = new LongAdder();
  final LongAdder eventsDropped = new LongAdder();

  private final Map<String, LongAdder> errorsByStatus = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> eventBatchErrors = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> rejectionReasons = new ConcurrentHashMap<>();
  private final Recorder latency = new Recorder(1, MAX_LATENCY_MICROS, 3);
  private final Histogram total = new Histogram(1, MAX_LATENCY_MICROS, 3);

  void recordOk(long latencyMicros) {
    ok.increment();
    latency.recordValue(Math.max(1, Math.min(MAX_LATENCY_MICROS, latencyMicros)));
  }

  void recordError(Throwable error) {
    errors.increment();
    errorsByStatus.computeIfAbsent(statusName(error), k -> new LongAdder()).increment();
  }

  void recordEventBatchError(Throwable error) {
    eventBatchErrors.computeIfAbsent(statusName(error), k -> new LongAdder()).increment();
  }

  void recordRejection(String reason) {
    String key = reason == null || reason.isBlank() ? "(no reason)" : reason;
    rejectionReasons.computeIfAbsent(key, k -> new LongAdder()).increment();
  }

  /** The gRPC status code of a failed call, found in the cause chain; UNKNOWN otherwise. */
  static String statusName(Throwable error) {
    return Status.fromThrowable(error).getCode().name();
  }

  long spendMicros() {
    return cpcSpendMicros.sum() + cpmPriceSumMicros.sum() / 1_000;
  }

  /** The latency histogram since the previous call; also folded into the run's total. */
  synchronized Histogram takeInterval() {
    Histogram interval = latency.getIntervalHistogram();
    total.add(interval);
    return interval;
  }

  synchronized SimulationSummary summary(Duration elapsed) {
    takeInterval();
    return new SimulationSummary(
        elapsed,
        requests.sum(),
        refused.sum(),
        ok.sum(),
        sums(errorsByStatus),
        slotsRequested.sum(),
        winners.sum(),
        filledRequests.sum(),
        partial.sum(),
        clicks.sum(),
        expectedClicks.sum(),
        spendMicros(),
        unknownAds.sum(),
        total.getValueAtPercentile(50),
        total.getValueAtPercentile(99),
        total.getMaxValue(),
        eventsSent.sum(),
        eventsAccepted.sum(),
        eventsDuplicate.sum(),
        eventsRejected.sum(),
        eventsResent.sum(),
        eventsDropped.sum(),
        sums(eventBatchErrors),
        sums(rejectionReasons));
  }

  private static Map<String, Long> sums(Map<String, LongAdder> counters) {
    Map<String, Long> result = new TreeMap<>();
    counters.forEach((k, v) -> result.put(k, v.sum()));
    return result;
  }
}
