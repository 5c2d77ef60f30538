package dev.adengine.experiments.stats;

/**
 * The distribution functions the significance tests need, in plain Java: standard normal,
 * Student t and chi-square, built on the log-gamma function and the regularized incomplete gamma
 * and beta functions.
 *
 * <ul>
 *   <li>{@link #logGamma}: Lanczos approximation (g = 7, 9 terms), about 15 significant digits.
 *   <li>{@link #regularizedGammaP}/{@link #regularizedGammaQ}: series for {@code x < a + 1}, else
 *       the continued fraction (modified Lentz), as in Numerical Recipes 6.2.
 *   <li>{@link #regularizedBeta}: the continued fraction of Numerical Recipes 6.4 (modified
 *       Lentz), using the symmetry {@code I_x(a,b) = 1 - I_{1-x}(b,a)} where it converges faster.
 *   <li>Student t: {@code P(|T| > t) = I_{v/(v+t^2)}(v/2, 1/2)}; chi-square: {@code P(X > x) =
 *       Q(k/2, x/2)}; normal: {@code erfc} through {@code Q(1/2, z^2)}.
 *   <li>Quantiles: normal by Acklam's rational approximation refined by Halley steps; t and
 *       chi-square by bisection on the CDF (off the hot path: reports only).
 * </ul>
 *
 * {@code DistributionsTest} checks them against printed tables and against Smile's
 * implementations.
 */
public final class Distributions {

  private static final double EPS = 1e-15;
  private static final double FPMIN = Double.MIN_NORMAL / EPS;
  private static final double[] LANCZOS = {
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7
  };
  private static final double HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

  private Distributions() {}

  /** {@code ln Γ(x)} for {@code x > 0}. */
  public static double logGamma(double x) {
    if (!(x > 0)) {
      throw new IllegalArgumentException("logGamma needs x > 0, got " + x);
    }
    if (x < 0.5) {
      // reflection: Γ(x) Γ(1-x) = π / sin(πx)
      return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
    }
    double z = x - 1;
    double sum = LANCZOS[0];
    double t = z + 7.5;
    for (int i = 1; i < LANCZOS.length; i++) {
      sum += LANCZOS[i] / (z + i);
    }
    return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
  }

  /** The regularized lower incomplete gamma function {@code P(a, x)}, {@code a > 0, x >= 0}. */
  public static double regularizedGammaP(double a, double x) {
    requireGammaArgs(a, x);
    if (x == 0) {
      return 0;
    }
    if (x == Double.POSITIVE_INFINITY) {
      return 1;
    }
    return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
  }

  /** The regularized upper incomplete gamma function {@code Q(a, x) = 1 - P(a, x)}. */
  public static double regularizedGammaQ(double a, double x) {
    requireGammaArgs(a, x);
    if (x == 0) {
      return 1;
    }
    if (x == Double.POSITIVE_INFINITY) {
      return 0;
    }
    return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
  }

