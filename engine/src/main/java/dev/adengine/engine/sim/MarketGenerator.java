package dev.adengine.engine.sim;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.AdvertiserKind;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Placement;
import dev.adengine.api.v1.Pricing;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Builds a synthetic hotel-ads market, deterministically for a seed (and the day it is anchored
 * to, which only date-range targeting depends on).
 *
 * <p>Shape, for the default 1,000 campaigns: 50 real destinations with Zipf-like popularity
 * (weight {@code 1/rank^0.9}) and a median nightly price each; 15 hotel chains, ~300 independent
 * hotels and 8 online travel agencies; campaigns split 20% chains (2-6 destinations each), 45%
 * independents (their one destination) and 35% OTAs (6-20 destinations). 85% CPC with a max CPC
 * of 0.20-2.50 units, 15% CPM with 2-15 units; pacing 85% EVEN; 1-10 ads per campaign, each a
 * hotel with stars 1-5, a review score 5-10 correlated with stars and a lognormal nightly price
 * around the destination median times a star factor.
 */
public final class MarketGenerator {

  public static final int DEFAULT_CAMPAIGNS = 1_000;
  static final int MAX_CHAINS = 15;
  static final int MAX_OTAS = 8;

  /** Nightly price of an n-star hotel relative to the destination median (index = stars). */
  static final double[] STAR_PRICE_FACTOR = {0, 0.45, 0.65, 1.0, 1.5, 2.4};

  private static final long MICROS = 1_000_000L;

  private record City(String id, String name, String country, String zone, int medianUnits) {}

  // Ordered by (approximate) popularity as a hotel search destination.
  private static final List<City> CITIES =
      List.of(
          new City("paris", "Paris", "FR", "Europe/Paris", 190),
          new City("london", "London", "GB", "Europe/London", 210),
          new City("new-york", "New York", "US", "America/New_York", 260),
          new City("rome", "Rome", "IT", "Europe/Rome", 160),
          new City("barcelona", "Barcelona", "ES", "Europe/Madrid", 150),
          new City("dubai", "Dubai", "AE", "Asia/Dubai", 170),
          new City("bangkok", "Bangkok", "TH", "Asia/Bangkok", 60),
          new City("istanbul", "Istanbul", "TR", "Europe/Istanbul", 90),
          new City("tokyo", "Tokyo", "JP", "Asia/Tokyo", 150),
          new City("amsterdam", "Amsterdam", "NL", "Europe/Amsterdam", 180),
          new City("las-vegas", "Las Vegas", "US", "America/Los_Angeles", 140),
          new City("singapore", "Singapore", "SG", "Asia/Singapore", 200),
          new City("madrid", "Madrid", "ES", "Europe/Madrid", 130),
          new City("berlin", "Berlin", "DE", "Europe/Berlin", 120),
          new City("prague", "Prague", "CZ", "Europe/Prague", 95),
          new City("vienna", "Vienna", "AT", "Europe/Vienna", 125),
          new City("lisbon", "Lisbon", "PT", "Europe/Lisbon", 120),
          new City("miami", "Miami", "US", "America/New_York", 220),
          new City("los-angeles", "Los Angeles", "US", "America/Los_Angeles", 200),
          new City("hong-kong", "Hong Kong", "HK", "Asia/Hong_Kong", 160),
          new City("milan", "Milan", "IT", "Europe/Rome", 150),
          new City("venice", "Venice", "IT", "Europe/Rome", 200),
          new City("florence", "Florence", "IT", "Europe/Rome", 160),
          new City("munich", "Munich", "DE", "Europe/Berlin", 140),
          new City("athens", "Athens", "GR", "Europe/Athens", 100),
          new City("dublin", "Dublin", "IE", "Europe/Dublin", 170),
          new City("budapest", "Budapest", "HU", "Europe/Budapest", 85),
          new City("san-francisco", "San Francisco", "US", "America/Los_Angeles", 240),
          new City("sydney", "Sydney", "AU", "Australia/Sydney", 190),
          new City("orlando", "Orlando", "US", "America/New_York", 150),
          new City("cancun", "Cancun", "MX", "America/Cancun", 170),
          new City("bali", "Bali", "ID", "Asia/Makassar", 80),
          new City("seoul", "Seoul", "KR", "Asia/Seoul", 120),
          new City("kyoto", "Kyoto", "JP", "Asia/Tokyo", 160),
          new City("edinburgh", "Edinburgh", "GB", "Europe/London", 150),
          new City("copenhagen", "Copenhagen", "DK", "Europe/Copenhagen", 180),
          new City("stockholm", "Stockholm", "SE", "Europe/Stockholm", 150),
          new City("zurich", "Zurich", "CH", "Europe/Zurich", 230),
          new City("brussels", "Brussels", "BE", "Europe/Brussels", 130),
          new City("nice", "Nice", "FR", "Europe/Paris", 170),
          new City("marrakech", "Marrakech", "MA", "Africa/Casablanca", 90),
          new City("cape-town", "Cape Town", "ZA", "Africa/Johannesburg", 110),
          new City("rio-de-janeiro", "Rio de Janeiro", "BR", "America/Sao_Paulo", 110),
          new City("buenos-aires", "Buenos Aires", "AR", "America/Argentina/Buenos_Aires", 90),
          new City("mexico-city", "Mexico City", "MX", "America/Mexico_City", 95),
          new City("toronto", "Toronto", "CA", "America/Toronto", 170),
          new City("vancouver", "Vancouver", "CA", "America/Vancouver", 180),
          new City("chicago", "Chicago", "US", "America/Chicago", 190),
          new City("krakow", "Krakow", "PL", "Europe/Warsaw", 70),
          new City("reykjavik", "Reykjavik", "IS", "Atlantic/Reykjavik", 210));

