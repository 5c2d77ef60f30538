package dev.adengine.engine.catalog;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Placement;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Converts validated API messages into the bid path's definitions. */
public final class CatalogCodec {
  private CatalogCodec() {}

  /** Destinations are matched case-insensitively, trimmed. */
  public static String normalizeDestination(String destination) {
    return destination.trim().toLowerCase(Locale.ROOT);
  }

  public static CampaignDef toDef(Campaign c, String advertiserZone) {
    Set<String> destinations = new HashSet<>();
    for (String d : c.getDestinationsList()) {
      destinations.add(normalizeDestination(d));
    }
    int deviceMask = 0;
    for (Device d : c.getDevicesList()) {
      deviceMask |= CampaignDef.bit(d);
    }
    int placementMask = 0;
    for (Placement p : c.getPlacementsList()) {
      placementMask |= CampaignDef.bit(p);
    }
    List<AdDef> ads = new ArrayList<>(c.getAdsCount());
    for (Ad a : c.getAdsList()) {
      ads.add(new AdDef(a.getAdId(), a.getTitle(), a.getHotelId(), a.getStarRating(), a.getReviewScore(),
          a.getNightlyPriceMicros(), normalizeDestination(a.getDestination())));
    }
    String zone = !c.getTimeZone().isEmpty() ? c.getTimeZone() : advertiserZone;
    return new CampaignDef(
        c.getCampaignId(),
        c.getAdvertiserId(),
        c.getName(),
        c.getPricing(),
        c.getBidMicros(),
        c.getDailyBudgetMicros(),
        Set.copyOf(destinations),
        deviceMask == 0 ? CampaignDef.ALL : deviceMask,
        placementMask == 0 ? CampaignDef.ALL : placementMask,
        List.copyOf(ads),
        c.getPacing() == Pacing.PACING_UNSPECIFIED ? Pacing.EVEN : c.getPacing(),
        parseDate(c.getCheckinFrom()),
        parseDate(c.getCheckinTo()),
        zone == null || zone.isEmpty() ? ZoneOffset.UTC : ZoneId.of(zone));
  }

  static LocalDate parseDate(String s) {
    return s == null || s.isEmpty() ? null : LocalDate.parse(s);
  }
}
