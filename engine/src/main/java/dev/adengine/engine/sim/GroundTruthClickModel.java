package dev.adengine.engine.sim;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Placement;
import java.util.Map;
import java.util.Set;

/**
 * The hidden click behaviour of simulated users: the oracle a trained pCTR model is measured
 * against. Pure and thread-safe.
 *
 * <p>A position-based model: {@code P(click | ad at position p) = positionBias(p, placement,
 * device) x attractiveness(ad, request)}.
 *
 * <h2>Position bias (examination probability)</h2>
 *
 * {@code positionBias = scale(placement) / p^k(placement, device)}, so it is 1.0 at the top of
 * search results and strictly decreasing in {@code p}:
 *
 * <ul>
 *   <li>SEARCH_RESULTS: scale 1.0, k 0.85; HOTEL_DETAILS: scale 0.5, k 1.0; MAP_VIEW (pins, weak
 *       order): scale 0.6, k 0.5;
 *   <li>MOBILE adds 0.30 to k (users scroll less, so low positions lose more); TABLET adds 0.10.
 * </ul>
 *
 * <h2>Attractiveness</h2>
 *
 * {@code attractiveness = 1 / (1 + exp(-z))} with
 *
 * <pre>
 * z = -3.20
 *   + 0.30 * (stars - 3)
 *   + 0.45 * (review - 7.5)
 *   + w_price * ln(price / destinationMedian)      w_price = -0.75 * (1 + 0.06 * (nights - 2))
 *   + device                                        MOBILE -0.20, TABLET +0.05, DESKTOP 0
 *   + 0.30 * exp(-days / 5) - 0.003 * days          days to check-in (term is 0 when unknown)
 *   + intent terms
 *   - 1.50 if the hotel is not in the searched destination
 * </pre>
 *
 * where {@code nights} is clamped to 1..14 (unknown = 2), {@code days} to 0..120, and the intent
 * terms are: LUXURY {@code +0.45 (stars - 3) + 0.50 ln(price / median)} (cancels most of the
 * price aversion); BUDGET {@code -0.25 (stars - 3) - 0.80 ln(price / median)}; HOSTEL {@code
 * +0.30} for stars &lt;= 2; FAMILY {@code +0.15} for 3-4 stars; SPA {@code +0.12 (stars - 3)};
 * BEACH 0. {@code z} is clamped to [-15, 8].
 *
 * <p>Mean CTR measured over the default market (seed 42) and request mix, SEARCH_RESULTS,
 * positions 1..5 ({@code GroundTruthClickModelTest}): 4.9%, 2.5%, 1.7%, 1.2%, 1.0% for hotels in
 * the searched destination; 1.8%, 0.9%, 0.6%, 0.5%, 0.4% for a random eligible ad (most of those
 * are a multi-destination campaign's hotels elsewhere), so a ranker has real headroom to earn.
 */
public final class GroundTruthClickModel {

  static final double INTERCEPT = -3.20;
  static final double OFF_DESTINATION_PENALTY = 1.50;

  private final Map<String, Destination> hotelDestinations;

  /**
   * @param hotelDestinations hotel id -> the destination the hotel is in; an ad whose hotel is
   *     not in the map is taken to be in the searched destination
   */
  public GroundTruthClickModel(Map<String, Destination> hotelDestinations) {
    this.hotelDestinations = Map.copyOf(hotelDestinations);
  }

  public static GroundTruthClickModel forMarket(Market market) {
    return new GroundTruthClickModel(market.hotelDestinations());
  }

  /**
   * The probability that a user of request {@code ctx} clicks {@code ad} shown at 1-based {@code
   * position} of a search for {@code searched}. Always in (0, 1).
   */
  public double clickProbability(Ad ad, Destination searched, RequestContext ctx, int position) {
    return positionBias(position, ctx.placement(), ctx.device()) * attractiveness(ad, searched, ctx);
  }

  /** The probability that a user looks at position {@code position}; 1.0 at the top of search. */
  public static double positionBias(int position, Placement placement, Device device) {
    if (position < 1) {
      throw new IllegalArgumentException("position is 1-based: " + position);
    }
    double scale;
    double k;
    switch (placement) {
      case HOTEL_DETAILS -> {
        scale = 0.5;
        k = 1.0;
      }
      case MAP_VIEW -> {
        scale = 0.6;
        k = 0.5;
      }
      default -> {
        scale = 1.0;
        k = 0.85;
      }
    }
    if (device == Device.MOBILE) {
      k += 0.30;
    } else if (device == Device.TABLET) {
      k += 0.10;
    }
    return scale / Math.pow(position, k);
  }

  /** The probability of a click once the ad has been examined. */
  public double attractiveness(Ad ad, Destination searched, RequestContext ctx) {
    double stars = Math.max(0, Math.min(5, ad.getStarRating()));
    double review = Math.max(0, Math.min(10, ad.getReviewScore()));
    double price = Math.max(1.0, ad.getNightlyPriceMicros());
    double logPrice = Math.log(price / searched.medianNightlyPriceMicros());
    int nights = ctx.nights() <= 0 ? 2 : Math.min(14, ctx.nights());

    double z = INTERCEPT;
    z += 0.30 * (stars - 3);
    z += 0.45 * (review - 7.5);
    z += -0.75 * (1 + 0.06 * (nights - 2)) * logPrice;
    z += switch (ctx.device()) {
      case MOBILE -> -0.20;
      case TABLET -> 0.05;
      default -> 0.0;
    };
    if (ctx.daysToCheckin() >= 0) {
      int days = Math.min(120, ctx.daysToCheckin());
      z += 0.30 * Math.exp(-days / 5.0) - 0.003 * days;
    }
    Set<QueryIntent> intents = ctx.intents();
    if (intents.contains(QueryIntent.LUXURY)) {
      z += 0.45 * (stars - 3) + 0.50 * logPrice;
    }
    if (intents.contains(QueryIntent.BUDGET)) {
      z += -0.25 * (stars - 3) - 0.80 * logPrice;
    }
    if (intents.contains(QueryIntent.HOSTEL) && stars <= 2) {
      z += 0.30;
    }
    if (intents.contains(QueryIntent.FAMILY) && stars >= 3 && stars <= 4) {
      z += 0.15;
    }
    if (intents.contains(QueryIntent.SPA)) {
      z += 0.12 * (stars - 3);
    }
    Destination home = hotelDestinations.get(ad.getHotelId());
    if (home != null && !home.id().equals(searched.id())) {
      z -= OFF_DESTINATION_PENALTY;
    }
    z = Math.max(-15, Math.min(8, z));
    return 1.0 / (1.0 + Math.exp(-z));
  }
}
