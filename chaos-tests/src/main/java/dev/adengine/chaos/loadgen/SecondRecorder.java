package dev.adengine.chaos.loadgen;

import io.grpc.Status;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.WriterReaderPhaser;

/**
 * The live counters of one second of the schedule while its requests are outstanding. The scheduler
 * thread counts sends; gRPC completion threads record outcomes, wait-free; the report thread
 * {@link #close closes} it once every request is accounted for (or long overdue), and from then on
 * late outcomes are ignored, so a closed second never changes. The histogram lives only until then:
 * a long run keeps a handful of these, not one per second.
 */
final class SecondRecorder {
  private static final Status.Code[] CODES = Status.Code.values();
  private static final int CLIENT_OVERLOAD = CODES.length;
  private static final int NO_ANSWER = CODES.length + 1;

  final int index;
  final long endNanos;
  final boolean warmup;

  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong ok = new AtomicLong();
  private final AtomicLong filled = new AtomicLong();
  private final AtomicLong retries = new AtomicLong();
  private final AtomicLongArray errors = new AtomicLongArray(CODES.length + 2);
  private final AtomicLong maxSendLagNanos = new AtomicLong();
  private final ConcurrentHistogram latencyMicros = new ConcurrentHistogram(3);
  private final WriterReaderPhaser phaser = new WriterReaderPhaser();
  private volatile boolean closed;

  SecondRecorder(int index, long endNanos, boolean warmup) {
    this.index = index;
    this.endNanos = endNanos;
    this.warmup = warmup;
  }

  /** The scheduler fired (or refused) a request of this second, {@code lagNanos} after its intended time. */
  void sent(long lagNanos) {
    sent.incrementAndGet();
    maxSendLagNanos.accumulateAndGet(lagNanos, Math::max);
  }

  /** An OK answer, {@code micros} after the intended send time; {@code withWinner} when it has at least one winner. */
  void ok(long micros, boolean withWinner) {
    long token = phaser.writerCriticalSectionEnter();
    try {
      if (!closed) {
        latencyMicros.recordValue(micros);
        if (withWinner) {
          filled.incrementAndGet();
        }
        ok.incrementAndGet();
        completed.incrementAndGet();
      }
    } finally {
      phaser.writerCriticalSectionExit(token);
    }
  }

  void error(Status.Code code) {
    error(code.ordinal());
  }

  void clientOverload() {
    error(CLIENT_OVERLOAD);
  }

  private void error(int slot) {
    long token = phaser.writerCriticalSectionEnter();
    try {
      if (!closed) {
        errors.incrementAndGet(slot);
        completed.incrementAndGet();
      }
    } finally {
      phaser.writerCriticalSectionExit(token);
    }
  }

  void retry() {
    retries.incrementAndGet();
  }

  /** True when every request sent so far has an outcome. */
  boolean allAnswered() {
    return completed.get() == sent.get();
  }

  /** What this second holds once it is closed. */
  record Closed(LoadResult.Second row, Histogram latencyMicros) {}

  /**
   * Closes the second (the scheduler has moved past it): requests still without an outcome count as
   * NO_ANSWER and later outcomes are ignored. Called by one thread, once.
   */
  Closed close() {
    phaser.readerLock();
    try {
      closed = true;
      phaser.flipPhase(); // every recording that saw closed == false has finished
    } finally {
      phaser.readerUnlock();
    }
    long unanswered = sent.get() - completed.get();
    Map<String, Long> byCode = new HashMap<>();
    for (int i = 0; i < errors.length(); i++) {
      long n = errors.get(i) + (i == NO_ANSWER ? unanswered : 0);
      if (n > 0) {
        byCode.put(i == CLIENT_OVERLOAD ? "CLIENT_OVERLOAD" : i == NO_ANSWER ? "NO_ANSWER" : CODES[i].name(), n);
      }
    }
    Histogram latency = latencyMicros.copy();
    LoadResult.Second row = new LoadResult.Second(index, warmup, sent.get(), ok.get(), filled.get(), byCode, retries.get(),
        LoadResult.Percentiles.of(latency), maxSendLagNanos.get() / 1_000);
    return new Closed(row, latency);
  }
}
