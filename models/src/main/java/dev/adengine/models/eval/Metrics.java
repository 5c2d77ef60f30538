package dev.adengine.models.eval;

import java.util.Arrays;

/**
 * Offline quality of a click model on labelled rows: AUC, log loss and calibration.
 *
 * <p>Calibration error is the expected calibration error over equal-count bins of the predicted
 * probability ({@code sum_bins n_b/n x |mean predicted_b - observed rate_b|}); the calibration
 * ratio is mean predicted CTR over observed CTR (1.0 when the model is right on average).
 */
public record Metrics(int rows, int positives, double auc, double logLoss, double calibrationError,
    double meanPredicted, double observedRate) {

  public static final int CALIBRATION_BINS = 20;

  public double calibrationRatio() {
    return observedRate == 0 ? Double.NaN : meanPredicted / observedRate;
  }

  /** Metrics of predictions {@code p} against labels {@code y} (0 or 1). */
  public static Metrics of(double[] p, int[] y) {
    if (p.length != y.length || p.length == 0) {
      throw new IllegalArgumentException("need as many predictions as labels, and at least one: " + p.length
          + " vs " + y.length);
    }
    int n = p.length;
    int pos = 0;
    double sumP = 0;
    double ll = 0;
    for (int i = 0; i < n; i++) {
      double q = Math.min(1 - 1e-15, Math.max(1e-15, p[i]));
      pos += y[i];
      sumP += p[i];
      ll -= y[i] == 1 ? Math.log(q) : Math.log(1 - q);
    }
    return new Metrics(n, pos, auc(p, y), ll / n, calibrationError(p, y, CALIBRATION_BINS), sumP / n,
        (double) pos / n);
  }

  /** Area under the ROC curve by the rank-sum statistic; tied scores share their average rank. */
  public static double auc(double[] p, int[] y) {
    int n = p.length;
    Integer[] boxed = new Integer[n];
    for (int i = 0; i < n; i++) {
      boxed[i] = i;
    }
    Arrays.sort(boxed, (a, b) -> Double.compare(p[a], p[b]));
    double rankSumPos = 0;
    long pos = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && p[boxed[j + 1]] == p[boxed[i]]) {
        j++;
      }
      double avgRank = (i + j) / 2.0 + 1;
      for (int k = i; k <= j; k++) {
        if (y[boxed[k]] == 1) {
          rankSumPos += avgRank;
          pos++;
        }
      }
      i = j + 1;
    }
    long neg = n - pos;
    if (pos == 0 || neg == 0) {
      return Double.NaN;
    }
    return (rankSumPos - pos * (pos + 1) / 2.0) / ((double) pos * neg);
  }

  /** Expected calibration error over {@code bins} equal-count bins of the prediction. */
  public static double calibrationError(double[] p, int[] y, int bins) {
    int n = p.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(p[a], p[b]));
    double ece = 0;
    for (int b = 0; b < bins; b++) {
      int from = (int) ((long) n * b / bins);
      int to = (int) ((long) n * (b + 1) / bins);
      if (to <= from) {
        continue;
      }
      double sp = 0;
      double sy = 0;
      for (int k = from; k < to; k++) {
        sp += p[order[k]];
        sy += y[order[k]];
      }
      ece += Math.abs(sp - sy) / n;
    }
    return ece;
  }
}
