package dev.adengine.engine.grpc;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.AdvertiserKind;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventType;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Placement;
import dev.adengine.api.v1.Pricing;
import dev.adengine.engine.auction.BidQuery;
import dev.adengine.engine.catalog.CatalogCodec;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.HashSet;
import java.util.Set;

/**
 * Validation at the edge. Every check names the field, with its path inside the request, so a
 * caller can fix it; nothing invalid reaches an entity or the bid path.
 */
public final class Validation {
  public static final int MAX_ID = 128;
  public static final int MAX_DESTINATION = 64;
  public static final int MAX_QUERY = 256;
  public static final int MAX_NAME = 256;
  public static final int MAX_ADS = 100;
  public static final int MAX_TARGETS = 500;
  public static final int MAX_SLOTS = 50;
  public static final int MAX_NIGHTS = 60;
  public static final long MAX_MONEY = 1_000_000_000_000_000L; // a billion units in micros
  /** Longest key (ids: request, user, campaign, ad, ...). */
  static final int MAX_KEY = 64;

  private Validation() {}

  public static BidQuery bid(BidRequest r, int maxTmaxMs) {
    requireText("request_id", r.getRequestId(), MAX_ID);
    maxLength("user_id", r.getUserId(), MAX_ID);
    requireText("destination", r.getDestination(), MAX_DESTINATION);
    Device device = requireDevice("device", r.getDevice());
    Placement placement = requirePlacement("placement", r.getPlacement());
    if (r.getSlots() < 1 || r.getSlots() > MAX_SLOTS) {
      throw new InvalidArgument("slots", "must be between 1 and " + MAX_SLOTS + ", was " + r.getSlots());
    }
    if (r.getFloorMicros() < 0 || r.getFloorMicros() > MAX_MONEY) {
      throw new InvalidArgument("floor_micros", "must be >= 0 and sane, was " + r.getFloorMicros());
    }
    if (r.getTmaxMs() <= 0) {
      throw new InvalidArgument("tmax_ms", "must be > 0, was " + r.getTmaxMs());
    }
    maxLength("query", r.getQuery(), MAX_QUERY);
    LocalDate checkin = optionalDate("checkin", r.getCheckin());
    if (r.getNights() < 0 || r.getNights() > MAX_NIGHTS) {
      throw new InvalidArgument("nights", "must be between 0 and " + MAX_NIGHTS + ", was " + r.getNights());
    }
    return new BidQuery(r.getRequestId(), r.getUserId(), CatalogCodec.normalizeDestination(r.getDestination()),
        device, placement, r.getSlots(), r.getFloorMicros(), Math.min(r.getTmaxMs(), maxTmaxMs), r.getQuery(),
        checkin, r.getNights(), r.getDebug());
  }

  public static void advertiser(Advertiser a, boolean present) {
    if (!present) {
      throw new InvalidArgument("advertiser", "is required");
    }
    requireKey("advertiser.advertiser_id", a.getAdvertiserId());
    maxLength("advertiser.name", a.getName(), MAX_NAME);
    if (a.getKind() == AdvertiserKind.UNRECOGNIZED) {
      throw new InvalidArgument("advertiser.kind", "unknown enum value " + a.getKindValue());
    }
    positiveMoney("advertiser.daily_budget_micros", a.getDailyBudgetMicros());
    optionalZone("advertiser.time_zone", a.getTimeZone());
  }

  public static void campaign(Campaign c, boolean present) {
    if (!present) {
      throw new InvalidArgument("campaign", "is required");
    }
    requireKey("campaign.campaign_id", c.getCampaignId());
    requireKey("campaign.advertiser_id", c.getAdvertiserId());
    maxLength("campaign.name", c.getName(), MAX_NAME);
    if (c.getPricing() == Pricing.UNRECOGNIZED) {
      throw new InvalidArgument("campaign.pricing", "unknown enum value " + c.getPricingValue());
    }
    if (c.getPricing() == Pricing.PRICING_UNSPECIFIED) {
      throw new InvalidArgument("campaign.pricing", "is required (CPC or CPM)");
    }
    positiveMoney("campaign.bid_micros", c.getBidMicros());
    positiveMoney("campaign.daily_budget_micros", c.getDailyBudgetMicros());
    if (c.getDestinationsCount() > MAX_TARGETS) {
      throw new InvalidArgument("campaign.destinations", "at most " + MAX_TARGETS);
    }
    for (int i = 0; i < c.getDestinationsCount(); i++) {
      requireText("campaign.destinations[" + i + "]", c.getDestinations(i), MAX_DESTINATION);
    }
    for (int i = 0; i < c.getDevicesCount(); i++) {
      requireDevice("campaign.devices[" + i + "]", c.getDevices(i));
    }
    for (int i = 0; i < c.getPlacementsCount(); i++) {
      requirePlacement("campaign.placements[" + i + "]", c.getPlacements(i));
    }
    if (c.getPacing() == Pacing.UNRECOGNIZED) {
      throw new InvalidArgument("campaign.pacing", "unknown enum value " + c.getPacingValue());
    }
    LocalDate from = optionalDate("campaign.checkin_from", c.getCheckinFrom());
    LocalDate to = optionalDate("campaign.checkin_to", c.getCheckinTo());
    if (from != null && to != null && to.isBefore(from)) {
      throw new InvalidArgument("campaign.checkin_to", "is before checkin_from");
    }
    optionalZone("campaign.time_zone", c.getTimeZone());
    if (c.getAdsCount() < 1 || c.getAdsCount() > MAX_ADS) {
      throw new InvalidArgument("campaign.ads", "must hold 1 to " + MAX_ADS + " ads, held " + c.getAdsCount());
    }
    Set<String> adIds = new HashSet<>();
    for (int i = 0; i < c.getAdsCount(); i++) {
      Ad ad = c.getAds(i);
      String p = "campaign.ads[" + i + "]";
      requireKey(p + ".ad_id", ad.getAdId());
      if (!adIds.add(ad.getAdId())) {
        throw new InvalidArgument(p + ".ad_id", "duplicate ad id " + ad.getAdId());
      }
      maxLength(p + ".title", ad.getTitle(), MAX_NAME);
      maxLength(p + ".hotel_id", ad.getHotelId(), MAX_ID);
      if (!(ad.getStarRating() >= 0 && ad.getStarRating() <= 5)) {
        throw new InvalidArgument(p + ".star_rating", "must be between 0 and 5");
      }
      if (!(ad.getReviewScore() >= 0 && ad.getReviewScore() <= 10)) {
        throw new InvalidArgument(p + ".review_score", "must be between 0 and 10");
      }
      if (ad.getNightlyPriceMicros() < 0 || ad.getNightlyPriceMicros() > MAX_MONEY) {
        throw new InvalidArgument(p + ".nightly_price_micros", "must be >= 0");
      }
      maxLength(p + ".destination", ad.getDestination(), MAX_DESTINATION);
    }
  }

