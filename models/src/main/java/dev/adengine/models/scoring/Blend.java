package dev.adengine.models.scoring;

/**
 * Stage 2's output layer: {@code p = sigmoid(w1 x stage-1 log-odds + w2 x tree margin + b)},
 * fitted by maximum likelihood on held-out rows. It blends the two models (when the trees add
 * nothing, {@code w2} goes to 0 and stage 2 is stage 1 recalibrated; when they add something the
 * blend keeps it) and calibrates the result in the same step.
 */
public record Blend(double w1, double w2, double b) {

  public double apply(double stage1Margin, double treeMargin) {
    return Platt.sigmoid(w1 * stage1Margin + w2 * treeMargin + b);
  }

  /** Fits the three parameters by Newton's method on the log loss (started at stage 1 alone). */
  public static Blend fit(double[] stage1Margin, double[] treeMargin, int[] y) {
    int n = y.length;
    double[] w = {1, 0, 0};
    for (int iter = 0; iter < 50; iter++) {
      double[] g = new double[3];
      double[][] h = new double[3][3];
      for (int i = 0; i < n; i++) {
        double[] f = {stage1Margin[i], treeMargin[i], 1};
        double q = Platt.sigmoid(w[0] * f[0] + w[1] * f[1] + w[2]);
        double d = q - y[i];
        double v = q * (1 - q);
        for (int a = 0; a < 3; a++) {
          g[a] += d * f[a];
          for (int c = 0; c < 3; c++) {
            h[a][c] += v * f[a] * f[c];
          }
        }
      }
      for (int a = 0; a < 3; a++) {
        h[a][a] += 1e-9 * n; // a hair of ridge keeps collinear margins solvable
      }
      double[] step = solve(h, g);
      double size = 0;
      for (int a = 0; a < 3; a++) {
        w[a] -= step[a];
        size = Math.max(size, Math.abs(step[a]));
      }
      if (size < 1e-10) {
        break;
      }
    }
    return new Blend(w[0], w[1], w[2]);
  }

  /** Solves {@code h x = g} for a 3x3 symmetric positive definite {@code h} (Gaussian elimination). */
  static double[] solve(double[][] h, double[] g) {
    int m = g.length;
    double[][] a = new double[m][m + 1];
    for (int i = 0; i < m; i++) {
      System.arraycopy(h[i], 0, a[i], 0, m);
      a[i][m] = g[i];
    }
    for (int col = 0; col < m; col++) {
      int pivot = col;
      for (int r = col + 1; r < m; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
          pivot = r;
        }
      }
      double[] t = a[col];
      a[col] = a[pivot];
      a[pivot] = t;
      for (int r = col + 1; r < m; r++) {
        double k = a[r][col] / a[col][col];
        for (int c = col; c <= m; c++) {
          a[r][c] -= k * a[col][c];
        }
      }
    }
    double[] x = new double[m];
    for (int i = m - 1; i >= 0; i--) {
      double s = a[i][m];
      for (int c = i + 1; c < m; c++) {
        s -= a[i][c] * x[c];
      }
      x[i] = s / a[i][i];
    }
    return x;
  }
}
