package dev.adengine.engine.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Placement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GroundTruthClickModelTest {

  private static final LocalDate TODAY = LocalDate.of(2025, 6, 1);
  private static final Market MARKET = new MarketGenerator(42L, 1_000, TODAY).generate();
  private static final GroundTruthClickModel MODEL = GroundTruthClickModel.forMarket(MARKET);
  private static final Destination PARIS = MARKET.destination("paris").orElseThrow();
  private static final RequestContext DESKTOP_SEARCH =
      RequestContext.of(Device.DESKTOP, Placement.SEARCH_RESULTS, "", 20, 2);

  private static Ad hotel(String id, int stars, double review, double priceFactor) {
    return Ad.newBuilder()
        .setAdId("ad-" + id)
        .setHotelId("test-" + id)
        .setTitle(id)
        .setStarRating(stars)
        .setReviewScore(review)
        .setNightlyPriceMicros(Math.round(PARIS.medianNightlyPriceMicros() * priceFactor))
        .build();
  }

  /** Destination id -> ads of the campaigns that target it: what the engine could show there. */
  private static Map<String, List<Ad>> eligibleAds() {
    Map<String, List<Ad>> eligible = new HashMap<>();
    for (Campaign c : MARKET.campaigns()) {
      for (String d : c.getDestinationsList()) {
        eligible.computeIfAbsent(d, k -> new ArrayList<>()).addAll(c.getAdsList());
      }
    }
    return eligible;
  }

  @Test
  void shouldStayStrictlyBetweenZeroAndOneWhenEvaluatedOnGeneratedTraffic() {
    // given
    RequestGenerator requests = new RequestGenerator(MARKET.destinations(), 1L, TODAY, "t");
    Map<String, List<Ad>> eligible = eligibleAds();
    SplittableRandom random = new SplittableRandom(2L);

    // when / then
    for (int i = 0; i < 5_000; i++) {
      SimRequest r = requests.next();
      List<Ad> ads = eligible.getOrDefault(r.destination().id(), MARKET.campaigns().get(0).getAdsList());
      Ad ad = ads.get(random.nextInt(ads.size()));
      for (int p = 1; p <= 50; p++) {
        double prob = MODEL.clickProbability(ad, r.destination(), r.context(), p);
        assertTrue(prob > 0 && prob < 1, "p(click) " + prob + " at position " + p);
      }
    }
  }

  @Test
  void shouldDecreaseStrictlyWithPositionWhenEverythingElseIsEqual() {
    // given
    Ad ad = hotel("a", 4, 8.6, 1.4);

    // when / then
    for (Placement placement : List.of(Placement.SEARCH_RESULTS, Placement.MAP_VIEW, Placement.HOTEL_DETAILS)) {
      for (Device device : List.of(Device.DESKTOP, Device.MOBILE, Device.TABLET)) {
        RequestContext ctx = RequestContext.of(device, placement, "", 10, 3);
        double previous = 1.0;
        for (int p = 1; p <= 50; p++) {
          double prob = MODEL.clickProbability(ad, PARIS, ctx, p);
          assertTrue(prob < previous, placement + "/" + device + " position " + p + ": " + prob + " >= " + previous);
          previous = prob;
        }
      }
    }
  }

  @Test
  void shouldLoseMoreOnLowPositionsWhenDeviceIsMobile() {
    // given
    Ad ad = hotel("a", 3, 8.0, 1.0);
    RequestContext mobile = RequestContext.of(Device.MOBILE, Placement.SEARCH_RESULTS, "", 20, 2);

    // when
    double desktopDrop = MODEL.clickProbability(ad, PARIS, DESKTOP_SEARCH, 4) / MODEL.clickProbability(ad, PARIS, DESKTOP_SEARCH, 1);
    double mobileDrop = MODEL.clickProbability(ad, PARIS, mobile, 4) / MODEL.clickProbability(ad, PARIS, mobile, 1);

    // then
    assertTrue(mobileDrop < desktopDrop, "mobile keeps " + mobileDrop + ", desktop " + desktopDrop);
  }

  @Test
  void shouldBeHigherWhenReviewIsBetterAtEqualPrice() {
    // given
    Ad poor = hotel("poor", 3, 6.5, 1.0);
    Ad good = hotel("good", 3, 9.0, 1.0);

    // when
    double pPoor = MODEL.clickProbability(poor, PARIS, DESKTOP_SEARCH, 1);
    double pGood = MODEL.clickProbability(good, PARIS, DESKTOP_SEARCH, 1);

    // then
    assertTrue(pGood > pPoor * 1.5, "good " + pGood + " poor " + pPoor);
  }

  @Test
  void shouldFavourFiveStarsWhenQueryAsksForLuxury() {
    // given: each at the typical price of its star class
    Ad fiveStar = hotel("five", 5, 9.1, MarketGenerator.STAR_PRICE_FACTOR[5]);
    Ad twoStar = hotel("two", 2, 7.4, MarketGenerator.STAR_PRICE_FACTOR[2]);
    RequestContext luxury = RequestContext.of(Device.DESKTOP, Placement.SEARCH_RESULTS, "luxury hotel", 20, 2);

    // when
    double ratioLuxury = MODEL.clickProbability(fiveStar, PARIS, luxury, 1) / MODEL.clickProbability(twoStar, PARIS, luxury, 1);
    double ratioPlain = MODEL.clickProbability(fiveStar, PARIS, DESKTOP_SEARCH, 1) / MODEL.clickProbability(twoStar, PARIS, DESKTOP_SEARCH, 1);

    // then
    assertTrue(ratioLuxury > 3.0, "5-star vs 2-star under 'luxury': " + ratioLuxury);
    assertTrue(ratioLuxury > 2 * ratioPlain, "luxury " + ratioLuxury + " plain " + ratioPlain);
  }

  @Test
  void shouldFavourCheapHotelsWhenQueryAsksForBudget() {
    // given
    Ad cheap = hotel("cheap", 3, 8.0, 0.6);
    Ad pricey = hotel("pricey", 3, 8.0, 1.6);
    RequestContext budget = RequestContext.of(Device.DESKTOP, Placement.SEARCH_RESULTS, "cheap hotel", 20, 2);

    // when
    double ratioBudget = MODEL.clickProbability(cheap, PARIS, budget, 1) / MODEL.clickProbability(pricey, PARIS, budget, 1);
    double ratioPlain = MODEL.clickProbability(cheap, PARIS, DESKTOP_SEARCH, 1) / MODEL.clickProbability(pricey, PARIS, DESKTOP_SEARCH, 1);

    // then
    assertTrue(ratioPlain > 1.0, "cheaper is preferred even without intent: " + ratioPlain);
    assertTrue(ratioBudget > 1.5 * ratioPlain, "budget " + ratioBudget + " plain " + ratioPlain);
  }

  @Test
  void shouldPenaliseHotelsElsewhereWhenDestinationDiffers() {
    // given: a market hotel that is not in Paris
    Ad elsewhere = MARKET.campaigns().stream()
        .flatMap(c -> c.getAdsList().stream())
        .filter(a -> !MARKET.hotelDestinations().get(a.getHotelId()).id().equals("paris"))
        .findFirst().orElseThrow();
    Destination home = MARKET.hotelDestinations().get(elsewhere.getHotelId());
    Ad samePrice = elsewhere.toBuilder().setNightlyPriceMicros(home.medianNightlyPriceMicros()).build();

    // when
    double atHome = MODEL.clickProbability(samePrice, home, DESKTOP_SEARCH, 1);
    double inParis = MODEL.clickProbability(
        samePrice.toBuilder().setNightlyPriceMicros(PARIS.medianNightlyPriceMicros()).build(), PARIS, DESKTOP_SEARCH, 1);

    // then
    assertTrue(inParis < atHome / 2, "in paris " + inParis + " at home " + atHome);
  }

  /**
   * Mean CTR at positions 1..5 of SEARCH_RESULTS over generated traffic, each position showing a
   * random ad the destination's campaigns could show; {@code sameDestinationOnly} restricts that
   * to hotels located in the searched destination (what a well-trained ranker mostly shows).
   */
  private static double[] meanCtrByPosition(boolean sameDestinationOnly) {
    RequestGenerator requests = new RequestGenerator(MARKET.destinations(), 9L, TODAY, "t");
    Map<String, List<Ad>> eligible = eligibleAds();
    if (sameDestinationOnly) {
      eligible.replaceAll((d, ads) -> ads.stream()
          .filter(a -> MARKET.hotelDestinations().get(a.getHotelId()).id().equals(d)).toList());
    }
    SplittableRandom random = new SplittableRandom(10L);
    double[] mean = new double[6];
    int n = 0;
    while (n < 20_000) {
      SimRequest r = requests.next();
      List<Ad> ads = eligible.get(r.destination().id());
      if (r.context().placement() != Placement.SEARCH_RESULTS || ads == null || ads.isEmpty()) {
        continue;
      }
      n++;
      for (int p = 1; p <= 5; p++) {
        mean[p] += MODEL.clickProbability(ads.get(random.nextInt(ads.size())), r.destination(), r.context(), p);
      }
    }
    for (int p = 1; p <= 5; p++) {
      mean[p] /= n;
    }
    return mean;
  }

  private static String table(String label, double[] ctr) {
    StringBuilder table = new StringBuilder("[click model] mean CTR on SEARCH_RESULTS, " + label + ":");
    for (int p = 1; p <= 5; p++) {
      table.append(String.format(Locale.ROOT, " p%d=%.2f%%", p, 100 * ctr[p]));
    }
    return table.toString();
  }

  @Test
  void shouldGiveRealisticCtrByPositionWhenAveragedOverGeneratedTraffic() {
    // when
    double[] local = meanCtrByPosition(true);
    double[] any = meanCtrByPosition(false);

    // then
    String report = table("hotels in the searched destination", local) + "\n" + table("any eligible ad", any);
    System.out.println(report);
    assertTrue(local[1] > 0.025 && local[1] < 0.08, report);
    assertTrue(local[5] < local[1] / 2.5 && local[5] > 0.003, report);
    assertTrue(any[1] > 0.01 && any[1] < local[1], report);
  }
}