  private static final List<String> CHAIN_NAMES =
      List.of(
          "Aurora Hotels", "Meridian Stay", "Bluebay Resorts", "Cityline Inns", "Northstar Suites",
          "Harbor & Hill", "Palisade Collection", "Sunridge Hotels", "Urban Nest", "Grand Atlas",
          "Maple Lodge Group", "Coralis Resorts", "Vista Royale", "Keystone Inns", "Lumen Hotels");
  private static final List<String> OTA_NAMES =
      List.of(
          "TripNest", "StayFinder", "RoomRadar", "BookaBed", "NightOwl Travel", "Wanderly",
          "HotelHop", "Voyago");
  private static final List<String> HOTEL_WORDS_A =
      List.of(
          "Grand", "Royal", "Little", "Old Town", "Riverside", "Garden", "Central", "Park",
          "Harbour", "Boutique", "Golden", "Silver", "Blue", "Green", "Sunset", "Plaza");
  private static final List<String> HOTEL_WORDS_B =
      List.of("Hotel", "Inn", "House", "Suites", "Residence", "Lodge", "Palace", "Rooms", "Hostel");
  private static final List<String> ROOM_TYPES =
      List.of("Standard Double", "Deluxe Room", "Family Room", "Junior Suite", "Twin Room");

  private static final double CPM_SHARE = 0.15;

  private final long seed;
  private final int campaignCount;
  private final LocalDate today;

  /**
   * @param seed the seed; the same seed, count and day give the same market
   * @param campaignCount how many campaigns to create (at least 3: one per advertiser kind)
   * @param today the day date-range targeting is anchored to
   */
  public MarketGenerator(long seed, int campaignCount, LocalDate today) {
    if (campaignCount < 3) {
      throw new IllegalArgumentException("need at least 3 campaigns, got " + campaignCount);
    }
    this.seed = seed;
    this.campaignCount = campaignCount;
    this.today = today;
  }

  /** Destinations with their popularity shares, the same for every seed. */
  public static List<Destination> destinations() {
    double[] weights = new double[CITIES.size()];
    double sum = 0;
    for (int i = 0; i < weights.length; i++) {
      weights[i] = 1.0 / Math.pow(i + 1, 0.9);
      sum += weights[i];
    }
    List<Destination> result = new ArrayList<>(CITIES.size());
    for (int i = 0; i < CITIES.size(); i++) {
      City c = CITIES.get(i);
      result.add(
          new Destination(c.id(), c.name(), c.country(), c.zone(), weights[i] / sum, c.medianUnits() * MICROS));
    }
    return List.copyOf(result);
  }

