package dev.adengine.engine.catalog;

/**
 * An ad as the bid path sees it: static hotel attributes used for ranking.
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
    String destination) {}
