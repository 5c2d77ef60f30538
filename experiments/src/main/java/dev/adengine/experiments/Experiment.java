package dev.adengine.experiments;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * An experiment that splits users across arms by a salted hash of the user id.
 *
 * <p>Assignment is a pure function of (salt, user id): stable across requests, restarts and nodes,
 * with no remote call. Each experiment has its own salt, so assignments in two experiments are
 * independent. Arms take consecutive ranges of the 10,000 buckets; buckets no arm covers are
 * outside the experiment ({@link #assign} returns null).
 *
 * <p>The engine's single default experiment, kept as it was (its own FNV-based hash) until the
 * engine serves an {@link ExperimentConfig} through an {@link Assigner}, which also has layers, a
 * holdout, per-arm parameters and ramps that keep users in their arm.
 */
public final class Experiment {
  public static final int BUCKETS = 10_000;

  private final String id;
  private final String salt;
  private final List<Arm> arms;
  private final String[] armByBucketRange;
  private final int[] upperBounds;

  public Experiment(String id, String salt, List<Arm> arms) {
    if (id == null || id.isBlank()) {
      throw new IllegalArgumentException("experiment id is required");
    }
    if (salt == null || salt.isEmpty()) {
      throw new IllegalArgumentException("experiment salt is required: " + id);
    }
    if (arms.isEmpty()) {
      throw new IllegalArgumentException("experiment needs at least one arm: " + id);
    }
    int total = 0;
    for (Arm arm : arms) {
      total += arm.basisPoints();
    }
    if (total > BUCKETS) {
      throw new IllegalArgumentException("arms of " + id + " cover " + total + " > " + BUCKETS + " basis points");
    }
    this.id = id;
    this.salt = salt;
    this.arms = List.copyOf(arms);
    this.armByBucketRange = new String[arms.size()];
    this.upperBounds = new int[arms.size()];
    int upper = 0;
    for (int i = 0; i < arms.size(); i++) {
      upper += arms.get(i).basisPoints();
      armByBucketRange[i] = arms.get(i).name();
      upperBounds[i] = upper;
    }
  }

  public String id() {
    return id;
  }

  public List<Arm> arms() {
    return arms;
  }

  /** The arm for this user, or null when the user's bucket is outside every arm. */
  public String assign(String userId) {
    int bucket = bucket(salt, userId);
    for (int i = 0; i < upperBounds.length; i++) {
      if (bucket < upperBounds[i]) {
        return armByBucketRange[i];
      }
    }
    return null;
  }

  /** Bucket in [0, 10000) from a 64-bit murmur3 finalizer over an FNV-1a hash of salt and id. */
  static int bucket(String salt, String userId) {
    long h = 0xcbf29ce484222325L;
    h = fnv(h, salt.getBytes(StandardCharsets.UTF_8));
    h ^= 0x1f;
    h *= 0x100000001b3L;
    h = fnv(h, (userId == null ? "" : userId).getBytes(StandardCharsets.UTF_8));
    h = mix(h);
    return (int) Long.remainderUnsigned(h, BUCKETS);
  }

  private static long fnv(long h, byte[] bytes) {
    for (byte b : bytes) {
      h ^= (b & 0xff);
      h *= 0x100000001b3L;
    }
    return h;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }
}
