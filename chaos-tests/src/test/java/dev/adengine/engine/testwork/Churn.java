package dev.adengine.engine.testwork;

/**
 * A deterministic CPU- and allocation-heavy workload for {@code JfrSummaryTest}, in a package that
 * {@code JfrSummary.COMPONENTS} files under "engine: testwork". All its work is in one method, so
 * that with inlining JFR still puts that method on top of the stack; the arrays go into a ring so
 * escape analysis cannot remove their allocation.
 */
public final class Churn {
  private final long[][] ring = new long[256][];

  /** Allocates and mixes {@code long[64]} arrays until {@code nanos} have passed; returns a checksum. */
  public long run(long nanos) {
    long deadline = System.nanoTime() + nanos;
    long x = 0x9E3779B97F4A7C15L;
    long sum = 0;
    int slot = 0;
    while (System.nanoTime() < deadline) {
      for (int round = 0; round < 64; round++) {
        long[] a = new long[64];
        for (int i = 0; i < a.length; i++) {
          x ^= x << 13;
          x ^= x >>> 7;
          x ^= x << 17;
          a[i] = x;
        }
        for (int k = 0; k < 8; k++) {
          for (int i = 1; i < a.length; i++) {
            a[i] += Long.rotateLeft(a[i - 1], k + 1) * 0x9E3779B97F4A7C15L;
          }
        }
        sum += a[a.length - 1];
        ring[slot] = a;
        slot = (slot + 1) & (ring.length - 1);
      }
    }
    return sum;
  }
}
