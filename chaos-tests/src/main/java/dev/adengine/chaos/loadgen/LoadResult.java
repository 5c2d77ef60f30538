package dev.adengine.chaos.loadgen;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * What one load-generator run measured: a row per second of the schedule and the totals over the
 * measured (non-warm-up) seconds, so that tests can assert on a run and tools can keep it as JSON
 * ({@link #toJson()}).
 *
 * <p>Every request belongs to the second its intended send time falls in, whenever it is answered;
 * so in every row and in the totals {@code ok + errors == sent}. Latencies are those of OK answers,
 * in microseconds from the intended send time (not the actual one), retries included.
 *
 * <p>Error keys are gRPC status code names ({@code UNAVAILABLE}, {@code DEADLINE_EXCEEDED}, ...),
 * {@code CLIENT_OVERLOAD} (not sent: too many requests in flight) and {@code NO_ANSWER} (still
 * unanswered well after its deadline: should not happen, the gRPC deadline ends every call).
 */
public record LoadResult(LoadOptions options, List<Second> seconds, Totals totals) {

  public LoadResult {
    seconds = List.copyOf(seconds);
  }

  /** Latency percentiles of OK answers in microseconds; all zero when there were none. */
  public record Percentiles(long p50Micros, long p90Micros, long p99Micros, long p999Micros, long maxMicros) {
    static Percentiles of(Histogram h) {
      return new Percentiles(h.getValueAtPercentile(50), h.getValueAtPercentile(90), h.getValueAtPercentile(99),
          h.getValueAtPercentile(99.9), h.getMaxValue());
    }

    String render(long answers) {
      if (answers == 0) {
        return "p50=- p90=- p99=- p99.9=- max=-";
      }
      return "p50=" + ms(p50Micros) + " p90=" + ms(p90Micros) + " p99=" + ms(p99Micros) + " p99.9=" + ms(p999Micros)
          + " max=" + ms(maxMicros);
    }

    void json(StringJoiner j) {
      j.add("\"p50Micros\":" + p50Micros).add("\"p90Micros\":" + p90Micros).add("\"p99Micros\":" + p99Micros)
          .add("\"p999Micros\":" + p999Micros).add("\"maxMicros\":" + maxMicros);
    }
  }

  /**
   * One second of the schedule: the requests whose intended send time fell in it and what became
   * of them.
   *
   * @param index 0 for the first second of the run (warm-up included)
   * @param sent requests scheduled in this second (including those refused as CLIENT_OVERLOAD)
   * @param filled OK answers with at least one winner
   * @param retries extra attempts on another target: after UNAVAILABLE, or hedged (not requests)
   * @param maxSendLagMicros how late the generator fired its most delayed request of the second
   *     (its own scheduling delay; counted in the latencies)
   */
  public record Second(int index, boolean warmup, long sent, long ok, long filled, Map<String, Long> errors, long retries,
      Percentiles latency, long maxSendLagMicros) {

    public Second {
      errors = Collections.unmodifiableMap(new TreeMap<>(errors));
    }

    public long errorCount() {
      return sum(errors);
    }

    /** The per-second report line. */
    public String render() {
      return String.format(Locale.ROOT, "[loadgen] t=%ds%s sent=%d ok=%d filled=%s errors=%d%s retries=%d %s lag=%s",
          index + 1, warmup ? " (warm-up)" : "", sent, ok, percent(filled, ok), errorCount(),
          errors.isEmpty() ? "" : " " + errors, retries, latency.render(ok), ms(maxSendLagMicros));
    }
  }

  /**
   * The measured seconds together.
   *
   * @param seconds measured seconds (the run's duration, or less if it was stopped early)
   * @param filled OK answers with at least one winner
   * @param latencyMicros the OK answers' latencies; its count equals {@code ok}
   */
  public record Totals(int seconds, long sent, long ok, long filled, Map<String, Long> errors, long retries,
      Histogram latencyMicros, long maxSendLagMicros) {

    public Totals {
      errors = Collections.unmodifiableMap(new TreeMap<>(errors));
      latencyMicros = latencyMicros.copy();
    }

    /** A copy of the latency histogram (microseconds from the intended send time). */
    @Override
    public Histogram latencyMicros() {
      return latencyMicros.copy();
    }

    public long errorCount() {
      return sum(errors);
    }

    /** OK answers over requests sent; 0 when nothing was sent. */
    public double okRatio() {
      return sent == 0 ? 0 : (double) ok / sent;
    }

    public Percentiles latency() {
      return Percentiles.of(latencyMicros);
    }

    /** The end-of-run report. */
    public String render(LoadOptions options) {
      return String.format(Locale.ROOT,
          "[loadgen] total over %d s (after %d s warm-up), %s requests/s intended to %s%n"
              + "  sent=%d (%.1f/s) ok=%d (%.2f%%) filled=%s errors=%d %s retries=%d max-send-lag=%s%n"
              + "  latency from intended send time: %s%n",
          seconds, options.warmupSeconds(), number(options.rate()), options.targets(),
          sent, seconds == 0 ? 0.0 : (double) sent / seconds, ok, 100 * okRatio(), percent(filled, ok), errorCount(),
          errors, retries,
          ms(maxSendLagMicros), latency().render(ok));
    }
  }

  /**
   * The run as one JSON object: the options, every second and the totals; the totals' histogram is
   * included as {@code latencyHistogram}, HdrHistogram's compressed encoding in Base64 (read it
   * back with {@code Histogram.decodeFromCompressedByteBuffer}).
   */
  public String toJson() {
    StringJoiner o = new StringJoiner(",", "{", "}");
    StringJoiner targets = new StringJoiner(",", "[", "]");
    options.targets().forEach(t -> targets.add(quote(t.toString())));
    o.add("\"options\":" + new StringJoiner(",", "{", "}")
        .add("\"targets\":" + targets)
        .add("\"rate\":" + number(options.rate()))
        .add("\"durationSeconds\":" + options.durationSeconds())
        .add("\"warmupSeconds\":" + options.warmupSeconds())
        .add("\"maxInFlight\":" + options.maxInFlight())
        .add("\"seed\":" + options.seed())
        .add("\"campaigns\":" + options.campaigns())
        .add("\"setupMarket\":" + options.setupMarket())
        .add("\"tmaxMs\":" + options.tmaxMs())
        .add("\"users\":" + options.users())
        .add("\"destinations\":" + options.destinations()));
    StringJoiner rows = new StringJoiner(",", "[", "]");
    for (Second s : seconds) {
      StringJoiner r = new StringJoiner(",", "{", "}")
          .add("\"index\":" + s.index()).add("\"warmup\":" + s.warmup()).add("\"sent\":" + s.sent())
          .add("\"ok\":" + s.ok()).add("\"filled\":" + s.filled()).add("\"errors\":" + json(s.errors()))
          .add("\"retries\":" + s.retries())
          .add("\"maxSendLagMicros\":" + s.maxSendLagMicros());
      s.latency().json(r);
      rows.add(r.toString());
    }
    o.add("\"seconds\":" + rows);
    StringJoiner t = new StringJoiner(",", "{", "}")
        .add("\"seconds\":" + totals.seconds()).add("\"sent\":" + totals.sent()).add("\"ok\":" + totals.ok())
        .add("\"filled\":" + totals.filled())
        .add("\"errors\":" + json(totals.errors())).add("\"retries\":" + totals.retries())
        .add("\"maxSendLagMicros\":" + totals.maxSendLagMicros());
    totals.latency().json(t);
    t.add("\"latencyHistogram\":" + quote(encode(totals.latencyMicros)));
    o.add("\"totals\":" + t);
    return o.toString();
  }

  private static String encode(Histogram h) {
    ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int length = h.encodeIntoCompressedByteBuffer(buffer);
    return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buffer.array(), length));
  }

  private static String json(Map<String, Long> counts) {
    StringJoiner j = new StringJoiner(",", "{", "}");
    counts.forEach((k, v) -> j.add(quote(k) + ":" + v));
    return j.toString();
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static long sum(Map<String, Long> counts) {
    return counts.values().stream().mapToLong(Long::longValue).sum();
  }

  static String number(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  private static String percent(long part, long whole) {
    return whole == 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100.0 * part / whole);
  }

  static String ms(long micros) {
    return String.format(Locale.ROOT, micros < 10_000 ? "%.2fms" : "%.1fms", micros / 1000.0);
  }
}
