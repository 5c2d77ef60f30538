package dev.adengine.engine.sim;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.AdvertiserKind;
import dev.adengine.api.v1.Campaign;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A synthetic travel market: destinations, advertisers and their campaigns, as sent to the engine
 * through {@code AdminService}. Immutable; built by {@link MarketGenerator}.
 *
 * <p>Every ad is a listing for one hotel, and every hotel is located in one destination. A
 * campaign that targets several destinations may show an ad for a hotel in another destination
 * than the one searched; {@link GroundTruthClickModel} penalises that.
 */
public final class Market {

  /** Where an ad comes from: its campaign, advertiser and the destination its hotel is in. */
  public record Listing(Ad ad, String campaignId, String advertiserId, Destination hotelDestination) {}

  private final List<Destination> destinations;
  private final List<Advertiser> advertisers;
  private final List<Campaign> campaigns;
  private final Map<String, Destination> destinationsById;
  private final Map<String, Listing> listingsByAdId;
  private final Map<String, Destination> hotelDestinations;

  Market(
      List<Destination> destinations,
      List<Advertiser> advertisers,
      List<Campaign> campaigns,
      Map<String, Destination> hotelDestinations) {
    this.destinations = List.copyOf(destinations);
    this.advertisers = List.copyOf(advertisers);
    this.campaigns = List.copyOf(campaigns);
    this.hotelDestinations = Map.copyOf(hotelDestinations);
    Map<String, Destination> byId = new HashMap<>();
    for (Destination d : destinations) {
      if (byId.put(d.id(), d) != null) {
        throw new IllegalArgumentException("duplicate destination " + d.id());
      }
    }
    this.destinationsById = Map.copyOf(byId);
    Map<String, Listing> listings = new HashMap<>();
    for (Campaign c : campaigns) {
      for (Ad ad : c.getAdsList()) {
        Destination home = hotelDestinations.get(ad.getHotelId());
        if (home == null) {
          throw new IllegalArgumentException("hotel without destination: " + ad.getHotelId());
        }
        Listing previous =
            listings.put(ad.getAdId(), new Listing(ad, c.getCampaignId(), c.getAdvertiserId(), home));
        if (previous != null) {
          throw new IllegalArgumentException("duplicate ad id " + ad.getAdId());
        }
      }
    }
    this.listingsByAdId = Map.copyOf(listings);
  }

  public List<Destination> destinations() {
    return destinations;
  }

  public List<Advertiser> advertisers() {
    return advertisers;
  }

  public List<Campaign> campaigns() {
    return campaigns;
  }

  public Optional<Destination> destination(String id) {
    return Optional.ofNullable(destinationsById.get(id));
  }

  /** The listing of an ad of this market, empty for an ad id the market does not hold. */
  public Optional<Listing> listing(String adId) {
    return Optional.ofNullable(listingsByAdId.get(adId));
  }

  /** Hotel id -> the destination the hotel is located in. */
  public Map<String, Destination> hotelDestinations() {
    return hotelDestinations;
  }

  public int adCount() {
    return listingsByAdId.size();
  }

  /**
   * This market for load tests: every daily budget multiplied by {@code budgetScale} (capped at
   * 10^15 micros) and every campaign paced ASAP, so that no campaign runs out of allowance during a
   * run and the time of day does not change which campaigns serve (EVEN pacing grants almost
   * nothing just after midnight in a campaign's zone).
   */
  public Market forLoadTest(double budgetScale) {
    if (!(budgetScale >= 1)) {
      throw new IllegalArgumentException("budget scale must be >= 1: " + budgetScale);
    }
    List<Advertiser> scaledAdvertisers = new java.util.ArrayList<>(advertisers.size());
    for (Advertiser a : advertisers) {
      scaledAdvertisers.add(a.toBuilder().setDailyBudgetMicros(scale(a.getDailyBudgetMicros(), budgetScale)).build());
    }
    List<Campaign> scaledCampaigns = new java.util.ArrayList<>(campaigns.size());
    for (Campaign c : campaigns) {
      scaledCampaigns.add(c.toBuilder().setDailyBudgetMicros(scale(c.getDailyBudgetMicros(), budgetScale))
          .setPacing(dev.adengine.api.v1.Pacing.ASAP).build());
    }
    return new Market(destinations, scaledAdvertisers, scaledCampaigns, hotelDestinations);
  }

  private static long scale(long micros, double factor) {
    return (long) Math.min(1e15, micros * factor);
  }

  public long advertiserCount(AdvertiserKind kind) {
    return advertisers.stream().filter(a -> a.getKind() == kind).count();
  }
}
