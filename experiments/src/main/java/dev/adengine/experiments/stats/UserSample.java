package dev.adengine.experiments.stats;

import dev.adengine.experiments.XxHash64;
import java.util.Arrays;

/**
 * The distinct users an arm served, as an exact sample of bounded size: the sample-ratio check
 * counts users, the unit that is randomized, not requests (users with several requests make
 * request counts over-dispersed, and a treatment that changes how often users come back would
 * look like a broken split).
 *
 * <p>Adaptive hash sampling (Wegman; Gibbons' "distinct sampling"): a user is identified by
 * {@code XXH64(user id, SEED)}; at level {@code L} the sample keeps the hashes whose top {@code
 * L} bits are zero, a uniform random {@code 2^-L} share of all users, independent of their arms
 * (another seed than any assignment salt). When the sample outgrows its capacity the level goes
 * up and the hashes above it are dropped. The same user always has the same hash, so samples
 * from several nodes merge by union at the higher of their levels ({@link #merge}): a G-Set,
 * commutative, associative and idempotent. Two arms' samples compared at a common level give
 * exact user counts of one random subsample: a valid multinomial for the chi-square.
 */
public final class UserSample {

  /**
   * Default capacity: 65,536 hashes (512 KB) per arm. With {@code n} sampled users in two equal
   * arms, the chi-square flags (p < 0.001) an imbalance of about {@code sqrt(43 / n)}: 2.6 % at
   * 65,536 sampled users, 1.8 % when both arms are full. A smaller capacity replicates less and
   * sees less. ({@link ArmStats.Recorder} holds its sample in a concurrent set of boxed longs,
   * a few MB per arm when full: a primitive set would do if that matters.)
   */
  public static final int DEFAULT_CAPACITY = 65_536;

  private static final long SEED = XxHash64.seedOf("adengine:user-sample");
  private static final long[] NONE = new long[0];

  public static final UserSample EMPTY = new UserSample(0, DEFAULT_CAPACITY, NONE);

  private final int level;
  private final int capacity;
  /** Sorted ascending (signed order), distinct, all kept at {@link #level}. */
  private final long[] hashes;

  private UserSample(int level, int capacity, long[] hashes) {
    this.level = level;
    this.capacity = capacity;
    this.hashes = hashes;
  }

  /** An empty sample that keeps at most {@code capacity} users. */
  public static UserSample withCapacity(int capacity) {
    if (capacity < 16) {
      throw new IllegalArgumentException("user sample capacity must be >= 16, got " + capacity);
    }
    return new UserSample(0, capacity, NONE);
  }

  /** The hash a user is sampled by. */
  public static long hashOf(String userId) {
    return XxHash64.hashChars(userId, SEED);
  }

  /** Whether a hash is kept at {@code level}: its top {@code level} bits are zero. */
  public static boolean keeps(int level, long hash) {
    return level == 0 || (hash >>> (64 - level)) == 0;
  }

  /** The sampling level: each user is in the sample with probability {@code 2^-level}. */
  public int level() {
    return level;
  }

  public int capacity() {
    return capacity;
  }

  /** Sampled users. */
  public int size() {
    return hashes.length;
  }

  /** Estimated distinct users: {@code size * 2^level} (exact at level 0). */
  public double estimatedUsers() {
    return hashes.length * Math.pow(2, level);
  }

  /** How many sampled users this sample keeps at a level at least its own. */
  public int sizeAt(int atLevel) {
    if (atLevel < level) {
      throw new IllegalArgumentException("level " + atLevel + " is below this sample's " + level);
    }
    if (atLevel == level) {
      return hashes.length;
    }
    int n = 0;
    for (long h : hashes) {
      if (keeps(atLevel, h)) {
        n++;
      }
    }
    return n;
  }

  /** This sample with one more user's hash (or itself when not sampled or already in). */
  public UserSample plus(long hash) {
    if (!keeps(level, hash)) {
      return this;
    }
    int at = Arrays.binarySearch(hashes, hash);
    if (at >= 0) {
      return this;
    }
    int insert = -at - 1;
    long[] next = new long[hashes.length + 1];
    System.arraycopy(hashes, 0, next, 0, insert);
    next[insert] = hash;
    System.arraycopy(hashes, insert, next, insert + 1, hashes.length - insert);
    return shrink(level, capacity, next);
  }

  /** The union of both samples at the higher level, within the smaller capacity. */
  public UserSample merge(UserSample other) {
    int atLevel = Math.max(level, other.level);
    int cap = Math.min(capacity, other.capacity);
    long[] union = new long[hashes.length + other.hashes.length];
    int i = 0;
    int j = 0;
    int n = 0;
    while (i < hashes.length || j < other.hashes.length) {
      long next;
      if (j >= other.hashes.length || (i < hashes.length && hashes[i] < other.hashes[j])) {
        next = hashes[i++];
      } else if (i >= hashes.length || other.hashes[j] < hashes[i]) {
        next = other.hashes[j++];
      } else {
        next = hashes[i++];
        j++;
      }
      if (keeps(atLevel, next)) {
        union[n++] = next;
      }
    }
    return shrink(atLevel, cap, Arrays.copyOf(union, n));
  }

  /** The sorted hashes (a copy), for encoding. */
  public long[] hashes() {
    return hashes.clone();
  }

  /** A sample from encoded parts; the hashes are sorted and filtered here. */
  public static UserSample of(int level, int capacity, long[] hashes) {
    if (level < 0 || level > 63) {
      throw new IllegalArgumentException("user sample level out of range: " + level);
    }
    long[] sorted = Arrays.stream(hashes).distinct().sorted().filter(h -> keeps(level, h)).toArray();
    return shrink(level, Math.max(16, capacity), sorted);
  }

  private static UserSample shrink(int level, int capacity, long[] sorted) {
    int l = level;
    long[] kept = sorted;
    while (kept.length > capacity && l < 63) {
      l++;
      int atLevel = l;
      kept = Arrays.stream(kept).filter(h -> keeps(atLevel, h)).toArray();
    }
    return new UserSample(l, capacity, kept);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UserSample s && level == s.level && capacity == s.capacity && Arrays.equals(hashes, s.hashes);
  }

  @Override
  public int hashCode() {
    return 31 * level + Arrays.hashCode(hashes);
  }

  @Override
  public String toString() {
    return "UserSample[level=" + level + ", size=" + hashes.length + ", capacity=" + capacity + "]";
  }
}
