package dev.adengine.experiments;

/**
 * Where a user stands in one layer: in an arm of an experiment, in the global holdout, or in no
 * experiment. Instances are built once per config by {@link Assigner} and shared.
 *
 * @param experimentId the experiment, or {@code null} unless {@link Kind#EXPERIMENT}
 * @param arm the arm's name, or {@link ArmDef#HOLDOUT} / {@link ArmDef#NONE}
 * @param params what the arm fixes ({@link ArmParams#DEFAULTS} outside experiments)
 */
public record LayerAssignment(String layerId, Kind kind, String experimentId, String arm, boolean control,
    ArmParams params) {

  public enum Kind {
    /** In an arm of a running experiment. */
    EXPERIMENT,
    /** In the global holdout: no experiment in any layer, default parameters. */
    HOLDOUT,
    /** In no experiment of this layer (or no user id): default parameters. */
    NONE
  }

  static LayerAssignment holdout(String layerId) {
    return new LayerAssignment(layerId, Kind.HOLDOUT, null, ArmDef.HOLDOUT, false, ArmParams.DEFAULTS);
  }

  static LayerAssignment none(String layerId) {
    return new LayerAssignment(layerId, Kind.NONE, null, ArmDef.NONE, false, ArmParams.DEFAULTS);
  }

  public boolean inExperiment() {
    return kind == Kind.EXPERIMENT;
  }
}
