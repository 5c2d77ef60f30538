package dev.adengine.experiments;

/**
 * A layer: a partition of all (non-holdout) traffic into {@link BucketSet#BUCKETS} buckets by
 * {@code XXH64(user, salt) mod 10000}. Experiments in one layer own disjoint buckets, so a user is
 * in at most one of them (mutually exclusive); layers hash with different salts, so being in an
 * experiment of one layer says nothing about the others (orthogonal).
 */
public record Layer(String id, String salt) {

  public Layer {
    if (id == null || !ArmDef.NAME.matcher(id).matches()) {
      throw new InvalidConfigException("layers[" + id + "].id",
          "must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit");
    }
    if (salt == null || salt.isEmpty()) {
      throw new InvalidConfigException("layers[" + id + "].salt", "is required");
    }
  }

  /** A layer salted with {@code "layer:" + id}. */
  public static Layer of(String id) {
    return new Layer(id, "layer:" + id);
  }
}
