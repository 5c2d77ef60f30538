package dev.adengine.engine.sim;

import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Placement;
import java.util.Objects;
import java.util.Set;

/**
 * The parts of a bid request the user's click decision depends on.
 *
 * @param daysToCheckin days from today to the check-in date, {@code -1} when unknown
 * @param nights length of stay, {@code 0} when unknown
 * @param intents parsed from {@code query} by {@link QueryIntent#parse}
 */
public record RequestContext(
    Device device, Placement placement, String query, int daysToCheckin, int nights, Set<QueryIntent> intents) {

  public RequestContext {
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(placement, "placement");
    query = query == null ? "" : query;
    intents = Set.copyOf(intents);
  }

  public static RequestContext of(Device device, Placement placement, String query, int daysToCheckin, int nights) {
    return new RequestContext(device, placement, query, daysToCheckin, nights, QueryIntent.parse(query));
  }
}
