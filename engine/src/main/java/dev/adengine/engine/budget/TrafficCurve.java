package dev.adengine.engine.budget;

import java.time.LocalTime;
import java.util.Arrays;

/**
 * The share of a day's search traffic that arrives in each hour of local (wall-clock) time, and
 * its running total: the shape that EVEN pacing spreads a daily budget along.
 *
 * <p>The traffic inside an hour is taken as uniform, so {@link #cumulativeShare(double)} is
 * piecewise linear: continuous, non-decreasing, 0 at 00:00 and exactly 1 at 24:00.
 *
 * <p><b>Where {@link #TRAVEL} comes from.</b> It is a <em>modelled</em> curve, not measured data:
 * no traffic log of this engine exists yet. Its shape follows what is commonly described for
 * consumer travel search on the web: a trough in the small hours (lowest around 03:00-05:00),
 * a rise through the morning, a bump at lunchtime, a dip in the afternoon and the day's peak in
 * the evening (about 20:00-22:00), when people plan trips at home. The weights were set by hand
 * to that shape (peak-to-trough about 12:1); the numbers themselves are illustrative. Replace them
 * with hourly request counts from the auction log once there are some: the constructor takes
 * any 24 positive weights.
 */
public final class TrafficCurve {

  /** Relative search volume per local hour 00..23 (modelled, see the class comment). */
  private static final double[] TRAVEL_WEIGHTS = {
      2.6, 1.6, 1.0, 0.7, 0.6, 0.8, // 00-05: night, trough at 03-05
      1.5, 2.6, 3.6, 4.4, 4.8, 5.0, // 06-11: morning rise
      5.6, 5.3, 4.7, 4.5, 4.6, 4.9, // 12-17: lunchtime bump, afternoon dip
      5.3, 6.0, 6.9, 7.2, 6.2, 4.3, // 18-23: evening peak at 20-22
  };

  /** The modelled diurnal curve of travel search (see the class comment). */
  public static final TrafficCurve TRAVEL = new TrafficCurve(TRAVEL_WEIGHTS);

  private final double[] share = new double[24];
  /** {@code before[h]}: the share of the day's traffic before hour {@code h}; {@code before[24] = 1}. */
  private final double[] before = new double[25];

  /** A curve from 24 non-negative hourly weights (any scale) with a positive sum. */
  public TrafficCurve(double[] hourlyWeights) {
    if (hourlyWeights.length != 24) {
      throw new IllegalArgumentException("need 24 hourly weights, got " + hourlyWeights.length);
    }
    double sum = 0;
    for (double w : hourlyWeights) {
      if (!(w >= 0) || Double.isInfinite(w)) {
        throw new IllegalArgumentException("hourly weights must be finite and >= 0: " + Arrays.toString(hourlyWeights));
      }
      sum += w;
    }
    if (!(sum > 0)) {
      throw new IllegalArgumentException("hourly weights must not all be 0");
    }
    double running = 0;
    for (int h = 0; h < 24; h++) {
      share[h] = hourlyWeights[h] / sum;
      before[h] = running;
      running += share[h];
    }
    before[24] = 1.0;
  }

  /** The share of the day's traffic in local hour {@code hour} (0..23); the 24 shares sum to 1. */
  public double share(int hour) {
    if (hour < 0 || hour > 23) {
      throw new IllegalArgumentException("hour must be 0..23: " + hour);
    }
    return share[hour];
  }

  /** The share of the day's traffic before {@code time} (local wall-clock time). */
  public double cumulativeShare(LocalTime time) {
    return cumulativeShare(time.toNanoOfDay() / 3_600_000_000_000.0);
  }

  /**
   * The share of the day's traffic before {@code hourOfDay} hours after midnight, clamped to
   * [0, 24]: 0 at 0, 1 at 24.
   */
  public double cumulativeShare(double hourOfDay) {
    if (!(hourOfDay > 0)) {
      return 0;
    }
    if (hourOfDay >= 24) {
      return 1;
    }
    int h = (int) hourOfDay;
    return Math.min(1.0, before[h] + share[h] * (hourOfDay - h));
  }
}