  public Market generate() {
    return new Builder().build();
  }

  /** A hotel the market's ads point at. */
  private record Hotel(String id, String name, Destination destination, int stars, double reviewScore, long priceMicros) {}

  /** One generation run: all mutable state lives here, so the generator itself stays reusable. */
  private final class Builder {
    private final SplittableRandom random = new SplittableRandom(seed);
    private final List<Destination> destinations = destinations();
    private final WeightedSampler byPopularity;
    private final Map<String, Destination> hotelDestinations = new HashMap<>();
    private int hotelSeq;
    private int adSeq;

    Builder() {
      double[] w = destinations.stream().mapToDouble(Destination::popularity).toArray();
      byPopularity = new WeightedSampler(w);
    }

    Market build() {
      int chainCampaigns = Math.max(1, (int) Math.round(campaignCount * 0.20));
      int otaCampaigns = Math.max(1, (int) Math.round(campaignCount * 0.35));
      int independentCampaigns = campaignCount - chainCampaigns - otaCampaigns;
      int chains = Math.min(MAX_CHAINS, chainCampaigns);
      int otas = Math.min(MAX_OTAS, otaCampaigns);
      int independents = Math.max(1, (int) Math.round(independentCampaigns / 1.5));

      List<Advertiser> advertisers = new ArrayList<>();
      List<Campaign> campaigns = new ArrayList<>(campaignCount);

      // chains: a star segment and a footprint of destinations with a few hotels in each
      for (int i = 0; i < chains; i++) {
        String advertiserId = String.format(Locale.ROOT, "chain-%02d", i + 1);
        advertisers.add(advertiser(advertiserId, CHAIN_NAMES.get(i % CHAIN_NAMES.size()),
            AdvertiserKind.HOTEL_CHAIN, units(2_000, 20_000), "UTC"));
      }
      int[] chainLowStars = new int[chains];
      List<List<Destination>> chainFootprints = new ArrayList<>();
      for (int i = 0; i < chains; i++) {
        chainLowStars[i] = 2 + random.nextInt(3); // segment: 2-3, 3-4 or 4-5 stars
        Set<Destination> footprint = new LinkedHashSet<>();
        int size = 8 + random.nextInt(13);
        while (footprint.size() < size) {
          footprint.add(pickDestination());
        }
        chainFootprints.add(List.copyOf(footprint));
      }
      for (int i = 0; i < chainCampaigns; i++) {
        int chain = i % chains;
        Advertiser adv = advertisers.get(chain);
        List<Destination> footprint = chainFootprints.get(chain);
        int destinationCount = 2 + random.nextInt(5);
        Set<Destination> targeted = new LinkedHashSet<>();
        while (targeted.size() < Math.min(destinationCount, footprint.size())) {
          targeted.add(footprint.get(random.nextInt(footprint.size())));
        }
        List<Hotel> hotels = new ArrayList<>();
        for (Destination d : targeted) {
          hotels.add(newHotel(d, chainLowStars[chain] + random.nextInt(2), adv.getName()));
        }
        int extra = random.nextInt(Math.max(1, 11 - hotels.size()));
        List<Destination> targetedList = List.copyOf(targeted);
        for (int k = 0; k < extra; k++) {
          Destination d = targetedList.get(random.nextInt(targetedList.size()));
          hotels.add(newHotel(d, chainLowStars[chain] + random.nextInt(2), adv.getName()));
        }
        campaigns.add(campaign(adv, campaignId(adv, i / chains), targetedList, hotelAds(hotels), chainBid()));
      }

      // independents: one hotel in one destination, one or two campaigns promoting its rooms
      List<Hotel> independentHotels = new ArrayList<>();
      for (int i = 0; i < independents; i++) {
        Destination home = pickDestination();
        Hotel hotel = newHotel(home, independentStars(), null);
        independentHotels.add(hotel);
        advertisers.add(advertiser(String.format(Locale.ROOT, "indep-%04d", i + 1), hotel.name(),
            AdvertiserKind.INDEPENDENT_HOTEL, units(20, 300), home.timeZone()));
      }
      for (int i = 0; i < independentCampaigns; i++) {
        int index = i % independents;
        Advertiser adv = advertisers.get(chains + index);
        Hotel hotel = independentHotels.get(index);
        int rooms = 1 + random.nextInt(3);
        List<Ad> ads = new ArrayList<>();
        for (int k = 0; k < rooms; k++) {
          String room = ROOM_TYPES.get(random.nextInt(ROOM_TYPES.size()));
          long price = roundToCents(hotel.priceMicros() * (0.85 + 0.4 * random.nextDouble()));
          ads.add(ad(hotel, hotel.name() + " - " + room, price));
        }
        campaigns.add(campaign(adv, campaignId(adv, i / independents), List.of(hotel.destination()), ads, independentBid()));
      }

      // OTAs: many destinations, listings of hotels across the star range
      int firstOta = advertisers.size();
      for (int i = 0; i < otas; i++) {
        String advertiserId = String.format(Locale.ROOT, "ota-%02d", i + 1);
        advertisers.add(advertiser(advertiserId, OTA_NAMES.get(i % OTA_NAMES.size()),
            AdvertiserKind.ONLINE_TRAVEL_AGENCY, units(5_000, 50_000), "UTC"));
      }
      for (int i = 0; i < otaCampaigns; i++) {
        Advertiser adv = advertisers.get(firstOta + i % otas);
        int destinationCount = 6 + random.nextInt(15);
        Set<Destination> targeted = new LinkedHashSet<>();
        while (targeted.size() < destinationCount) {
          targeted.add(pickDestination());
        }
        List<Destination> targetedList = List.copyOf(targeted);
        int adCount = 4 + random.nextInt(7);
        List<Hotel> hotels = new ArrayList<>();
        for (int k = 0; k < adCount; k++) {
          // listings concentrate on the campaign's most popular destinations (first picked)
          Destination d = targetedList.get(Math.min(targetedList.size() - 1, (int) (Math.abs(random.nextGaussian()) * 3)));
          hotels.add(newHotel(d, independentStars(), null));
        }
        campaigns.add(campaign(adv, campaignId(adv, i / otas), targetedList, hotelAds(hotels), otaBid()));
      }
      return new Market(destinations, advertisers, campaigns, hotelDestinations);
    }

