package dev.adengine.engine.slo;

import dev.adengine.engine.grpc.GrpcErrors;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * This node's bid outcomes for the SLOs, in time buckets: per bucket the valid requests (total), the
 * bad ones for availability (any non-OK status except INVALID_ARGUMENT) and for latency (not OK
 * within the threshold), and the requests excluded from both SLIs (INVALID_ARGUMENT: the client's
 * mistake is not counted against the engine, neither as good nor as bad).
 *
 * <p>Lock-free and allocation-free on the recording path: a ring of {@code longestWindow / bucket + 2}
 * buckets of four counters in one {@link AtomicLongArray}; each counter packs its bucket's index (low
 * 24 bits, so 31 years of one-minute buckets before a tag repeats) above a 40-bit count, so a
 * counter that still holds an older bucket is reset and incremented by the same compare-and-set:
 * no lock, no separate reset step that could lose a concurrent increment. Readers sum the counters
 * whose tag is one of the window's bucket indexes; a bucket that was never written reads as 0.
 */
public final class SloTracker {
  private static final int COUNT_BITS = 40;
  private static final long COUNT_MASK = (1L << COUNT_BITS) - 1;
  private static final long TAG_MASK = (1L << (64 - COUNT_BITS)) - 1;
  private static final int TOTAL = 0;
  private static final int AVAILABILITY_BAD = 1;
  private static final int LATENCY_BAD = 2;
  private static final int EXCLUDED = 3;
  private static final int COUNTERS = 4;

  private final long bucketMillis;
  private final long latencyThresholdNanos;
  private final int buckets;
  private final AtomicLongArray cells;
  private final LongSupplier clock;
  private final long startedAtMillis;

  /** Counts over one window. {@code coverage}: the share of the window the tracker has been running. */
  public record Counts(long total, long availabilityBad, long latencyBad, long excluded, double coverage) {}

  public SloTracker(Duration bucket, Duration longestWindow, Duration latencyThreshold, LongSupplier clockMillis) {
    this.bucketMillis = bucket.toMillis();
    if (bucketMillis <= 0) {
      throw new IllegalArgumentException("bucket must be positive: " + bucket);
    }
    this.latencyThresholdNanos = latencyThreshold.toNanos();
    this.buckets = Math.toIntExact(ceilDiv(longestWindow.toMillis(), bucketMillis) + 2);
    this.cells = new AtomicLongArray(buckets * COUNTERS);
    this.clock = clockMillis;
    this.startedAtMillis = clockMillis.getAsLong();
  }

  public static SloTracker of(SloSettings s, LongSupplier clockMillis) {
    return new SloTracker(s.bucket(), s.longestWindow(), s.latencyThreshold(), clockMillis);
  }

  /**
   * Records {@code reply}'s outcome when it completes, timed from {@code arrivalNanos}
   * ({@link System#nanoTime}); returns {@code reply} itself, so the caller's result is untouched.
   */
  public <T> CompletionStage<T> track(long arrivalNanos, CompletionStage<T> reply) {
    reply.whenComplete((ok, err) -> record(GrpcErrors.codeOf(err), System.nanoTime() - arrivalNanos));
    return reply;
  }

  /** Records one request answered with {@code code} after {@code latencyNanos}, now. */
  public void record(Status.Code code, long latencyNanos) {
    long index = Math.floorDiv(clock.getAsLong(), bucketMillis);
    int base = (int) Math.floorMod(index, (long) buckets) * COUNTERS;
    if (code == Status.Code.INVALID_ARGUMENT) {
      add(base + EXCLUDED, index);
      return;
    }
    add(base + TOTAL, index);
    if (code != Status.Code.OK) {
      add(base + AVAILABILITY_BAD, index);
      add(base + LATENCY_BAD, index);
    } else if (latencyNanos > latencyThresholdNanos) {
      add(base + LATENCY_BAD, index);
    }
  }

  private void add(int cell, long index) {
    long tag = index & TAG_MASK;
    while (true) {
      long v = cells.get(cell);
      long next = (v >>> COUNT_BITS) == tag ? v + 1 : (tag << COUNT_BITS) | 1;
      if (cells.compareAndSet(cell, v, next)) {
        return;
      }
    }
  }

  /**
   * The counts over the last {@code window}: every bucket that ends after {@code now - window}, so
   * at least the window (and at most one bucket more) up to now.
   */
  public Counts counts(Duration window) {
    long now = clock.getAsLong();
    long w = window.toMillis();
    long last = Math.floorDiv(now, bucketMillis);
    long first = Math.max(Math.floorDiv(now - w, bucketMillis), last - buckets + 1);
    long[] sums = new long[COUNTERS];
    for (long index = first; index <= last; index++) {
      int base = (int) Math.floorMod(index, (long) buckets) * COUNTERS;
      long tag = index & TAG_MASK;
      for (int k = 0; k < COUNTERS; k++) {
        long v = cells.get(base + k);
        if ((v >>> COUNT_BITS) == tag) {
          sums[k] += v & COUNT_MASK;
        }
      }
    }
    double coverage = Math.min(1.0, Math.max(0, now - startedAtMillis) / (double) w);
    return new Counts(sums[TOTAL], sums[AVAILABILITY_BAD], sums[LATENCY_BAD], sums[EXCLUDED], coverage);
  }

  /** This node's figures for each window, as published to the cluster. */
  public NodeSlo snapshot(List<Duration> windows) {
    int n = windows.size();
    long[] ms = new long[n];
    long[] total = new long[n];
    long[] availability = new long[n];
    long[] latency = new long[n];
    long[] excluded = new long[n];
    double[] coverage = new double[n];
    for (int i = 0; i < n; i++) {
      Counts c = counts(windows.get(i));
      ms[i] = windows.get(i).toMillis();
      total[i] = c.total();
      availability[i] = c.availabilityBad();
      latency[i] = c.latencyBad();
      excluded[i] = c.excluded();
      coverage[i] = c.coverage();
    }
    return new NodeSlo(clock.getAsLong(), startedAtMillis, ms, total, availability, latency, excluded, coverage);
  }

  private static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }
}
