package dev.adengine.engine.slo;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.adengine.engine.CborSerializable;

/**
 * One node's SLO figures as replicated in Distributed Data ({@link SloPublisher}): for each window
 * (in {@code windowMillis}' order) the valid bid requests, the bad ones per SLI, the excluded ones
 * (INVALID_ARGUMENT) and the share of the window the node has been counting. A node only ever
 * replaces its own entry, so summing fresh entries counts every request once.
 */
public record NodeSlo(long publishedAtMillis, long startedAtMillis, long[] windowMillis, long[] total,
    long[] availabilityBad, long[] latencyBad, long[] excluded, double[] coverage) implements CborSerializable {

  @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
  public NodeSlo(@JsonProperty("publishedAtMillis") long publishedAtMillis,
      @JsonProperty("startedAtMillis") long startedAtMillis, @JsonProperty("windowMillis") long[] windowMillis,
      @JsonProperty("total") long[] total, @JsonProperty("availabilityBad") long[] availabilityBad,
      @JsonProperty("latencyBad") long[] latencyBad, @JsonProperty("excluded") long[] excluded,
      @JsonProperty("coverage") double[] coverage) {
    this.publishedAtMillis = publishedAtMillis;
    this.startedAtMillis = startedAtMillis;
    this.windowMillis = windowMillis;
    this.total = total;
    this.availabilityBad = availabilityBad;
    this.latencyBad = latencyBad;
    this.excluded = excluded;
    this.coverage = coverage;
  }

  /** The position of the window of {@code millis}, or -1 (a node on another config). */
  public int indexOf(long millis) {
    for (int i = 0; i < windowMillis.length; i++) {
      if (windowMillis[i] == millis) {
        return i;
      }
    }
    return -1;
  }
}
