package dev.adengine.engine.catalog;

import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Placement;
import dev.adengine.api.v1.Pricing;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.List;
import java.util.Set;

/**
 * A validated campaign definition in the form the bid path needs: targeting as bit masks and a
 * lower-cased destination set, dates parsed. Immutable; built from the API message by
 * {@link CatalogCodec}.
 */
public record CampaignDef(
    String campaignId,
    String advertiserId,
    String name,
    Pricing pricing,
    long bidMicros,
    long dailyBudgetMicros,
    Set<String> destinations,
    int deviceMask,
    int placementMask,
    List<AdDef> ads,
    Pacing pacing,
    LocalDate checkinFrom,
    LocalDate checkinTo,
    ZoneId zone) {

  public static final int ALL = -1;

  public static int bit(Device device) {
    return 1 << device.getNumber();
  }

  public static int bit(Placement placement) {
    return 1 << placement.getNumber();
  }

  public boolean targetsDevice(Device device) {
    return (deviceMask & bit(device)) != 0;
  }

  public boolean targetsPlacement(Placement placement) {
    return (placementMask & bit(placement)) != 0;
  }

  /** True when the check-in date is inside the targeted range; an unknown date always matches. */
  public boolean targetsCheckin(LocalDate checkin) {
    if (checkin == null) {
      return true;
    }
    if (checkinFrom != null && checkin.isBefore(checkinFrom)) {
      return false;
    }
    return checkinTo == null || !checkin.isAfter(checkinTo);
  }

  /** The most a single win can cost: the bid per click (CPC) or per impression (CPM). */
  public long maxChargeMicros() {
    return maxCharge(pricing, bidMicros);
  }

  /** What one win costs at {@code priceMicros}: the price per click (CPC), or per impression (CPM, rounded up). */
  public static long maxCharge(Pricing pricing, long priceMicros) {
    return pricing == Pricing.CPM ? ceilDiv(priceMicros, 1000) : priceMicros;
  }

  public static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }
}