  /** The regularized incomplete beta function {@code I_x(a, b)}, {@code a, b > 0}, {@code 0 <= x <= 1}. */
  public static double regularizedBeta(double x, double a, double b) {
    if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1)) {
      throw new IllegalArgumentException("regularizedBeta needs a, b > 0 and x in [0, 1], got x=" + x + " a=" + a
          + " b=" + b);
    }
    if (x == 0 || x == 1) {
      return x;
    }
    double front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
    if (x < (a + 1) / (a + b + 2)) {
      return front * betaContinuedFraction(x, a, b) / a;
    }
    return 1 - front * betaContinuedFraction(1 - x, b, a) / b;
  }

  // ---- normal ----

  /** {@code Φ(z)}, the standard normal CDF. */
  public static double normalCdf(double z) {
    if (Double.isNaN(z)) {
      return Double.NaN;
    }
    return z < 0 ? 0.5 * erfc(-z / Math.sqrt(2)) : 1 - 0.5 * erfc(z / Math.sqrt(2));
  }

  /** {@code P(|Z| > |z|)} for a standard normal Z, without cancellation for large |z|. */
  public static double normalTwoSidedP(double z) {
    if (Double.isNaN(z)) {
      return Double.NaN;
    }
    return erfc(Math.abs(z) / Math.sqrt(2));
  }

  /** {@code erfc(x) = 1 - erf(x)}. */
  public static double erfc(double x) {
    if (x < 0) {
      return 2 - erfc(-x);
    }
    return x == 0 ? 1 : regularizedGammaQ(0.5, x * x);
  }

  /** The standard normal quantile {@code Φ^-1(p)}, {@code 0 < p < 1}. */
  public static double normalQuantile(double p) {
    if (!(p > 0 && p < 1)) {
      if (p == 0) {
        return Double.NEGATIVE_INFINITY;
      }
      if (p == 1) {
        return Double.POSITIVE_INFINITY;
      }
      throw new IllegalArgumentException("probability must be in (0, 1), got " + p);
    }
    double x = acklam(p);
    // Halley refinement on Φ(x) - p
    for (int i = 0; i < 3; i++) {
      double e = normalCdf(x) - p;
      double u = e * Math.sqrt(2 * Math.PI) * Math.exp(x * x / 2);
      x = x - u / (1 + x * u / 2);
    }
    return x;
  }

  // ---- Student t ----

  /** {@code P(T <= t)} for Student's t with {@code df > 0} degrees of freedom (fractional allowed). */
  public static double studentTCdf(double t, double df) {
    requireDf(df);
    if (Double.isNaN(t)) {
      return Double.NaN;
    }
    if (Double.isInfinite(t)) {
      return t > 0 ? 1 : 0;
    }
    double tail = 0.5 * studentTTwoSidedP(t, df);
    return t > 0 ? 1 - tail : tail;
  }

  /** {@code P(|T| > |t|)} for Student's t with {@code df} degrees of freedom. */
  public static double studentTTwoSidedP(double t, double df) {
    requireDf(df);
    if (Double.isNaN(t)) {
      return Double.NaN;
    }
    if (Double.isInfinite(t)) {
      return 0;
    }
    return regularizedBeta(df / (df + t * t), df / 2, 0.5);
  }

  /** The quantile: the t with {@code P(T <= t) = p}. */
  public static double studentTQuantile(double p, double df) {
    requireDf(df);
    if (!(p > 0 && p < 1)) {
      throw new IllegalArgumentException("probability must be in (0, 1), got " + p);
    }
    if (p == 0.5) {
      return 0;
    }
    if (p < 0.5) {
      return -studentTQuantile(1 - p, df);
    }
    double hi = 1;
    while (studentTCdf(hi, df) < p) {
      hi *= 2;
      if (hi > 1e300) {
        return Double.POSITIVE_INFINITY;
      }
    }
    return bisect(t -> studentTCdf(t, df), p, 0, hi);
  }

  // ---- chi-square ----

  /** {@code P(X <= x)} for chi-square with {@code df} degrees of freedom. */
  public static double chiSquareCdf(double x, double df) {
    requireDf(df);
    return x <= 0 ? 0 : regularizedGammaP(df / 2, x / 2);
  }

  /** {@code P(X > x)}: the p-value of a chi-square statistic {@code x}. */
  public static double chiSquareSurvival(double x, double df) {
    requireDf(df);
    if (Double.isNaN(x)) {
      return Double.NaN;
    }
    return x <= 0 ? 1 : regularizedGammaQ(df / 2, x / 2);
  }

  /** The quantile: the x with {@code P(X <= x) = p}. */
  public static double chiSquareQuantile(double p, double df) {
    requireDf(df);
    if (!(p > 0 && p < 1)) {
      throw new IllegalArgumentException("probability must be in (0, 1), got " + p);
    }
    double hi = Math.max(1, df);
    while (chiSquareCdf(hi, df) < p) {
      hi *= 2;
    }
    return bisect(x -> chiSquareCdf(x, df), p, 0, hi);
  }

  // ---- internals ----

  private static double gammaSeries(double a, double x) {
    double ap = a;
    double del = 1 / a;
    double sum = del;
    int max = maxIterations(a);
    for (int n = 0; n < max; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * EPS) {
        return Math.min(1, sum * Math.exp(-x + a * Math.log(x) - logGamma(a)));
      }
    }
    throw new ArithmeticException("incomplete gamma series did not converge for a=" + a + " x=" + x);
  }

  private static double gammaContinuedFraction(double a, double x) {
    double b = x + 1 - a;
    double c = 1 / FPMIN;
    double d = 1 / b;
    double h = d;
    int max = maxIterations(a);
    for (int i = 1; i <= max; i++) {
      double an = -i * (i - a);
      b += 2;
      d = an * d + b;
      if (Math.abs(d) < FPMIN) {
        d = FPMIN;
      }
      c = b + an / c;
      if (Math.abs(c) < FPMIN) {
        c = FPMIN;
      }
      d = 1 / d;
      double del = d * c;
      h *= del;
      if (Math.abs(del - 1) < EPS) {
        return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
      }
    }
    throw new ArithmeticException("incomplete gamma fraction did not converge for a=" + a + " x=" + x);
  }

  private static double betaContinuedFraction(double x, double a, double b) {
    double qab = a + b;
    double qap = a + 1;
    double qam = a - 1;
    double c = 1;
    double d = 1 - qab * x / qap;
    if (Math.abs(d) < FPMIN) {
      d = FPMIN;
    }
    d = 1 / d;
    double h = d;
    int max = maxIterations(Math.max(a, b));
    for (int m = 1; m <= max; m++) {
      int m2 = 2 * m;
      double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
      d = 1 + aa * d;
      if (Math.abs(d) < FPMIN) {
        d = FPMIN;
      }
      c = 1 + aa / c;
      if (Math.abs(c) < FPMIN) {
        c = FPMIN;
      }
      d = 1 / d;
      h *= d * c;
      aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
      d = 1 + aa * d;
      if (Math.abs(d) < FPMIN) {
        d = FPMIN;
      }
      c = 1 + aa / c;
      if (Math.abs(c) < FPMIN) {
        c = FPMIN;
      }
      d = 1 / d;
      double del = d * c;
      h *= del;
      if (Math.abs(del - 1) < EPS) {
        return h;
      }
    }
    throw new ArithmeticException("incomplete beta fraction did not converge for x=" + x + " a=" + a + " b=" + b);
  }

  /** Both expansions need O(sqrt(a)) terms for large a; generous, since reports are rare. */
  private static int maxIterations(double a) {
    return (int) Math.min(10_000_000, 1_000 + 100 * Math.sqrt(a));
  }

  private static double bisect(java.util.function.DoubleUnaryOperator cdf, double p, double lo, double hi) {
    for (int i = 0; i < 200 && hi - lo > 1e-14 * Math.max(1, Math.abs(hi)); i++) {
      double mid = 0.5 * (lo + hi);
      if (cdf.applyAsDouble(mid) < p) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return 0.5 * (lo + hi);
  }

  private static double acklam(double p) {
    double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
        -3.066479806614716e+01, 2.506628277459239e+00};
    double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
        -1.328068155288572e+01};
    double[] c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
        4.374664141464968e+00, 2.938163982698783e+00};
    double[] d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
    double low = 0.02425;
    if (p < low) {
      double q = Math.sqrt(-2 * Math.log(p));
      return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
          / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - low) {
      double q = Math.sqrt(-2 * Math.log1p(-p));
      return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
          / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double q = p - 0.5;
    double r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }

  private static void requireGammaArgs(double a, double x) {
    if (!(a > 0) || !(x >= 0)) {
      throw new IllegalArgumentException("incomplete gamma needs a > 0 and x >= 0, got a=" + a + " x=" + x);
    }
  }

  private static void requireDf(double df) {
    if (!(df > 0)) {
      throw new IllegalArgumentException("degrees of freedom must be > 0, got " + df);
    }
  }
}
