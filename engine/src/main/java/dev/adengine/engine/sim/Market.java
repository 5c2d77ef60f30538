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
 * campaign that targets several destinations bids on a search with its listings in the searched
 * destination only (the engine's retrieval); the click logs of {@code ClickLogGenerator} still
 * explore its listings elsewhere, which {@link GroundTruthClickModel} penalises.
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

  /**
   * This market with more listings: room-type variants of its hotels' ads are added (to campaigns
   * taken in turn, each variant a copy of one of the campaign's ads at random, with its own id, a
   * room type in the title and the price times 0.85-1.25) until the market holds
   * {@code totalAds} ads. For memory measurements at a given catalog size; a variant is in its
   * hotel's destination like the ad it copies. Deterministic for a seed.
   *
   * @throws IllegalArgumentException when {@code totalAds} is below the current count
   */
  public Market withAds(int totalAds, long seed) {
    int have = adCount();
    if (totalAds < have) {
      throw new IllegalArgumentException(totalAds + " ads requested, the market already holds " + have);
    }
    if (have == 0) {
      throw new IllegalArgumentException("a market without ads has no listing to vary");
    }
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    List<Campaign.Builder> builders = new java.util.ArrayList<>(campaigns.size());
    for (Campaign c : campaigns) {
      builders.add(c.toBuilder());
    }
    String[] rooms = {"Standard Double", "Superior Double", "Twin Room", "Junior Suite", "Family Room",
        "Deluxe King", "Studio", "Sea View Double"};
    for (int n = have, i = 0; n < totalAds; i++) {
      Campaign original = campaigns.get(i % campaigns.size());
      if (original.getAdsCount() == 0) {
        continue;
      }
      Campaign.Builder b = builders.get(i % builders.size());
      dev.adengine.api.v1.Ad base = original.getAds(random.nextInt(original.getAdsCount()));
      long price = Math.round(base.getNightlyPriceMicros() * (0.85 + 0.4 * random.nextDouble()) / 10_000.0) * 10_000;
      n++;
      b.addAds(base.toBuilder().setAdId(String.format(java.util.Locale.ROOT, "ad-v%06d", n))
          .setTitle(base.getTitle() + " - " + rooms[random.nextInt(rooms.length)]).setNightlyPriceMicros(price));
    }
    List<Campaign> more = new java.util.ArrayList<>(builders.size());
    for (Campaign.Builder b : builders) {
      more.add(b.build());
    }
    return new Market(destinations, advertisers, more, hotelDestinations);
  }

  private static long scale(long micros, double factor) {
    return (long) Math.min(1e15, micros * factor);
  }

  public long advertiserCount(AdvertiserKind kind) {
    return advertisers.stream().filter(a -> a.getKind() == kind).count();
  }
}
