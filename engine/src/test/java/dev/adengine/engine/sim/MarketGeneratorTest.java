package dev.adengine.engine.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.AdvertiserKind;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.Pricing;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MarketGeneratorTest {

  private static final LocalDate TODAY = LocalDate.of(2025, 6, 1);
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

  private final Market market = new MarketGenerator(42L, 1_000, TODAY).generate();

  @Test
  void shouldScaleBudgetsAndPaceAsapWhenPreparedForALoadTest() {
    // when
    Market load = market.forLoadTest(1_000);

    // then: the same campaigns and ads, budgets x1,000, every campaign ASAP
    assertEquals(market.campaigns().size(), load.campaigns().size());
    assertEquals(market.adCount(), load.adCount());
    for (int i = 0; i < market.campaigns().size(); i++) {
      Campaign before = market.campaigns().get(i);
      Campaign after = load.campaigns().get(i);
      assertEquals(before.getCampaignId(), after.getCampaignId());
      assertEquals(before.getDailyBudgetMicros() * 1_000, after.getDailyBudgetMicros());
      assertEquals(dev.adengine.api.v1.Pacing.ASAP, after.getPacing());
      assertEquals(before.getAdsList(), after.getAdsList());
    }
    for (int i = 0; i < market.advertisers().size(); i++) {
      assertEquals(market.advertisers().get(i).getDailyBudgetMicros() * 1_000,
          load.advertisers().get(i).getDailyBudgetMicros());
    }
  }

  @Test
  void shouldAddRoomVariantsInTheirHotelsDestinationUpToTheRequestedAdCount() {
    // when the 1,000-campaign market is grown to 10,000 ads
    Market big = market.withAds(10_000, 5);

    // then it holds exactly that many, in the same campaigns, each campaign keeping its own ads first
    assertEquals(10_000, big.adCount());
    assertEquals(market.campaigns().size(), big.campaigns().size());
    for (int i = 0; i < market.campaigns().size(); i++) {
      List<Ad> before = market.campaigns().get(i).getAdsList();
      List<Ad> after = big.campaigns().get(i).getAdsList();
      assertEquals(before, after.subList(0, before.size()));
      for (Ad variant : after.subList(before.size(), after.size())) {
        // a variant is a room of one of the campaign's hotels, in that hotel's destination
        assertTrue(before.stream().anyMatch(base -> base.getHotelId().equals(variant.getHotelId())
            && base.getDestination().equals(variant.getDestination())
            && variant.getTitle().startsWith(base.getTitle() + " - ")
            && variant.getNightlyPriceMicros() >= base.getNightlyPriceMicros() * 0.84
            && variant.getNightlyPriceMicros() <= base.getNightlyPriceMicros() * 1.26), variant.toString());
        assertEquals(big.listing(variant.getAdId()).orElseThrow().hotelDestination().id(), variant.getDestination());
      }
    }
    assertEquals(big.campaigns(), market.withAds(10_000, 5).campaigns(), "deterministic for a seed");
    assertThrows(IllegalArgumentException.class, () -> market.withAds(market.adCount() - 1, 5));
  }

  @Test
  void shouldProduceIdenticalMarketWhenSeedIsTheSame() {
    // given
    MarketGenerator again = new MarketGenerator(42L, 1_000, TODAY);

    // when
    Market second = again.generate();

    // then
    assertEquals(market.advertisers(), second.advertisers());
    assertEquals(market.campaigns(), second.campaigns());
  }

  @Test
  void shouldProduceDifferentMarketWhenSeedDiffers() {
    // when
    Market other = new MarketGenerator(43L, 1_000, TODAY).generate();

    // then
    assertNotEquals(market.campaigns(), other.campaigns());
  }

  @Test
  void shouldProduceRequestedCampaignCountWithUniqueIdsWhenGenerated() {
    // when
    List<Campaign> campaigns = market.campaigns();

    // then
    assertEquals(1_000, campaigns.size());
    Set<String> campaignIds = new HashSet<>();
    Set<String> adIds = new HashSet<>();
    int ads = 0;
    for (Campaign c : campaigns) {
      assertTrue(campaignIds.add(c.getCampaignId()), "duplicate campaign " + c.getCampaignId());
      for (Ad ad : c.getAdsList()) {
        ads++;
        assertTrue(adIds.add(ad.getAdId()), "duplicate ad " + ad.getAdId());
      }
    }
    assertEquals(ads, market.adCount());
  }

  @Test
  void shouldHonourCampaignCountWhenSmallOrLarge() {
    // when
    Market small = new MarketGenerator(7L, 3, TODAY).generate();
    Market large = new MarketGenerator(7L, 2_500, TODAY).generate();

    // then
    assertEquals(3, small.campaigns().size());
    assertEquals(2_500, large.campaigns().size());
    for (AdvertiserKind kind : List.of(AdvertiserKind.HOTEL_CHAIN, AdvertiserKind.INDEPENDENT_HOTEL, AdvertiserKind.ONLINE_TRAVEL_AGENCY)) {
      assertEquals(1, small.advertiserCount(kind), kind.name());
    }
  }

  @Test
  void shouldSatisfyApiConstraintsWhenGenerated() {
    // given
    Map<String, Advertiser> advertisers = new HashMap<>();
    for (Advertiser a : market.advertisers()) {
      assertTrue(ID.matcher(a.getAdvertiserId()).matches(), a.getAdvertiserId());
      assertTrue(a.getDailyBudgetMicros() > 0, a.getAdvertiserId());
      assertTrue(a.getKind() != AdvertiserKind.ADVERTISER_KIND_UNSPECIFIED && a.getKind() != AdvertiserKind.UNRECOGNIZED);
      ZoneId.of(a.getTimeZone());
      advertisers.put(a.getAdvertiserId(), a);
    }

    // then
    for (Campaign c : market.campaigns()) {
      String id = c.getCampaignId();
      assertTrue(ID.matcher(id).matches(), id);
      assertTrue(advertisers.containsKey(c.getAdvertiserId()), id + " names an unknown advertiser");
      assertTrue(c.getPricing() == Pricing.CPC || c.getPricing() == Pricing.CPM, id);
      if (c.getPricing() == Pricing.CPC) {
        assertTrue(c.getBidMicros() >= 200_000 && c.getBidMicros() <= 2_500_000, id + " cpc " + c.getBidMicros());
      } else {
        assertTrue(c.getBidMicros() >= 2_000_000 && c.getBidMicros() <= 15_000_000, id + " cpm " + c.getBidMicros());
      }
      assertTrue(c.getDailyBudgetMicros() > 0, id);
      assertTrue(c.getAdsCount() >= 1 && c.getAdsCount() <= 10, id + " ads " + c.getAdsCount());
      assertTrue(c.getDestinationsCount() >= 1, id);
      for (String d : c.getDestinationsList()) {
        assertTrue(market.destination(d).isPresent(), id + " targets unknown " + d);
      }
      if (!c.getCheckinFrom().isEmpty()) {
        assertTrue(!LocalDate.parse(c.getCheckinFrom()).isAfter(LocalDate.parse(c.getCheckinTo())), id);
      }
      for (Ad ad : c.getAdsList()) {
        assertTrue(ID.matcher(ad.getAdId()).matches(), ad.getAdId());
        assertTrue(ad.getStarRating() >= 1 && ad.getStarRating() <= 5, ad.getAdId());
        assertTrue(ad.getReviewScore() >= 5 && ad.getReviewScore() <= 10, ad.getAdId());
        assertTrue(ad.getNightlyPriceMicros() > 0, ad.getAdId());
        assertTrue(!ad.getTitle().isEmpty() && !ad.getHotelId().isEmpty(), ad.getAdId());
        String home = market.hotelDestinations().get(ad.getHotelId()).id();
        assertTrue(c.getDestinationsList().contains(home), ad.getAdId() + " is a hotel outside its campaign's targeting");
      }
    }
  }

  @Test
  void shouldHaveAllThreeAdvertiserKindsWhenGeneratedWithDefaultCount() {
    // when
    long chains = market.advertiserCount(AdvertiserKind.HOTEL_CHAIN);
    long independents = market.advertiserCount(AdvertiserKind.INDEPENDENT_HOTEL);
    long otas = market.advertiserCount(AdvertiserKind.ONLINE_TRAVEL_AGENCY);

    // then
    assertEquals(15, chains);
    assertEquals(8, otas);
    assertTrue(independents >= 200 && independents <= 400, "independents " + independents);
  }

  @Test
  void shouldTargetDestinationsByAdvertiserKindWhenGenerated() {
    // given
    Map<String, AdvertiserKind> kinds = new HashMap<>();
    market.advertisers().forEach(a -> kinds.put(a.getAdvertiserId(), a.getKind()));
    double chainSum = 0, otaSum = 0;
    int chainCount = 0, otaCount = 0;

    // when
    for (Campaign c : market.campaigns()) {
      switch (kinds.get(c.getAdvertiserId())) {
        case INDEPENDENT_HOTEL -> assertEquals(1, c.getDestinationsCount(), c.getCampaignId());
        case HOTEL_CHAIN -> { chainSum += c.getDestinationsCount(); chainCount++; }
        case ONLINE_TRAVEL_AGENCY -> { otaSum += c.getDestinationsCount(); otaCount++; }
        default -> throw new AssertionError(c.getCampaignId());
      }
    }

    // then
    double chainMean = chainSum / chainCount;
    double otaMean = otaSum / otaCount;
    assertTrue(chainMean >= 2 && chainMean <= 6, "chain mean destinations " + chainMean);
    assertTrue(otaMean > chainMean * 2, "ota mean destinations " + otaMean);
  }

  @Test
  void shouldOfferAboutFiftyDestinationsWithZipfPopularityWhenGenerated() {
    // when
    List<Destination> destinations = market.destinations();

    // then
    assertEquals(50, destinations.size());
    assertEquals(1.0, destinations.stream().mapToDouble(Destination::popularity).sum(), 1e-9);
    for (int i = 1; i < destinations.size(); i++) {
      assertTrue(destinations.get(i).popularity() < destinations.get(i - 1).popularity());
    }
    assertTrue(destinations.get(0).popularity() > 20 * destinations.get(49).popularity());
  }

  @Test
  void shouldMixPricingAndPacingWhenGenerated() {
    // when
    long cpm = market.campaigns().stream().filter(c -> c.getPricing() == Pricing.CPM).count();
    long asap = market.campaigns().stream().filter(c -> c.getPacing() == dev.adengine.api.v1.Pacing.ASAP).count();
    long allDevices = market.campaigns().stream().filter(c -> c.getDevicesCount() == 0).count();

    // then
    assertTrue(cpm >= 50 && cpm <= 300, "cpm campaigns " + cpm);
    assertTrue(asap >= 80 && asap <= 250, "asap campaigns " + asap);
    assertTrue(allDevices >= 600, "campaigns on every device " + allDevices);
  }

  @Test
  void shouldCorrelateReviewsAndPricesWithStarsWhenGenerated() {
    // given
    double[] reviewSum = new double[6];
    double[] relPriceSum = new double[6];
    int[] count = new int[6];

    // when
    for (Campaign c : market.campaigns()) {
      for (Ad ad : c.getAdsList()) {
        int s = (int) ad.getStarRating();
        Destination home = market.hotelDestinations().get(ad.getHotelId());
        reviewSum[s] += ad.getReviewScore();
        relPriceSum[s] += (double) ad.getNightlyPriceMicros() / home.medianNightlyPriceMicros();
        count[s]++;
      }
    }

    // then
    for (int s = 2; s <= 5; s++) {
      assertTrue(count[s] > 0 && count[s - 1] > 0, "stars " + s);
      assertTrue(reviewSum[s] / count[s] > reviewSum[s - 1] / count[s - 1], "review at " + s + " stars");
      assertTrue(relPriceSum[s] / count[s] > relPriceSum[s - 1] / count[s - 1], "price at " + s + " stars");
    }
  }
}
