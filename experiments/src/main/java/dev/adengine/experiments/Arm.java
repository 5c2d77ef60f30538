package dev.adengine.experiments;

/** One arm of an experiment and its share of traffic in basis points (1/100 of a percent). */
public record Arm(String name, int basisPoints) {
  public Arm {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("arm name is required");
    }
    if (basisPoints < 0 || basisPoints > Experiment.BUCKETS) {
      throw new IllegalArgumentException("basis points out of range for arm " + name + ": " + basisPoints);
    }
  }
}
