package dev.adengine.engine.budget;

import dev.adengine.api.v1.Pacing;
import java.time.Duration;
import java.time.ZonedDateTime;

/**
 * Paces grants along a {@link TrafficCurve}: by a time of day, a campaign may have been granted
 * the share of its budget that the day's traffic so far (plus a little ahead) would spend.
 *
 * <ul>
 *   <li>{@code ASAP}: the whole budget, at any time; demand alone decides how fast it goes.
 *   <li>{@code EVEN} (and unspecified): {@code budget x min(1, cumulativeShare(now + lookahead) x
 *       (1 + headroom))}.
 * </ul>
 *
 * <p>{@code lookahead} lets a node hold what the next few minutes of traffic will spend, so it is
 * not waiting for the curve to creep past its next grant; {@code headroom} leaves slack for what
 * nodes hold unspent (a grant is a chunk of the budget, not a trickle). Both only ever move the
 * ceiling up; it never exceeds the budget, and it reaches the whole budget {@code lookahead}
 * before midnight at the latest (from about 22:45 with headroom 0.05 and {@link TrafficCurve#TRAVEL}),
 * so the last hour can spend whatever is left.
 *
 * <p><b>Catch-up.</b> The ceiling caps the running <em>total</em> granted, not a rate. A campaign
 * behind its target (little demand earlier, a pause, created at noon) is below its ceiling, so
 * its next asks are granted at once until it is back on the curve: whatever demand the rest of the
 * day brings may spend the whole remainder. A floor of the form "granted plus the remainder's
 * share of the traffic in the next lookahead" adds nothing for such a campaign: with {@code G}
 * granted, {@code c = cumulativeShare(t)}, {@code c' = cumulativeShare(t + lookahead)} and
 * {@code G <= budget x c} (behind or on target), {@code G + (budget - G) x (c' - c) / (1 - c) <=
 * budget x c' <= ceiling}. It would only lift the ceiling for a campaign already ahead of its
 * target, exactly when pacing must not loosen, so it is not added.
 * The price of this choice is that catch-up is a burst rather than spread over the rest of the
 * day; the pacing simulation ({@code docs/benchmarks/pacing.md}) measures it.
 *
 * <p>The time of day is the elapsed share of the campaign's local calendar day, so a 23- or
 * 25-hour day (a daylight-saving change) still runs from 0 to 1 once and never goes backwards.
 */
public final class CurvePacing implements PacingPolicy {
  private final TrafficCurve curve;
  private final Duration lookahead;
  private final double headroom;

  public CurvePacing(TrafficCurve curve, Duration lookahead, double headroom) {
    if (lookahead.isNegative()) {
      throw new IllegalArgumentException("lookahead must be >= 0: " + lookahead);
    }
    if (!(headroom >= 0) || Double.isInfinite(headroom)) {
      throw new IllegalArgumentException("headroom must be a finite share >= 0: " + headroom);
    }
    this.curve = curve;
    this.lookahead = lookahead;
    this.headroom = headroom;
  }

  @Override
  public long grantCeiling(Pacing mode, long dailyBudgetMicros, ZonedDateTime now) {
    if (mode == Pacing.ASAP || dailyBudgetMicros <= 0) {
      return Math.max(0, dailyBudgetMicros);
    }
    double share = Math.min(1.0, targetShare(now.plus(lookahead), now) * (1.0 + headroom));
    if (share >= 1.0) {
      return dailyBudgetMicros;
    }
    // Floor: the ceiling is never rounded up past what the curve allows.
    return Math.min(dailyBudgetMicros, (long) Math.floor(dailyBudgetMicros * share));
  }

  /** EVEN's target without lookahead or headroom: the share of the budget the day so far should spend. */
  public double targetShare(ZonedDateTime now) {
    return targetShare(now, now);
  }

  /** The curve's share at {@code at} for the budget day of {@code now} (1 once {@code at} is past that day). */
  private double targetShare(ZonedDateTime at, ZonedDateTime now) {
    ZonedDateTime start = now.toLocalDate().atStartOfDay(now.getZone());
    ZonedDateTime end = now.toLocalDate().plusDays(1).atStartOfDay(now.getZone());
    double dayNanos = Duration.between(start, end).toNanos();
    double elapsed = Duration.between(start, at).toNanos();
    return curve.cumulativeShare(24.0 * elapsed / dayNanos);
  }
}
