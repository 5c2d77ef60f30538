package dev.adengine.experiments;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One arm of an experiment: its name, its share of the experiment's traffic in basis points,
 * whether it is the control, the serving parameters it fixes, and (once laid out by {@link
 * ExperimentConfig#create}) the arm buckets it owns.
 *
 * <p>A user of the experiment falls in arm bucket {@code XXH64(user, experiment salt) mod 10000}
 * and is served by the arm owning that bucket. {@code buckets} is {@code null} only in an arm
 * spec handed to {@link ExperimentConfig#create}; in a config every arm owns exactly {@code
 * basisPoints} buckets.
 */
public record ArmDef(String name, int basisPoints, boolean control, ArmParams params, BucketSet buckets) {

  /** Names used in reports and logs for users outside every arm; no arm may take them. */
  public static final String HOLDOUT = "holdout";
  public static final String NONE = "none";

  static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

  public ArmDef {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new InvalidConfigException("arms[" + name + "].name",
          "must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit");
    }
    if (name.equals(HOLDOUT) || name.equals(NONE)) {
      throw new InvalidConfigException("arms[" + name + "].name", "'" + name + "' is reserved");
    }
    if (basisPoints < 0 || basisPoints > BucketSet.BUCKETS) {
      throw new InvalidConfigException("arms[" + name + "].basisPoints",
          "must be in [0, 10000], got " + basisPoints);
    }
    Objects.requireNonNull(params, "params (ArmParams.DEFAULTS for none)");
    if (buckets != null && buckets.size() != basisPoints) {
      throw new InvalidConfigException("arms[" + name + "].buckets",
          "hold " + buckets.size() + " buckets but basisPoints is " + basisPoints);
    }
  }

  /** An arm spec, not laid out yet: the input to {@link ExperimentConfig#create}. */
  public static ArmDef of(String name, int basisPoints, boolean control, ArmParams params) {
    return new ArmDef(name, basisPoints, control, params, null);
  }

  ArmDef withLayout(int newBasisPoints, BucketSet newBuckets) {
    return new ArmDef(name, newBasisPoints, control, params, newBuckets);
  }
}
