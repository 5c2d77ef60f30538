package dev.adengine.experiments;

/**
 * The global holdout: users with {@code XXH64(user, salt) mod 10000 < basisPoints} are in no
 * experiment of any layer. They are served the default parameters and reported as {@code
 * holdout}, a long-running baseline for the combined effect of every launched change. Growing the
 * holdout only adds users to it (its buckets are {@code [0, basisPoints)}).
 */
public record Holdout(int basisPoints, String salt) {

  public static final Holdout NONE = new Holdout(0, "holdout");

  public Holdout {
    if (basisPoints < 0 || basisPoints > BucketSet.BUCKETS) {
      throw new InvalidConfigException("holdout.basisPoints", "must be in [0, 10000], got " + basisPoints);
    }
    if (salt == null || salt.isEmpty()) {
      throw new InvalidConfigException("holdout.salt", "is required");
    }
  }
}