    private Destination pickDestination() {
      return destinations.get(byPopularity.sample(random));
    }

    private int independentStars() {
      double u = random.nextDouble();
      return u < 0.10 ? 1 : u < 0.30 ? 2 : u < 0.65 ? 3 : u < 0.90 ? 4 : 5;
    }

    private Hotel newHotel(Destination d, int stars, String brand) {
      int s = Math.max(1, Math.min(5, stars));
      hotelSeq++;
      String id = String.format(Locale.ROOT, "h%06d", hotelSeq);
      String name;
      if (brand != null) {
        name = brand + " " + d.name() + (hotelSeq % 3 == 0 ? " Centre" : hotelSeq % 3 == 1 ? "" : " Airport");
      } else {
        String b = s <= 1 && random.nextDouble() < 0.5 ? "Hostel" : HOTEL_WORDS_B.get(random.nextInt(HOTEL_WORDS_B.size() - 1));
        name = HOTEL_WORDS_A.get(random.nextInt(HOTEL_WORDS_A.size())) + " " + b + " " + d.name();
      }
      double review = 6.3 + 0.55 * s + 0.6 * random.nextGaussian();
      review = Math.round(Math.max(5.0, Math.min(10.0, review)) * 10) / 10.0;
      double price = d.medianNightlyPriceMicros() * STAR_PRICE_FACTOR[s] * Math.exp(0.25 * random.nextGaussian());
      hotelDestinations.put(id, d);
      return new Hotel(id, name, d, s, review, roundToCents(price));
    }

    private List<Ad> hotelAds(List<Hotel> hotels) {
      List<Ad> ads = new ArrayList<>(hotels.size());
      for (Hotel h : hotels) {
        ads.add(ad(h, h.name(), h.priceMicros()));
      }
      return ads;
    }

    private Ad ad(Hotel hotel, String title, long priceMicros) {
      adSeq++;
      return Ad.newBuilder()
          .setAdId(String.format(Locale.ROOT, "ad-%06d", adSeq))
          .setTitle(title)
          .setHotelId(hotel.id())
          .setStarRating(hotel.stars())
          .setReviewScore(hotel.reviewScore())
          .setNightlyPriceMicros(priceMicros)
          .setDestination(hotel.destination().id())
          .build();
    }

