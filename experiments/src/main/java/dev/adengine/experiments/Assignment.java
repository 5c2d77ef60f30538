package dev.adengine.experiments;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A user's assignment in every layer of one config version: what {@link Assigner#assign} returns.
 * Immutable; its per-layer entries are shared instances.
 */
public final class Assignment {

  private final long configVersion;
  private final boolean holdout;
  private final LayerAssignment[] layers;

  Assignment(long configVersion, boolean holdout, LayerAssignment[] layers) {
    this.configVersion = configVersion;
    this.holdout = holdout;
    this.layers = layers;
  }

  /** The config version this was computed from (log it beside the arm). */
  public long configVersion() {
    return configVersion;
  }

  /** True when the user is in the global holdout (then every layer says {@link LayerAssignment.Kind#HOLDOUT}). */
  public boolean holdout() {
    return holdout;
  }

  /** How many layers; {@link #layer(int)} takes 0 to {@code layerCount() - 1}, in config order. */
  public int layerCount() {
    return layers.length;
  }

  public LayerAssignment layer(int index) {
    return layers[index];
  }

  /** The user's place in each layer, in config order. */
  public List<LayerAssignment> layers() {
    return List.of(layers);
  }

  /** Only the layers where the user is in an experiment arm. */
  public List<LayerAssignment> experiments() {
    List<LayerAssignment> in = new ArrayList<>(layers.length);
    for (LayerAssignment a : layers) {
      if (a.inExperiment()) {
        in.add(a);
      }
    }
    return in;
  }

  /**
   * The parameters to serve: each arm's over {@code defaults}. No two layers set the same field
   * (a config rule), so the order does not matter.
   */
  public ArmParams params(ArmParams defaults) {
    ArmParams p = defaults;
    for (LayerAssignment a : layers) {
      if (a.inExperiment()) {
        p = a.params().over(p);
      }
    }
    return p;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Assignment a && configVersion == a.configVersion && holdout == a.holdout
        && Arrays.equals(layers, a.layers);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(configVersion) * 31 + Arrays.hashCode(layers);
  }

  @Override
  public String toString() {
    return "Assignment[version=" + configVersion + (holdout ? ", holdout" : "") + ", layers=" + Arrays.toString(layers)
        + "]";
  }
}
