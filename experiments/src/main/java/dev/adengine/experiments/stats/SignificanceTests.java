package dev.adengine.experiments.stats;

/**
 * The tests an experiment report runs, as pure functions of counts and moments: the two-proportion
 * z-test (CTR, fill rate), Welch's unequal-variance t-test (revenue per request) and Pearson's
 * chi-square tests (goodness of fit for the sample ratio; independence, for the assignment tests).
 * Degenerate inputs (no trials, fewer than two observations, zero variance) give NaN statistics
 * and a result that is not significant, never an exception.
 */
public final class SignificanceTests {

  private SignificanceTests() {}

  /**
   * Two-proportion test of treatment against control.
   *
   * @param difference treatment rate minus control rate
   * @param relativeLift {@code difference / controlRate}
   * @param ciLow lower bound of the confidence interval of the difference (unpooled standard error)
   * @param relativeCiLow {@code ciLow / controlRate}: the interval of the lift, treating the
   *     control rate as known (a good approximation when the control has as much data as the
   *     treatment or more)
   * @param z the statistic with the pooled standard error (the textbook test of equal rates)
   * @param pValue two-sided
   */
  public record ProportionTest(double controlRate, double treatmentRate, double difference, double relativeLift,
      double ciLow, double ciHigh, double relativeCiLow, double relativeCiHigh, double z, double pValue,
      double confidence) {

    /** True when the two-sided p-value is below {@code 1 - confidence}. */
    public boolean significant() {
      return pValue < 1 - confidence;
    }
  }

  /**
   * Welch's t-test of treatment mean against control mean.
   *
   * @param df Welch–Satterthwaite degrees of freedom
   * @param pValue two-sided, from Student's t with {@code df} degrees of freedom
   */
  public record MeanTest(double controlMean, double treatmentMean, double difference, double relativeLift,
      double ciLow, double ciHigh, double relativeCiLow, double relativeCiHigh, double t, double df,
      double pValue, double confidence) {

    public boolean significant() {
      return pValue < 1 - confidence;
    }
  }

  /** Count, mean and unbiased sample variance of one sample. */
  public record Moments(long n, double mean, double variance) {

    /**
     * From a count, a sum and a sum of squares; the variance is clamped at 0 against rounding
     * (and NaN when {@code n < 2}).
     */
    public static Moments of(long n, double sum, double sumOfSquares) {
      if (n == 0) {
        return new Moments(0, Double.NaN, Double.NaN);
      }
      double mean = sum / n;
      double variance = n < 2 ? Double.NaN : Math.max(0, (sumOfSquares - sum * mean) / (n - 1));
      return new Moments(n, mean, variance);
    }
  }

  /** A chi-square statistic, its degrees of freedom and its p-value (upper tail). */
  public record ChiSquare(double statistic, int df, double pValue) {}

