package dev.adengine.engine.cluster;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices when this JVM itself stopped running for a while (a long GC pause, a SIGSTOP, a
 * starved machine): a daemon thread parks for {@code tick} at a time and measures how late it
 * woke. While the process is paused, or within {@code grace} after a pause longer than {@code
 * threshold} ended, what the failure detectors of this node conclude about other nodes is not
 * evidence about them: their heartbeats could not be taken in ({@link LocalPauseAwareFailureDetector}).
 * Cassandra's gossip does the same ("Not marking nodes down due to local pause").
 *
 * <p>Thread-safe; one per JVM ({@link #shared}), started on first use.
 */
public final class LocalPauseWatch {
  private static final Logger log = LoggerFactory.getLogger(LocalPauseWatch.class);
  private static volatile LocalPauseWatch shared;

  private final long tickNanos;
  private final long thresholdNanos;
  private final long graceNanos;
  /** When the watch last woke (nanoTime). */
  private final AtomicLong lastBeat = new AtomicLong();
  /** When the last pause longer than the threshold was noticed to end (nanoTime); 0 for none yet. */
  private volatile long lastPauseEnd;
  private final AtomicLong pauses = new AtomicLong();

  LocalPauseWatch(Duration tick, Duration threshold, Duration grace, long nowNanos) {
    if (tick.isNegative() || tick.isZero() || threshold.compareTo(tick) <= 0 || grace.isNegative()) {
      throw new IllegalArgumentException("need 0 < tick < threshold and grace >= 0, got tick " + tick + ", threshold "
          + threshold + ", grace " + grace);
    }
    this.tickNanos = tick.toNanos();
    this.thresholdNanos = threshold.toNanos();
    this.graceNanos = grace.toNanos();
    this.lastBeat.set(nowNanos);
  }

  /**
   * The JVM's watch, started with these settings on the first call (later calls get the same one,
   * whatever they pass: the settings are the cluster's, one per JVM).
   */
  public static LocalPauseWatch shared(Duration threshold, Duration grace) {
    LocalPauseWatch w = shared;
    if (w == null) {
      synchronized (LocalPauseWatch.class) {
        w = shared;
        if (w == null) {
          w = new LocalPauseWatch(Duration.ofMillis(100), threshold, grace, System.nanoTime());
          Thread t = new Thread(w::run, "adengine-local-pause-watch");
          t.setDaemon(true);
          t.start();
          shared = w;
        }
      }
    }
    return w;
  }

  private void run() {
    while (true) {
      LockSupport.parkNanos(tickNanos);
      beat(System.nanoTime());
    }
  }

  /** One wake-up of the watch at {@code now}; returns how late it was, in nanoseconds. */
  long beat(long now) {
    long late = now - lastBeat.getAndSet(now) - tickNanos;
    if (late > thresholdNanos) {
      lastPauseEnd = now;
      pauses.incrementAndGet();
      log.warn("This JVM did not run for {} ms (GC pause, SIGSTOP or a starved machine): failure-detector"
          + " verdicts about other nodes held for {} ms", TimeUnit.NANOSECONDS.toMillis(late + tickNanos),
          TimeUnit.NANOSECONDS.toMillis(graceNanos));
    }
    return late;
  }

  /**
   * Whether this node's own observations are unreliable at {@code now}: the watch has not run for
   * longer than the threshold (a pause still going on, or one it has not noticed yet), or a pause
   * ended less than the grace ago.
   */
  public boolean unreliable(long now) {
    if (now - lastBeat.get() - tickNanos > thresholdNanos) {
      return true;
    }
    long end = lastPauseEnd;
    return end != 0 && now - end < graceNanos;
  }

  /** Pauses longer than the threshold noticed so far. */
  public long pauses() {
    return pauses.get();
  }
}
