package dev.adengine.engine.lifecycle;

import dev.adengine.models.drift.DriftReport;
import dev.adengine.models.drift.DriftWindow;
import dev.adengine.models.drift.ReferenceDistribution;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live drift of the models this node scores with (each version apart; the admin API shows the active one's): the feature and score distributions of the rows it
 * scored over a sliding window ({@link DriftWindow}), compared with the reference distributions the
 * model was registered with (PSI per feature and for the score).
 *
 * <p>Fed by the feature-log writer thread only (one writer), off the bid path; read by the admin API
 * and metrics from any thread. A model without a reference (the bundled one, trained before the
 * registry) is not monitored: its rows are counted in {@link #unmonitored()}.
 */
public final class DriftMonitor {

  /**
   * @param window how far back the live distributions reach
   * @param slots ring slots the window is cut into (it moves one slot at a time)
   * @param minRows rows the window must hold before PSI is reported
   * @param threshold the PSI above which a feature counts as drifted
   */
  public record Settings(Duration window, int slots, long minRows, double threshold) {
    public Settings {
      if (slots < 1 || window.toMillis() < slots || minRows < 1 || !(threshold > 0)) {
        throw new IllegalArgumentException("bad drift settings " + window + "/" + slots + "/" + minRows + "/"
            + threshold);
      }
    }
  }

  /** The drift of the monitored model now; {@code report} is null when nothing is monitored yet. */
  public record Status(String modelVersion, DriftReport report, double threshold, List<String> drifted) {}

  private final Settings settings;
  private final Map<String, ReferenceDistribution> references = new ConcurrentHashMap<>();
  private final LongAdder unmonitored = new LongAdder();
  /** One window per version scored here (the active one, experiment arms' models); few. */
  private final Map<String, DriftWindow> windows = new ConcurrentHashMap<>();

  public DriftMonitor(Settings settings) {
    this.settings = settings;
  }

  /** Makes {@code reference} the one that rows scored by {@code version} are compared with. */
  public void reference(String version, ReferenceDistribution reference) {
    references.put(version, reference);
  }

  /** One row scored by {@code version} with (stage-2) pCTR {@code score}; the writer thread only. */
  void observe(String version, double[] row, double score, long nowMs) {
    DriftWindow w = windows.get(version);
    if (w == null) {
      ReferenceDistribution ref = references.get(version);
      if (ref == null) {
        unmonitored.increment();
        return;
      }
      long slot = Math.max(1, settings.window().toMillis() / settings.slots());
      w = new DriftWindow(ref, slot, settings.slots());
      windows.put(version, w); // the writer thread is the only one adding
    }
    w.add(row, score, nowMs);
  }

  /** The drift of {@code version}'s rows (the active model's, for the admin API). */
  public Status status(String version, long nowMs) {
    DriftWindow w = windows.get(version);
    if (w == null) {
      return new Status(null, null, settings.threshold(), List.of());
    }
    DriftReport r = w.report(nowMs, settings.minRows());
    return new Status(version, r, settings.threshold(), r.drifted(settings.threshold()));
  }

  /** The versions monitored here (those that scored rows and have a reference); a live view. */
  public java.util.Set<String> versions() {
    return java.util.Collections.unmodifiableSet(windows.keySet());
  }

  /** Rows scored by a model that has no reference distribution. */
  public long unmonitored() {
    return unmonitored.sum();
  }

  public Settings settings() {
    return settings;
  }
}