  /** Two-proportion z-test of {@code x2/n2} (treatment) against {@code x1/n1} (control). */
  public static ProportionTest twoProportion(long x1, long n1, long x2, long n2, double confidence) {
    requireConfidence(confidence);
    double p1 = n1 == 0 ? Double.NaN : (double) x1 / n1;
    double p2 = n2 == 0 ? Double.NaN : (double) x2 / n2;
    double diff = p2 - p1;
    double pooled = (double) (x1 + x2) / (n1 + n2);
    double sePooled = Math.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
    double z = sePooled > 0 ? diff / sePooled : Double.NaN;
    double p = Double.isNaN(z) ? Double.NaN : Distributions.normalTwoSidedP(z);
    double se = Math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2);
    double q = Distributions.normalQuantile(0.5 + confidence / 2);
    double lo = diff - q * se;
    double hi = diff + q * se;
    return new ProportionTest(p1, p2, diff, diff / p1, lo, hi, lo / p1, hi / p1, z, p, confidence);
  }

  /** Welch's t-test of the treatment mean against the control mean. */
  public static MeanTest welch(Moments control, Moments treatment, double confidence) {
    requireConfidence(confidence);
    double diff = treatment.mean() - control.mean();
    double v1 = control.variance() / control.n();
    double v2 = treatment.variance() / treatment.n();
    double se = Math.sqrt(v1 + v2);
    double df = (v1 + v2) * (v1 + v2)
        / (v1 * v1 / (control.n() - 1) + v2 * v2 / (treatment.n() - 1));
    double t = se > 0 ? diff / se : Double.NaN;
    boolean defined = !Double.isNaN(t) && df > 0;
    double p = defined ? Distributions.studentTTwoSidedP(t, df) : Double.NaN;
    double q = defined ? Distributions.studentTQuantile(0.5 + confidence / 2, df) : Double.NaN;
    double lo = diff - q * se;
    double hi = diff + q * se;
    double base = control.mean();
    return new MeanTest(control.mean(), treatment.mean(), diff, diff / base, lo, hi, lo / base, hi / base, t,
        defined ? df : Double.NaN, p, confidence);
  }

  /**
   * Pearson's goodness of fit of {@code observed} counts to the {@code expectedShares} (any
   * positive weights; normalized here). Categories with zero expected share are left out unless
   * something was observed in them, which makes the statistic infinite (p = 0).
   */
  public static ChiSquare goodnessOfFit(long[] observed, double[] expectedShares) {
    if (observed.length != expectedShares.length) {
      throw new IllegalArgumentException(observed.length + " observed counts for " + expectedShares.length
          + " shares");
    }
    long total = 0;
    double shareSum = 0;
    for (int i = 0; i < observed.length; i++) {
      if (observed[i] < 0 || !(expectedShares[i] >= 0)) {
        throw new IllegalArgumentException("negative count or share at " + i);
      }
      total += observed[i];
      shareSum += expectedShares[i];
    }
    double chi = 0;
    int categories = 0;
    for (int i = 0; i < observed.length; i++) {
      if (expectedShares[i] == 0) {
        if (observed[i] > 0) {
          chi = Double.POSITIVE_INFINITY;
        }
        continue;
      }
      categories++;
      double expected = total * expectedShares[i] / shareSum;
      double d = observed[i] - expected;
      chi += d * d / expected;
    }
    int df = categories - 1;
    if (chi == Double.POSITIVE_INFINITY) {
      return new ChiSquare(chi, Math.max(df, 0), 0);
    }
    if (total == 0 || df < 1) {
      return new ChiSquare(Double.NaN, Math.max(df, 0), Double.NaN);
    }
    return new ChiSquare(chi, df, Distributions.chiSquareSurvival(chi, df));
  }

  /**
   * Pearson's test of independence of the rows and columns of a contingency table; rows and
   * columns with no counts are left out.
   */
  public static ChiSquare independence(long[][] table) {
    int rows = table.length;
    int cols = rows == 0 ? 0 : table[0].length;
    long[] rowSums = new long[rows];
    long[] colSums = new long[cols];
    long total = 0;
    for (int r = 0; r < rows; r++) {
      if (table[r].length != cols) {
        throw new IllegalArgumentException("ragged contingency table at row " + r);
      }
      for (int c = 0; c < cols; c++) {
        rowSums[r] += table[r][c];
        colSums[c] += table[r][c];
        total += table[r][c];
      }
    }
    int usedRows = 0;
    int usedCols = 0;
    for (long s : rowSums) {
      usedRows += s > 0 ? 1 : 0;
    }
    for (long s : colSums) {
      usedCols += s > 0 ? 1 : 0;
    }
    int df = (usedRows - 1) * (usedCols - 1);
    if (df < 1) {
      return new ChiSquare(Double.NaN, 0, Double.NaN);
    }
    double chi = 0;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        if (rowSums[r] == 0 || colSums[c] == 0) {
          continue;
        }
        double expected = (double) rowSums[r] * colSums[c] / total;
        double d = table[r][c] - expected;
        chi += d * d / expected;
      }
    }
    return new ChiSquare(chi, df, Distributions.chiSquareSurvival(chi, df));
  }

  private static void requireConfidence(double confidence) {
    if (!(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException("confidence must be in (0, 1), got " + confidence);
    }
  }
}
