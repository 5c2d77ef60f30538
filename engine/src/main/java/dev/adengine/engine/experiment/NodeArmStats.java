package dev.adengine.engine.experiment;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.adengine.engine.CborSerializable;
import java.util.Map;

/**
 * One node's cumulative per-arm stats, as replicated in Distributed Data: {@code arms} maps
 * {@code experimentId + "/" + arm} (neither may contain '/') to {@link
 * dev.adengine.experiments.stats.ArmStats#encode} bytes. A node only ever replaces its own entry,
 * with a later cumulative one, so summing the entries of all nodes counts everything once.
 */
public record NodeArmStats(long publishedAtMillis, Map<String, byte[]> arms) implements CborSerializable {

  @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
  public NodeArmStats(@JsonProperty("publishedAtMillis") long publishedAtMillis,
      @JsonProperty("arms") Map<String, byte[]> arms) {
    this.publishedAtMillis = publishedAtMillis;
    this.arms = Map.copyOf(arms);
  }

  public static String key(String experimentId, String arm) {
    return experimentId + "/" + arm;
  }
}
