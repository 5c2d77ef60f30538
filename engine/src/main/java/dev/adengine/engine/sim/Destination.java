package dev.adengine.engine.sim;

import java.util.Objects;

/**
 * A travel destination of the synthetic market.
 *
 * @param id the value sent as {@code BidRequest.destination} and used in campaign targeting,
 *     e.g. {@code "new-york"}
 * @param name the display name, e.g. {@code "New York"}
 * @param countryCode ISO 3166-1 alpha-2
 * @param timeZone IANA zone, used for independent hotels' budget day
 * @param popularity relative search share (Zipf-like over the popularity rank); the shares of all
 *     destinations of a market sum to 1
 * @param medianNightlyPriceMicros the median nightly price of a 3-star hotel there
 */
public record Destination(
    String id,
    String name,
    String countryCode,
    String timeZone,
    double popularity,
    long medianNightlyPriceMicros) {

  public Destination {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(name, "name");
    if (!(popularity > 0)) {
      throw new IllegalArgumentException("popularity must be > 0: " + popularity);
    }
    if (medianNightlyPriceMicros <= 0) {
      throw new IllegalArgumentException("median price must be > 0: " + medianNightlyPriceMicros);
    }
  }
}
