package dev.adengine.engine.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Placement;
import dev.adengine.api.v1.Pricing;
import dev.adengine.engine.auction.BidQuery;
import java.time.LocalDate;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Edge validation as a table: one change to a valid message, and the field it must be blamed on (null: ok). */
class ValidationTest {
  private static final int MAX_TMAX_MS = 1_000;
  private static final long MAX_MONEY = 1_000_000_000_000_000L;

  static String chars(int n) {
    return "x".repeat(n);
  }

  static BidRequest.Builder validBid() {
    return BidRequest.newBuilder().setRequestId("req-1").setDestination("Paris").setDevice(Device.DESKTOP)
        .setPlacement(Placement.SEARCH_RESULTS).setSlots(3).setTmaxMs(100);
  }

  static Ad.Builder validAd(String id) {
    return Ad.newBuilder().setAdId(id).setTitle("Hotel").setHotelId("h1").setStarRating(4).setReviewScore(8.5)
        .setNightlyPriceMicros(120_000_000);
  }

  static Campaign.Builder validCampaign() {
    return Campaign.newBuilder().setCampaignId("camp-1").setAdvertiserId("adv-1").setName("Spring")
        .setPricing(Pricing.CPC).setBidMicros(1_000_000).setDailyBudgetMicros(50_000_000).addAds(validAd("ad-1"));
  }

  static Arguments bid(String name, UnaryOperator<BidRequest.Builder> change, String field) {
    return Arguments.of(name, change, field);
  }

