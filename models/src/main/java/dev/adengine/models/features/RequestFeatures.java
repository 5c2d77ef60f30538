package dev.adengine.models.features;

/**
 * The request context a pCTR model sees, computed once per request: the raw values and the
 * request's part of the feature row, so that {@link FeatureExtractor#fill} does no per-request
 * work per candidate. Immutable.
 *
 * <p>Device and placement codes are the API's enum numbers ({@code adengine.v1.Device},
 * {@code adengine.v1.Placement}) so this module needs no dependency on the API: devices DESKTOP 1,
 * MOBILE 2, TABLET 3; placements SEARCH_RESULTS 1, HOTEL_DETAILS 2, MAP_VIEW 3.
 */
public final class RequestFeatures {
  public static final int DESKTOP = 1;
  public static final int MOBILE = 2;
  public static final int TABLET = 3;
  public static final int SEARCH_RESULTS = 1;
  public static final int HOTEL_DETAILS = 2;
  public static final int MAP_VIEW = 3;

  private final int device;
  private final int placement;
  private final int daysToCheckin;
  private final int nights;
  private final int queryTerms;
  // the request's part of the row, derived once
  final double mobile;
  final double tablet;
  final double details;
  final double map;
  final double checkinKnown;
  final double checkinSoon;
  final double daysScaled;
  final double nightsClamped;
  final double luxury;
  final double budget;
  final double hostel;
  final double family;
  final double spa;
  final double beach;

  /**
   * @param device device code; anything else counts as desktop
   * @param placement placement code; anything else counts as search results
   * @param daysToCheckin days from the request's day to check-in, {@code -1} when unknown
   * @param nights length of stay, {@code 0} when unknown
   * @param queryTerms the bit set {@link QueryTerms#parse} returns for the free-text query
   */
  public RequestFeatures(int device, int placement, int daysToCheckin, int nights, int queryTerms) {
    this.device = device;
    this.placement = placement;
    this.daysToCheckin = daysToCheckin;
    this.nights = nights;
    this.queryTerms = queryTerms;
    mobile = device == MOBILE ? 1 : 0;
    tablet = device == TABLET ? 1 : 0;
    details = placement == HOTEL_DETAILS ? 1 : 0;
    map = placement == MAP_VIEW ? 1 : 0;
    boolean known = daysToCheckin >= 0;
    int days = known ? Math.min(120, daysToCheckin) : 0;
    checkinKnown = known ? 1 : 0;
    checkinSoon = known ? Math.exp(-days / 5.0) : 0;
    daysScaled = days / 30.0;
    nightsClamped = nights <= 0 ? 2 : Math.min(14, nights);
    luxury = (queryTerms & QueryTerms.LUXURY) != 0 ? 1 : 0;
    budget = (queryTerms & QueryTerms.BUDGET) != 0 ? 1 : 0;
    hostel = (queryTerms & QueryTerms.HOSTEL) != 0 ? 1 : 0;
    family = (queryTerms & QueryTerms.FAMILY) != 0 ? 1 : 0;
    spa = (queryTerms & QueryTerms.SPA) != 0 ? 1 : 0;
    beach = (queryTerms & QueryTerms.BEACH) != 0 ? 1 : 0;
  }

  public static RequestFeatures of(int device, int placement, int daysToCheckin, int nights, String query) {
    return new RequestFeatures(device, placement, daysToCheckin, nights, QueryTerms.parse(query));
  }

  public int device() {
    return device;
  }

  public int placement() {
    return placement;
  }

  public int daysToCheckin() {
    return daysToCheckin;
  }

  public int nights() {
    return nights;
  }

  public int queryTerms() {
    return queryTerms;
  }
}
