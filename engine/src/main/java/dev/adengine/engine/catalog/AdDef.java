package dev.adengine.engine.catalog;

/**
 * An ad as the bid path sees it: static hotel attributes used for retrieval and ranking.
 *
 * @param destination where the hotel is, normalized like campaign destinations; empty when unknown
 */
public record AdDef(
    String adId,
    String title,
    String hotelId,
    double starRating,
    double reviewScore,
    long nightlyPriceMicros,
    String destination) {

  /**
   * Whether the ad is a candidate for a search of {@code normalizedDestination}: its hotel is there,
   * or its location is unknown. A campaign targeting several destinations (a chain, an agency) bids
   * on each with the listings it has there: a search for one city never shows a hotel in another.
   */
  public boolean servesIn(String normalizedDestination) {
    return destination.isEmpty() || destination.equals(normalizedDestination);
  }
}
