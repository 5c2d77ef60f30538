package dev.adengine.models.features;

/**
 * The request context a pCTR model sees, computed once per request.
 *
 * <p>Device and placement codes are the API's enum numbers ({@code adengine.v1.Device},
 * {@code adengine.v1.Placement}) so this module needs no dependency on the API: devices DESKTOP 1,
 * MOBILE 2, TABLET 3; placements SEARCH_RESULTS 1, HOTEL_DETAILS 2, MAP_VIEW 3.
 *
 * @param device device code; anything else counts as desktop
 * @param placement placement code; anything else counts as search results
 * @param daysToCheckin days from the request's day to check-in, {@code -1} when unknown
 * @param nights length of stay, {@code 0} when unknown
 * @param queryTerms the bit set {@link QueryTerms#parse} returns for the free-text query
 */
public record RequestFeatures(int device, int placement, int daysToCheckin, int nights, int queryTerms) {
  public static final int DESKTOP = 1;
  public static final int MOBILE = 2;
  public static final int TABLET = 3;
  public static final int SEARCH_RESULTS = 1;
  public static final int HOTEL_DETAILS = 2;
  public static final int MAP_VIEW = 3;

  public static RequestFeatures of(int device, int placement, int daysToCheckin, int nights, String query) {
    return new RequestFeatures(device, placement, daysToCheckin, nights, QueryTerms.parse(query));
  }
}
