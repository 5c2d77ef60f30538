package dev.adengine.engine.lifecycle;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.adengine.engine.CborSerializable;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the guardrail watches on this node: cumulative counts of the traffic served since the
 * active model last changed here: requests and failed requests, and the summed pCTR of every
 * winner (the bid path; pCTR at the top slot, as serving scores); for the requests the feature log
 * wrote, the same sum and the clicks the model expects at the positions the winners were shown in
 * (the writer, off the bid path); and the impressions and clicks this node accepted (the event
 * path). The expected clicks of all traffic are then the ratio estimate {@code topSlotPctr x
 * loggedExpected / loggedTopSlotPctr}, right whatever share of requests the log samples or its
 * rate cap leaves out. Lock-free; read by {@link ModelGuardrail}'s publisher. Without the feature
 * log nothing gives the position adjustment, and calibration is not judged.
 *
 * <p>Events are counted where they are accepted, whichever node served the ad, so only the
 * cluster-wide sums are meaningful (the guardrail sums every node). They are not attributed to the
 * model that served the ad: with experiment arms on other models, the figures are the served mix's.
 */
public final class ModelHealth {

  /** One node's cumulative counts for {@code version} (since {@code sinceMs}). */
  public record Counts(String version, long sinceMs, long requests, long errors, double topSlotPctr,
      double loggedTopSlotPctr, double loggedExpected, long impressions, long clicks) implements CborSerializable {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Counts(@JsonProperty("version") String version, @JsonProperty("sinceMs") long sinceMs,
        @JsonProperty("requests") long requests, @JsonProperty("errors") long errors,
        @JsonProperty("topSlotPctr") double topSlotPctr, @JsonProperty("loggedTopSlotPctr") double loggedTopSlotPctr,
        @JsonProperty("loggedExpected") double loggedExpected, @JsonProperty("impressions") long impressions,
        @JsonProperty("clicks") long clicks) {
      this.version = version;
      this.sinceMs = sinceMs;
      this.requests = requests;
      this.errors = errors;
      this.topSlotPctr = topSlotPctr;
      this.loggedTopSlotPctr = loggedTopSlotPctr;
      this.loggedExpected = loggedExpected;
      this.impressions = impressions;
      this.clicks = clicks;
    }
  }

  private static final class Window {
    final String version;
    final long sinceMs;
    final LongAdder requests = new LongAdder();
    final LongAdder errors = new LongAdder();
    final DoubleAdder topSlot = new DoubleAdder();
    final DoubleAdder loggedTopSlot = new DoubleAdder();
    final DoubleAdder loggedExpected = new DoubleAdder();
    final LongAdder impressions = new LongAdder();
    final LongAdder clicks = new LongAdder();

    Window(String version, long sinceMs) {
      this.version = version;
      this.sinceMs = sinceMs;
    }
  }

  private volatile Window window;

  public ModelHealth(String activeVersion, long nowMs) {
    window = new Window(activeVersion, nowMs);
  }

  /** Starts counting afresh for a newly active version. */
  public void activeChanged(String version, long nowMs) {
    if (!window.version.equals(version)) {
      window = new Window(version, nowMs);
    }
  }

  /** A request answered, its winners' pCTRs (top slot) summing to {@code summedPctr}. */
  public void served(double summedPctr) {
    Window w = window;
    w.requests.increment();
    if (summedPctr > 0) {
      w.topSlot.add(summedPctr);
    }
  }

  /**
   * A logged request's winners: their pCTRs (top slot) sum to {@code summedPctr}, and they are
   * expected to get {@code expectedClicks} clicks in the positions they were shown in.
   */
  public void placed(double summedPctr, double expectedClicks) {
    Window w = window;
    w.loggedTopSlot.add(summedPctr);
    w.loggedExpected.add(expectedClicks);
  }

  /** A request that failed on the server's side (not a client's bad input). */
  public void failed() {
    Window w = window;
    w.requests.increment();
    w.errors.increment();
  }

  public void impression() {
    window.impressions.increment();
  }

  public void click() {
    window.clicks.increment();
  }

  public Counts snapshot() {
    Window w = window;
    return new Counts(w.version, w.sinceMs, w.requests.sum(), w.errors.sum(), w.topSlot.sum(),
        w.loggedTopSlot.sum(), w.loggedExpected.sum(),
        w.impressions.sum(), w.clicks.sum());
  }
}
