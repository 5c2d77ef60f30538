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
 * Live drift of this node's active model: the feature and score distributions of the rows it
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
  private volatile Monitored current;

  private record Monitored(String version, DriftWindow window) {}

  public DriftMonitor(Settings settings) {
    this.settings = settings;
  }

  /** Makes {@code reference} the one that rows scored by {@code version} are compared with. */
  public void reference(String version, ReferenceDistribution reference) {
    references.put(version, reference);
  }

  /** One row scored by {@code version} with (stage-2) pCTR {@code score}; the writer thread only. */
  void observe(String version, double[] row, double score, long nowMs) {
    Monitored m = current;
    if (m == null || !m.version().equals(version)) {
      ReferenceDistribution ref = references.get(version);
      if (ref == null) {
        unmonitored.increment();
        return;
      }
      long slot = Math.max(1, settings.window().toMillis() / settings.slots());
      m = new Monitored(version, new DriftWindow(ref, slot, settings.slots()));
      current = m; // a new active model starts a new window
    }
    m.window().add(row, score, nowMs);
  }

  public Status status(long nowMs) {
    Monitored m = current;
    if (m == null) {
      return new Status(null, null, settings.threshold(), List.of());
    }
    DriftReport r = m.window().report(nowMs, settings.minRows());
    return new Status(m.version(), r, settings.threshold(), r.drifted(settings.threshold()));
  }

  /** Rows scored by a model that has no reference distribution. */
  public long unmonitored() {
    return unmonitored.sum();
  }

  public Settings settings() {
    return settings;
  }
}
