package dev.adengine.engine.ranking;

import dev.adengine.engine.auction.BidQuery;
import dev.adengine.engine.catalog.AdDef;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.features.RequestFeatures;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;

/**
 * The engine's side of feature extraction: turns a validated request and a catalog ad into the
 * inputs of {@link FeatureExtractor}. The bid path and the simulator's training logs both call
 * these two methods, so a model is trained on exactly the features it is served with.
 */
public final class RankingFeatures {
  private RankingFeatures() {}

  /** The request part, once per request; {@code today} is the serving day (UTC). */
  public static RequestFeatures request(BidQuery q, LocalDate today) {
    int days = q.checkin() == null ? -1 : (int) Math.max(0, ChronoUnit.DAYS.between(today, q.checkin()));
    return RequestFeatures.of(q.device().getNumber(), q.placement().getNumber(), days, q.nights(), q.query());
  }

  /**
   * Fills {@code out} for {@code ad} shown at {@code position} (serving: 1) of a search for
   * {@code destination}, whose median nightly price is {@code medianPriceMicros}.
   */
  public static void fill(double[] out, RequestFeatures r, String destination, long medianPriceMicros, AdDef ad,
      int position, double adImpressions, double adClicks, double campaignImpressions, double campaignClicks) {
    int where = ad.destination().isEmpty()
        ? FeatureExtractor.UNKNOWN_DESTINATION
        : ad.destination().equals(destination) ? FeatureExtractor.IN_DESTINATION : FeatureExtractor.ELSEWHERE;
    FeatureExtractor.fill(out, r, position, ad.starRating(), ad.reviewScore(), ad.nightlyPriceMicros(),
        medianPriceMicros, where, adImpressions, adClicks, campaignImpressions, campaignClicks);
  }
}
