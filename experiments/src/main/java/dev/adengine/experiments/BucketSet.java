package dev.adengine.experiments;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable set of buckets out of {@link #BUCKETS} (10,000, so one bucket is one basis point),
 * kept as sorted, disjoint, non-adjacent half-open ranges {@code [start, end)}.
 *
 * <p>Bucket sets are how traffic is laid out: an experiment owns a set of its layer's buckets and
 * an arm owns a set of its experiment's arm buckets. They are stored in the config, not derived
 * from basis points on every load, so that a ramp can keep every user where it was: {@link
 * #takeLowest} grows a set by adding free buckets (nothing it held moves) and {@link
 * #dropHighest} shrinks it by giving up its highest buckets (what it keeps stays).
 */
public final class BucketSet {

  /** Buckets in a layer (and in an experiment's arm space): one per basis point. */
  public static final int BUCKETS = 10_000;

  public static final BucketSet EMPTY = new BucketSet(new int[0]);
  public static final BucketSet ALL = new BucketSet(new int[] {0, BUCKETS});

  /** start0, end0, start1, end1, ...: sorted, disjoint, non-adjacent, non-empty ranges. */
  private final int[] bounds;
  private final int size;

  private BucketSet(int[] bounds) {
    this.bounds = bounds;
    int s = 0;
    for (int i = 0; i < bounds.length; i += 2) {
      s += bounds[i + 1] - bounds[i];
    }
    this.size = s;
  }

  /** The range {@code [start, end)}. */
  public static BucketSet range(int start, int end) {
    return of(new int[] {start, end});
  }

  /**
   * The set with these {@code start, end} pairs, which must be within {@code [0, 10000)}, each
   * non-empty, sorted and disjoint; adjacent ranges are joined.
   *
   * @throws IllegalArgumentException naming the offending pair
   */
  public static BucketSet of(int[] startEndPairs) {
    if (startEndPairs.length % 2 != 0) {
      throw new IllegalArgumentException("bucket ranges need start/end pairs, got " + startEndPairs.length + " values");
    }
    List<int[]> merged = new ArrayList<>();
    int previousEnd = -1;
    for (int i = 0; i < startEndPairs.length; i += 2) {
      int start = startEndPairs[i];
      int end = startEndPairs[i + 1];
      if (start < 0 || end > BUCKETS || start >= end) {
        throw new IllegalArgumentException("bucket range [" + start + ", " + end + ") is empty or outside [0, "
            + BUCKETS + ")");
      }
      if (start < previousEnd) {
        throw new IllegalArgumentException("bucket range [" + start + ", " + end + ") overlaps or precedes the one"
            + " before it");
      }
      if (start == previousEnd) {
        merged.get(merged.size() - 1)[1] = end;
      } else {
        merged.add(new int[] {start, end});
      }
      previousEnd = end;
    }
    int[] bounds = new int[merged.size() * 2];
    for (int i = 0; i < merged.size(); i++) {
      bounds[2 * i] = merged.get(i)[0];
      bounds[2 * i + 1] = merged.get(i)[1];
    }
    return bounds.length == 0 ? EMPTY : new BucketSet(bounds);
  }

  /** How many buckets: the basis points of traffic this set stands for. */
  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  public boolean contains(int bucket) {
    for (int i = 0; i < bounds.length; i += 2) {
      if (bucket < bounds[i]) {
        return false;
      }
      if (bucket < bounds[i + 1]) {
        return true;
      }
    }
    return false;
  }

  /** The {@code start, end} pairs, ascending (a copy). */
  public int[] bounds() {
    return bounds.clone();
  }

  public boolean intersects(BucketSet other) {
    return !intersection(other).isEmpty();
  }

  public BucketSet union(BucketSet other) {
    boolean[] in = toMask();
    other.fill(in, true);
    return fromMask(in);
  }

  public BucketSet minus(BucketSet other) {
    boolean[] in = toMask();
    other.fill(in, false);
    return fromMask(in);
  }

  public BucketSet intersection(BucketSet other) {
    boolean[] in = toMask();
    boolean[] theirs = other.toMask();
    for (int b = 0; b < BUCKETS; b++) {
      in[b] &= theirs[b];
    }
    return fromMask(in);
  }

  /** The complement in {@code [0, 10000)}. */
  public BucketSet complement() {
    return ALL.minus(this);
  }

  /**
   * This set plus the {@code n} lowest buckets of {@code free} not already in it: growing keeps
   * every bucket held.
   *
   * @throws IllegalArgumentException when {@code free} has fewer than {@code n} such buckets
   */
  public BucketSet takeLowest(BucketSet free, int n) {
    if (n < 0) {
      throw new IllegalArgumentException("cannot take " + n + " buckets");
    }
    boolean[] in = toMask();
    boolean[] available = free.toMask();
    int taken = 0;
    for (int b = 0; b < BUCKETS && taken < n; b++) {
      if (available[b] && !in[b]) {
        in[b] = true;
        taken++;
      }
    }
    if (taken < n) {
      throw new IllegalArgumentException("only " + taken + " free buckets, " + n + " needed");
    }
    return fromMask(in);
  }

  /** This set without its {@code n} highest buckets: what is kept stays where it was. */
  public BucketSet dropHighest(int n) {
    if (n < 0 || n > size) {
      throw new IllegalArgumentException("cannot drop " + n + " of " + size + " buckets");
    }
    boolean[] in = toMask();
    int dropped = 0;
    for (int b = BUCKETS - 1; b >= 0 && dropped < n; b--) {
      if (in[b]) {
        in[b] = false;
        dropped++;
      }
    }
    return fromMask(in);
  }

  /** Writes {@code value} into {@code table} at every bucket of this set. */
  void fill(boolean[] table, boolean value) {
    for (int i = 0; i < bounds.length; i += 2) {
      Arrays.fill(table, bounds[i], bounds[i + 1], value);
    }
  }

  private boolean[] toMask() {
    boolean[] in = new boolean[BUCKETS];
    fill(in, true);
    return in;
  }

  private static BucketSet fromMask(boolean[] in) {
    List<Integer> pairs = new ArrayList<>();
    int b = 0;
    while (b < BUCKETS) {
      if (!in[b]) {
        b++;
        continue;
      }
      int start = b;
      while (b < BUCKETS && in[b]) {
        b++;
      }
      pairs.add(start);
      pairs.add(b);
    }
    return pairs.isEmpty() ? EMPTY : new BucketSet(pairs.stream().mapToInt(Integer::intValue).toArray());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BucketSet other && Arrays.equals(bounds, other.bounds);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bounds);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < bounds.length; i += 2) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append('[').append(bounds[i]).append(", ").append(bounds[i + 1]).append(')');
    }
    return sb.append('}').toString();
  }
}