  public static void key(String field, String id) {
    requireKey(field, id);
  }

  /** Problems with one event, as a rejection reason naming the field; null when it is well-formed. */
  public static String event(Event e) {
    try {
      requireText("event_id", e.getEventId(), MAX_ID);
      requireText("request_id", e.getRequestId(), MAX_ID);
      requireText("ad_id", e.getAdId(), MAX_ID);
      requireText("campaign_id", e.getCampaignId(), MAX_ID);
      if (e.getType() == EventType.UNRECOGNIZED) {
        throw new InvalidArgument("type", "unknown enum value " + e.getTypeValue());
      }
      if (e.getType() == EventType.EVENT_TYPE_UNSPECIFIED) {
        throw new InvalidArgument("type", "is required (IMPRESSION or CLICK)");
      }
      if (e.getTimeMs() <= 0) {
        throw new InvalidArgument("time_ms", "must be > 0");
      }
      return null;
    } catch (InvalidArgument bad) {
      return "invalid " + bad.getMessage();
    }
  }

  // ---- primitives ----

  private static void requireText(String field, String value, int max) {
    if (value == null || value.isBlank()) {
      throw new InvalidArgument(field, "is required");
    }
    maxLength(field, value, max);
  }

  private static void maxLength(String field, String value, int max) {
    if (value != null && value.length() > max) {
      throw new InvalidArgument(field, "is longer than " + max + " characters");
    }
  }

  private static void requireKey(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw new InvalidArgument(field, "is required");
    }
    if (!isKey(value)) {
      throw new InvalidArgument(field, "must match [A-Za-z0-9_.:-]{1,64}");
    }
  }

  /**
   * Whether {@code value} matches {@code [A-Za-z0-9_.:-]{1,64}}. A loop, not a regex: every bid
   * request checks several keys, and a {@code Matcher} per check was a measurable share of the bid
   * path's allocation (docs/benchmarks/analysis.md).
   */
  static boolean isKey(String value) {
    int n = value.length();
    if (n == 0 || n > MAX_KEY) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
          || c == ':' || c == '-';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static void positiveMoney(String field, long micros) {
    if (micros <= 0) {
      throw new InvalidArgument(field, "must be > 0, was " + micros);
    }
    if (micros > MAX_MONEY) {
      throw new InvalidArgument(field, "is larger than " + MAX_MONEY);
    }
  }

  private static Device requireDevice(String field, Device d) {
    if (d == Device.UNRECOGNIZED) {
      throw new InvalidArgument(field, "unknown enum value");
    }
    if (d == Device.DEVICE_UNSPECIFIED) {
      throw new InvalidArgument(field, "is required");
    }
    return d;
  }

  private static Placement requirePlacement(String field, Placement p) {
    if (p == Placement.UNRECOGNIZED) {
      throw new InvalidArgument(field, "unknown enum value");
    }
    if (p == Placement.PLACEMENT_UNSPECIFIED) {
      throw new InvalidArgument(field, "is required");
    }
    return p;
  }

  private static LocalDate optionalDate(String field, String value) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    if (value.length() != 10) {
      throw new InvalidArgument(field, "must be a date yyyy-mm-dd");
    }
    try {
      return LocalDate.parse(value);
    } catch (DateTimeException e) {
      throw new InvalidArgument(field, "must be a date yyyy-mm-dd");
    }
  }

  private static void optionalZone(String field, String zone) {
    if (zone == null || zone.isEmpty()) {
      return;
    }
    maxLength(field, zone, 64);
    try {
      ZoneId.of(zone);
    } catch (DateTimeException e) {
      throw new InvalidArgument(field, "is not a known time zone");
    }
  }
}
