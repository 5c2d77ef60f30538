package dev.adengine.engine.cluster;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.function.LongPredicate;
import org.apache.pekko.event.EventStream;
import org.apache.pekko.remote.FailureDetector;
import org.apache.pekko.remote.FailureDetectorWithAddress;
import org.apache.pekko.remote.PhiAccrualFailureDetector;

/**
 * Pekko's phi accrual failure detector, except that it does not change its verdict about another
 * node while this JVM's own observations are unreliable ({@link LocalPauseWatch}): during a pause
 * of this process and for a grace after it, {@link #isAvailable} answers what it answered before.
 * Configured as {@code pekko.cluster.failure-detector.implementation-class}; reads {@code
 * local-pause-threshold} and {@code local-pause-grace} from the same block.
 *
 * <p>Why: a node that resumes after a pause longer than the acceptable heartbeat pause finds the
 * last heartbeats of every other node seconds old, marks them all unreachable at its next reaper
 * tick, before the heartbeats buffered meanwhile are taken in, and gossips that; about a second
 * later it marks them reachable again. If the split brain resolver's decision falls in that second,
 * the healthy nodes the resumed one accused count as "indirectly connected" and are downed with it:
 * in a `bin/chaos` freeze (SIGSTOP of one node for 10 s, 2026-12-02) the resolver downed the frozen
 * node and a healthy one, leaving one of three. The other nodes' detectors, which ran all along,
 * still judge the paused node as before.
 */
public final class LocalPauseAwareFailureDetector implements FailureDetector, FailureDetectorWithAddress {
  private final FailureDetector delegate;
  private final LongPredicate unreliable;
  private volatile boolean lastVerdict = true;

  /** As Pekko creates it: the failure-detector config block and the system's event stream. */
  public LocalPauseAwareFailureDetector(Config config, EventStream eventStream) {
    this(new PhiAccrualFailureDetector(config, eventStream), LocalPauseWatch.shared(
        duration(config, "local-pause-threshold", Duration.ofSeconds(2)),
        duration(config, "local-pause-grace", Duration.ofSeconds(3)))::unreliable);
  }

  /** @param unreliable whether this node's observations are unreliable at a {@link System#nanoTime()} */
  LocalPauseAwareFailureDetector(FailureDetector delegate, LongPredicate unreliable) {
    this.delegate = delegate;
    this.unreliable = unreliable;
  }

  private static Duration duration(Config config, String path, Duration fallback) {
    return config.hasPath(path) ? config.getDuration(path) : fallback;
  }

  @Override
  public boolean isAvailable() {
    if (unreliable.test(System.nanoTime())) {
      return lastVerdict;
    }
    boolean verdict = delegate.isAvailable();
    lastVerdict = verdict;
    return verdict;
  }

  @Override
  public boolean isMonitoring() {
    return delegate.isMonitoring();
  }

  @Override
  public void heartbeat() {
    delegate.heartbeat();
  }

  @Override
  public void setAddress(String address) {
    if (delegate instanceof FailureDetectorWithAddress a) {
      a.setAddress(address);
    }
  }
}
