package dev.adengine.models.drift;

/**
 * Population stability index: how far a live distribution over fixed bins has moved from a
 * reference one, {@code PSI = sum_bins (actual - expected) x ln(actual / expected)} over
 * proportions. It is the symmetric Kullback-Leibler divergence of the two, 0 when they agree.
 *
 * <p>The usual reading, which drift alerts default to: below {@link #MODERATE} (0.1) stable; from
 * 0.1 to {@link #SIGNIFICANT} (0.25) a moderate shift, worth a look; above 0.25 a significant
 * shift, the model is scoring traffic unlike what it was trained on.
 *
 * <p>A bin empty on one side would give an infinite term, so both proportions are floored at
 * {@link #EPSILON} (1e-4) first: an empty reference bin that fills up still counts heavily (a bin
 * holding 5% live adds about 0.31), but finitely, and two empty bins add nothing.
 */
public final class Psi {
  /** Floor of each proportion before the logarithm. */
  public static final double EPSILON = 1e-4;
  /** Below this a distribution is read as stable. */
  public static final double MODERATE = 0.1;
  /** Above this a distribution has shifted significantly. */
  public static final double SIGNIFICANT = 0.25;

  private Psi() {}

  /** PSI of {@code actual} against {@code expected}, proportions over the same bins. */
  public static double of(double[] expected, double[] actual) {
    if (expected.length != actual.length) {
      throw new IllegalArgumentException("expected has " + expected.length + " bins, actual " + actual.length);
    }
    double psi = 0;
    for (int i = 0; i < expected.length; i++) {
      double e = Math.max(EPSILON, expected[i]);
      double a = Math.max(EPSILON, actual[i]);
      psi += (a - e) * Math.log(a / e);
    }
    return psi;
  }

  /** Counts as proportions of their total; all zeros when there are no counts. */
  public static double[] proportions(long[] counts) {
    long total = 0;
    for (long c : counts) {
      total += c;
    }
    double[] p = new double[counts.length];
    if (total == 0) {
      return p;
    }
    for (int i = 0; i < counts.length; i++) {
      p[i] = (double) counts[i] / total;
    }
    return p;
  }
}
