package dev.adengine.models.features;

import dev.adengine.models.CtrPrior;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The one feature extraction of the pCTR models, used by serving (the bid path) and by training
 * (the simulator's logs, later the feature log), so offline and online features cannot drift
 * apart. Allocation-free: it fills a caller-owned {@code double[]} of length {@link #SIZE}.
 *
 * <p>Inputs: the request context ({@link RequestFeatures}), the ad's static features (stars,
 * review score, nightly price relative to the searched destination's median, whether the hotel is
 * in the searched destination) and its online features (decayed impressions and clicks of the ad
 * and of its campaign, turned into smoothed CTRs here).
 *
 * <p><b>Position.</b> The slot an ad was shown in is a feature at training time, because the same
 * ad gets fewer clicks lower down the page. Serving scores every candidate at position 1, so pCTR
 * is the click probability at the top slot and ranking is free of position bias (the usual
 * "position as a training-only feature" debiasing).
 *
 * <p>Crosses of query terms and hotel attributes give the linear first-stage model the
 * interactions trees find by themselves. Changing the layout changes {@link #SCHEMA_HASH}: a model
 * records the hash it was trained with and is refused by a different extractor.
 */
public final class FeatureExtractor {
  public static final List<String> NAMES = List.of(
      "mobile", "tablet", "hotel_details", "map_view",
      "log_position", "mobile_x_log_position", "tablet_x_log_position", "details_x_log_position",
      "map_x_log_position",
      "checkin_known", "checkin_soon", "days_to_checkin", "nights",
      "q_luxury", "q_budget", "q_hostel", "q_family", "q_spa", "q_beach",
      "stars", "review", "log_price_ratio", "price_known", "in_destination", "destination_unknown",
      "nights_x_log_price", "luxury_x_stars", "luxury_x_log_price", "budget_x_stars", "budget_x_log_price",
      "hostel_x_low_stars", "family_x_mid_stars", "spa_x_stars",
      "campaign_ctr_logit", "ad_ctr_logit", "log_ad_impressions", "log_campaign_impressions");

  public static final int SIZE = NAMES.size();

  /** First 16 hex digits of SHA-256 over the feature names and the extractor's revision. */
  public static final String SCHEMA_HASH = hashOf(NAMES);

  /** In-destination codes for {@link #fill}. */
  public static final int IN_DESTINATION = 1;
  public static final int ELSEWHERE = 0;
  public static final int UNKNOWN_DESTINATION = -1;

  /** Smoothing of the online CTR features: a prior of 2% worth 200 impressions. */
  static final CtrPrior CTR = new CtrPrior(0.02, 200);
  static final double PRIOR_LOGIT = logit(CTR.prior());

  private FeatureExtractor() {}

  /**
   * Fills {@code out[0..SIZE)}.
   *
   * @param position 1-based slot; serving passes 1
   * @param medianPriceMicros the searched destination's median nightly price, {@code <= 0} when unknown
   * @param inDestination {@link #IN_DESTINATION}, {@link #ELSEWHERE} or {@link #UNKNOWN_DESTINATION}
   */
  public static void fill(double[] out, RequestFeatures r, int position, double stars, double review,
      long priceMicros, long medianPriceMicros, int inDestination, double adImpressions, double adClicks,
      double campaignImpressions, double campaignClicks) {
    double logPos = position <= 1 ? 0 : Math.log(position);
    out[0] = r.mobile;
    out[1] = r.tablet;
    out[2] = r.details;
    out[3] = r.map;
    out[4] = logPos;
    out[5] = r.mobile * logPos;
    out[6] = r.tablet * logPos;
    out[7] = r.details * logPos;
    out[8] = r.map * logPos;

    out[9] = r.checkinKnown;
    out[10] = r.checkinSoon;
    out[11] = r.daysScaled;
    double nights = r.nightsClamped;
    out[12] = nights;

    double luxury = r.luxury;
    double budget = r.budget;
    out[13] = luxury;
    out[14] = budget;
    out[15] = r.hostel;
    out[16] = r.family;
    out[17] = r.spa;
    out[18] = r.beach;

    double s = Math.max(0, Math.min(5, stars));
    double rev = Math.max(0, Math.min(10, review));
    boolean priced = priceMicros > 0 && medianPriceMicros > 0;
    double logPrice = priced ? Math.log((double) priceMicros / medianPriceMicros) : 0;
    out[19] = s;
    out[20] = rev;
    out[21] = logPrice;
    out[22] = priced ? 1 : 0;
    out[23] = inDestination == IN_DESTINATION ? 1 : 0;
    out[24] = inDestination == UNKNOWN_DESTINATION ? 1 : 0;

    out[25] = nights * logPrice;
    out[26] = luxury * (s - 3);
    out[27] = luxury * logPrice;
    out[28] = budget * (s - 3);
    out[29] = budget * logPrice;
    out[30] = r.hostel * (s <= 2 ? 1 : 0);
    out[31] = r.family * (s >= 3 && s <= 4 ? 1 : 0);
    out[32] = r.spa * (s - 3);

    // Online features. Without history a smoothed CTR is its prior: skip the logarithms.
    double campaignCtr;
    double campaignLogit;
    if (campaignImpressions <= 0 && campaignClicks <= 0) {
      campaignCtr = CTR.prior();
      campaignLogit = PRIOR_LOGIT;
      out[36] = 0;
    } else {
      campaignCtr = CTR.estimate(campaignImpressions, campaignClicks);
      campaignLogit = logit(campaignCtr);
      out[36] = Math.log1p(campaignImpressions);
    }
    out[33] = campaignLogit;
    if (adImpressions <= 0 && adClicks <= 0) {
      out[34] = campaignLogit;
      out[35] = 0;
    } else {
      out[34] = logit(CTR.estimate(adImpressions, adClicks, campaignCtr));
      out[35] = Math.log1p(Math.max(0, adImpressions));
    }
  }

  /**
   * Rewrites the position columns ({@code log_position} and its crosses with mobile, tablet,
   * hotel details and map view) of a row {@link #fill} has filled, exactly as {@code fill} would
   * have computed them for {@code position}. Serving fills and logs rows at position 1; training on
   * the feature log moves each row to the slot its ad was actually shown in, without the inputs
   * {@code fill} took.
   *
   * @param position 1-based slot
   */
  public static void setPosition(double[] row, int position) {
    double logPos = position <= 1 ? 0 : Math.log(position);
    row[4] = logPos;
    row[5] = row[0] * logPos;
    row[6] = row[1] * logPos;
    row[7] = row[2] * logPos;
    row[8] = row[3] * logPos;
  }

  static double logit(double p) {
    return Math.log(p / (1 - p));
  }

  public static String[] names() {
    return NAMES.toArray(new String[0]);
  }

  static String hashOf(List<String> names) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(("v1:" + String.join(",", names))
          .getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