  static Stream<Arguments> bidRequests() {
    return Stream.of(
        bid("valid", b -> b, null),
        bid("request_id empty", b -> b.setRequestId(""), "request_id"),
        bid("request_id blank", b -> b.setRequestId("   "), "request_id"),
        bid("request_id at 128", b -> b.setRequestId(chars(128)), null),
        bid("request_id at 129", b -> b.setRequestId(chars(129)), "request_id"),
        bid("user_id empty is fine", b -> b.setUserId(""), null),
        bid("user_id at 128", b -> b.setUserId(chars(128)), null),
        bid("user_id at 129", b -> b.setUserId(chars(129)), "user_id"),
        bid("destination empty", b -> b.setDestination(""), "destination"),
        bid("destination at 64", b -> b.setDestination(chars(64)), null),
        bid("destination at 65", b -> b.setDestination(chars(65)), "destination"),
        bid("device unspecified", b -> b.setDevice(Device.DEVICE_UNSPECIFIED), "device"),
        bid("device unknown number", b -> b.setDeviceValue(99), "device"),
        bid("placement unspecified", b -> b.setPlacement(Placement.PLACEMENT_UNSPECIFIED), "placement"),
        bid("placement unknown number", b -> b.setPlacementValue(42), "placement"),
        bid("slots 0", b -> b.setSlots(0), "slots"),
        bid("slots 1", b -> b.setSlots(1), null),
        bid("slots 50", b -> b.setSlots(50), null),
        bid("slots 51", b -> b.setSlots(51), "slots"),
        bid("slots negative", b -> b.setSlots(-1), "slots"),
        bid("floor negative", b -> b.setFloorMicros(-1), "floor_micros"),
        bid("floor at max money", b -> b.setFloorMicros(MAX_MONEY), null),
        bid("floor over max money", b -> b.setFloorMicros(MAX_MONEY + 1), "floor_micros"),
        bid("tmax 0", b -> b.setTmaxMs(0), "tmax_ms"),
        bid("tmax 1", b -> b.setTmaxMs(1), null),
        bid("query at 256", b -> b.setQuery(chars(256)), null),
        bid("query at 257", b -> b.setQuery(chars(257)), "query"),
        bid("checkin valid", b -> b.setCheckin("2024-03-01"), null),
        bid("checkin impossible date", b -> b.setCheckin("2024-02-30"), "checkin"),
        bid("checkin short form", b -> b.setCheckin("2024-3-1"), "checkin"),
        bid("checkin garbage", b -> b.setCheckin("tomorrow!!"), "checkin"),
        bid("nights -1", b -> b.setNights(-1), "nights"),
        bid("nights 60", b -> b.setNights(60), null),
        bid("nights 61", b -> b.setNights(61), "nights"),
        bid("first problem wins", b -> b.setRequestId("").setSlots(0), "request_id"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("bidRequests")
  void shouldNameTheFieldWhenABidRequestIsInvalid(String name, UnaryOperator<BidRequest.Builder> change,
      String field) {
    // given
    BidRequest request = change.apply(validBid()).build();

    // when / then
    if (field == null) {
      Validation.bid(request, MAX_TMAX_MS);
    } else {
      InvalidArgument bad = assertThrows(InvalidArgument.class, () -> Validation.bid(request, MAX_TMAX_MS), name);
      assertEquals(field, bad.field(), name);
      assertTrue(bad.getMessage().startsWith(field + ": "), bad.getMessage());
    }
  }

  @Test
  void shouldNormalizeDestinationAndCapTmaxWhenTheBidRequestIsValid() {
    // given
    BidRequest request = validBid().setDestination("  Paris ").setTmaxMs(5_000).setCheckin("2024-03-01")
        .setNights(2).build();

    // when
    BidQuery q = Validation.bid(request, MAX_TMAX_MS);

    // then
    assertEquals("paris", q.destination());
    assertEquals(MAX_TMAX_MS, q.tmaxMs());
    assertEquals(LocalDate.of(2024, 3, 1), q.checkin());
    assertEquals(3, q.slots());
    assertEquals(2, q.nights());
  }

  static Arguments campaign(String name, UnaryOperator<Campaign.Builder> change, String field) {
    return Arguments.of(name, change, field);
  }

  static Stream<Arguments> campaigns() {
    return Stream.of(
        campaign("valid", c -> c, null),
        campaign("campaign_id empty", c -> c.setCampaignId(""), "campaign.campaign_id"),
        campaign("campaign_id at 64", c -> c.setCampaignId(chars(64)), null),
        campaign("campaign_id at 65", c -> c.setCampaignId(chars(65)), "campaign.campaign_id"),
        campaign("campaign_id with a space", c -> c.setCampaignId("camp 1"), "campaign.campaign_id"),
        campaign("campaign_id with a slash", c -> c.setCampaignId("camp/1"), "campaign.campaign_id"),
        campaign("campaign_id with allowed punctuation", c -> c.setCampaignId("A-z_0.9:x"), null),
        campaign("advertiser_id empty", c -> c.setAdvertiserId(""), "campaign.advertiser_id"),
        campaign("name at 256", c -> c.setName(chars(256)), null),
        campaign("name at 257", c -> c.setName(chars(257)), "campaign.name"),
        campaign("pricing unspecified", c -> c.setPricing(Pricing.PRICING_UNSPECIFIED), "campaign.pricing"),
        campaign("pricing unknown number", c -> c.setPricingValue(7), "campaign.pricing"),
        campaign("CPM is fine", c -> c.setPricing(Pricing.CPM), null),
        campaign("bid 0", c -> c.setBidMicros(0), "campaign.bid_micros"),
        campaign("bid 1", c -> c.setBidMicros(1), null),
        campaign("bid at max money", c -> c.setBidMicros(MAX_MONEY), null),
        campaign("bid over max money", c -> c.setBidMicros(MAX_MONEY + 1), "campaign.bid_micros"),
        campaign("budget negative", c -> c.setDailyBudgetMicros(-5), "campaign.daily_budget_micros"),
        campaign("500 destinations", c -> c.addAllDestinations(
            IntStream.range(0, 500).mapToObj(i -> "d" + i).toList()), null),
        campaign("501 destinations", c -> c.addAllDestinations(
            IntStream.range(0, 501).mapToObj(i -> "d" + i).toList()), "campaign.destinations"),
        campaign("blank destination", c -> c.addDestinations("paris").addDestinations(" "),
            "campaign.destinations[1]"),
        campaign("destination at 65", c -> c.addDestinations(chars(65)), "campaign.destinations[0]"),
        campaign("device unspecified", c -> c.addDevices(Device.MOBILE).addDevices(Device.DEVICE_UNSPECIFIED),
            "campaign.devices[1]"),
        campaign("placement unknown number", c -> c.addPlacementsValue(9), "campaign.placements[0]"),
        campaign("pacing unknown number", c -> c.setPacingValue(5), "campaign.pacing"),
        campaign("checkin range valid", c -> c.setCheckinFrom("2024-03-01").setCheckinTo("2024-03-01"), null),
        campaign("checkin_from bad month", c -> c.setCheckinFrom("2024-13-01"), "campaign.checkin_from"),
        campaign("checkin_to before from", c -> c.setCheckinFrom("2024-03-02").setCheckinTo("2024-03-01"),
            "campaign.checkin_to"),
        campaign("time zone known", c -> c.setTimeZone("Asia/Tokyo"), null),
        campaign("time zone unknown", c -> c.setTimeZone("Mars/Olympus_Mons"), "campaign.time_zone"),
        campaign("time zone over 64", c -> c.setTimeZone(chars(65)), "campaign.time_zone"),
        campaign("no ads", c -> c.clearAds(), "campaign.ads"),
        campaign("100 ads", c -> c.clearAds().addAllAds(
            IntStream.range(0, 100).mapToObj(i -> validAd("ad-" + i).build()).toList()), null),
        campaign("101 ads", c -> c.clearAds().addAllAds(
            IntStream.range(0, 101).mapToObj(i -> validAd("ad-" + i).build()).toList()), "campaign.ads"),
        campaign("ad id empty", c -> c.clearAds().addAds(validAd("")), "campaign.ads[0].ad_id"),
        campaign("duplicate ad id", c -> c.addAds(validAd("ad-2")).addAds(validAd("ad-1")), "campaign.ads[2].ad_id"),
        campaign("ad title at 257", c -> c.addAds(validAd("ad-2").setTitle(chars(257))), "campaign.ads[1].title"),
        campaign("ad hotel_id at 129", c -> c.addAds(validAd("ad-2").setHotelId(chars(129))),
            "campaign.ads[1].hotel_id"),
        campaign("star rating 5", c -> c.clearAds().addAds(validAd("a").setStarRating(5)), null),
        campaign("star rating 5.5", c -> c.clearAds().addAds(validAd("a").setStarRating(5.5)),
            "campaign.ads[0].star_rating"),
        campaign("star rating NaN", c -> c.clearAds().addAds(validAd("a").setStarRating(Double.NaN)),
            "campaign.ads[0].star_rating"),
        campaign("review score 10.01", c -> c.clearAds().addAds(validAd("a").setReviewScore(10.01)),
            "campaign.ads[0].review_score"),
        campaign("nightly price negative", c -> c.clearAds().addAds(validAd("a").setNightlyPriceMicros(-1)),
            "campaign.ads[0].nightly_price_micros"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("campaigns")
  void shouldNameTheFieldWhenACampaignIsInvalid(String name, UnaryOperator<Campaign.Builder> change, String field) {
    // given
    Campaign campaign = change.apply(validCampaign()).build();

    // when / then
    if (field == null) {
      Validation.campaign(campaign, true);
    } else {
      InvalidArgument bad = assertThrows(InvalidArgument.class, () -> Validation.campaign(campaign, true), name);
      assertEquals(field, bad.field(), name);
    }
  }

  @Test
  void shouldNameTheCampaignWhenItIsMissing() {
    // given
    Campaign absent = Campaign.getDefaultInstance();

    // when
    InvalidArgument bad = assertThrows(InvalidArgument.class, () -> Validation.campaign(absent, false));

    // then
    assertEquals("campaign", bad.field());
  }

  @Test
  void shouldAcceptExactlyTheKeysTheDocumentedPatternAccepts() {
    // given: 20,000 random strings of 0-70 characters, from the key alphabet and its neighbours
    java.util.regex.Pattern documented = java.util.regex.Pattern.compile("[A-Za-z0-9_.:\\-]{1,64}");
    String alphabet = "aZz09_.:-/ @,;\u00e9\u0000AbC";
    java.util.SplittableRandom random = new java.util.SplittableRandom(5);
    int accepted = 0;
    for (int i = 0; i < 20_000; i++) {
      // mostly key characters, so that long valid keys occur too
      int length = random.nextInt(71);
      StringBuilder b = new StringBuilder(length);
      for (int c = 0; c < length; c++) {
        b.append(random.nextInt(20) == 0 ? alphabet.charAt(random.nextInt(alphabet.length()))
            : alphabet.charAt(random.nextInt(9)));
      }
      String value = b.toString();

      // when / then: the loop and the pattern agree on every one
      boolean expected = documented.matcher(value).matches();
      assertEquals(expected, Validation.isKey(value), () -> "key " + value);
      accepted += expected ? 1 : 0;
    }
    assertTrue(accepted > 1_000 && accepted < 19_000, "both outcomes exercised: " + accepted);
  }
}