    private Advertiser advertiser(String id, String name, AdvertiserKind kind, long budget, String zone) {
      return Advertiser.newBuilder()
          .setAdvertiserId(id)
          .setName(name)
          .setKind(kind)
          .setDailyBudgetMicros(budget)
          .setTimeZone(zone)
          .build();
    }

    private Campaign campaign(Advertiser adv, String id, List<Destination> targeted, List<Ad> ads, Bid bid) {
      Campaign.Builder b =
          Campaign.newBuilder()
              .setCampaignId(id)
              .setAdvertiserId(adv.getAdvertiserId())
              .setName(adv.getName() + " " + (targeted.size() == 1 ? targeted.get(0).name() : targeted.size() + " destinations"))
              .setPricing(bid.pricing())
              .setBidMicros(bid.micros())
              .setPacing(random.nextDouble() < 0.85 ? Pacing.EVEN : Pacing.ASAP)
              .addAllAds(ads);
      for (Destination d : targeted) {
        b.addDestinations(d.id());
      }
      // a campaign budget is a share of the advertiser's daily cap, at least one unit
      double share = adv.getKind() == AdvertiserKind.INDEPENDENT_HOTEL ? 0.6 : 0.05 + 0.15 * random.nextDouble();
      b.setDailyBudgetMicros(Math.max(MICROS, roundToCents(adv.getDailyBudgetMicros() * share)));
      double u = random.nextDouble();
      if (u < 0.15) {
        b.addDevices(Device.MOBILE);
      } else if (u < 0.25) {
        b.addDevices(Device.DESKTOP).addDevices(Device.TABLET);
      } else if (u < 0.30) {
        b.addDevices(Device.DESKTOP);
      }
      double v = random.nextDouble();
      if (v < 0.20) {
        b.addPlacements(Placement.SEARCH_RESULTS);
      } else if (v < 0.30) {
        b.addPlacements(Placement.SEARCH_RESULTS).addPlacements(Placement.MAP_VIEW);
      }
      if (random.nextDouble() < 0.10) {
        LocalDate from = today.plusDays(random.nextInt(60));
        b.setCheckinFrom(from.toString()).setCheckinTo(from.plusDays(30 + random.nextInt(61)).toString());
      }
      return b.build();
    }

    private Bid chainBid() {
      return random.nextDouble() < CPM_SHARE * 1.5 ? cpm(4, 15) : cpc(0.6, 0.5);
    }

    private Bid independentBid() {
      return random.nextDouble() < CPM_SHARE * 0.3 ? cpm(2, 6) : cpc(0.45, 0.5);
    }

    private Bid otaBid() {
      return random.nextDouble() < CPM_SHARE * 1.5 ? cpm(3, 12) : cpc(0.9, 0.45);
    }

    /** A lognormal CPC around {@code medianUnits}, clamped to 0.20-2.50 units. */
    private Bid cpc(double medianUnits, double sigma) {
      double units = medianUnits * Math.exp(sigma * random.nextGaussian());
      long micros = Math.round(Math.max(0.20, Math.min(2.50, units)) * 100) * 10_000L;
      return new Bid(Pricing.CPC, micros);
    }

    /** A CPM uniform in {@code [lowUnits, highUnits]}, in cents. */
    private Bid cpm(double lowUnits, double highUnits) {
      double units = lowUnits + (highUnits - lowUnits) * random.nextDouble();
      return new Bid(Pricing.CPM, Math.round(units * 100) * 10_000L);
    }

    private long units(int low, int high) {
      return (low + random.nextInt(high - low + 1)) * MICROS;
    }

    private String campaignId(Advertiser adv, int ordinal) {
      return String.format(Locale.ROOT, "%s.c%03d", adv.getAdvertiserId(), ordinal + 1);
    }
  }

  private record Bid(Pricing pricing, long micros) {}

  private static long roundToCents(double micros) {
    return Math.max(10_000L, Math.round(micros / 10_000.0) * 10_000L);
  }
}
