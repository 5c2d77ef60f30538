package dev.adengine.models.scoring;

/**
 * Platt scaling on a model's log-odds {@code z}: {@code p = sigmoid(a x z + b)}.
 * Fitted on held-out rows, it corrects a model whose mean prediction drifts from the observed rate
 * (subsampling, regularization, a training set that differs from serving traffic). The identity is
 * {@code a = 1, b = 0}.
 */
public record Platt(double a, double b) {
  public static final Platt IDENTITY = new Platt(1, 0);

  /** The calibrated probability of a model whose log-odds are {@code z}. */
  public double apply(double z) {
    return sigmoid(a * z + b);
  }

  static double sigmoid(double z) {
    return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
  }

  /**
   * Fits {@code a, b} by Newton's method on the log loss, with Platt's smoothed targets
   * ({@code (n+ + 1)/(n+ + 2)} and {@code 1/(n- + 2)}) so a separable set does not diverge.
   */
  public static Platt fit(double[] logOdds, int[] y) {
    int n = logOdds.length;
    double[] f = logOdds;
    int pos = 0;
    for (int i = 0; i < n; i++) {
      pos += y[i];
    }
    double hi = (pos + 1.0) / (pos + 2.0);
    double lo = 1.0 / (n - pos + 2.0);
    double a = 1;
    double b = 0;
    for (int iter = 0; iter < 100; iter++) {
      double g1 = 0;
      double g2 = 0;
      double h11 = 1e-12;
      double h22 = 1e-12;
      double h12 = 0;
      for (int i = 0; i < n; i++) {
        double t = y[i] == 1 ? hi : lo;
        double q = sigmoid(a * f[i] + b);
        double d = q - t;
        double w = q * (1 - q);
        g1 += d * f[i];
        g2 += d;
        h11 += w * f[i] * f[i];
        h22 += w;
        h12 += w * f[i];
      }
      double det = h11 * h22 - h12 * h12;
      if (det <= 0) {
        break;
      }
      double da = (h22 * g1 - h12 * g2) / det;
      double db = (h11 * g2 - h12 * g1) / det;
      a -= da;
      b -= db;
      if (Math.abs(da) < 1e-10 && Math.abs(db) < 1e-10) {
        break;
      }
    }
    return new Platt(a, b);
  }
}
