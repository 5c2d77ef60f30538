package dev.adengine.engine.auction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Pricing;
import dev.adengine.engine.catalog.AdDef;
import dev.adengine.engine.catalog.CampaignDef;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The auction as a table: bids in, winners and prices out. Every expected price is worked out by
 * hand in the row's comment (score = bid x pCTR for CPC, bid / 1000 for CPM; quality 1).
 */
class AuctionTest {

  /** One bid: a campaign's ad with its pCTR and the request's reserve (in bid units). */
  record Bid(String campaignId, String adId, Pricing pricing, long bidMicros, double pctr, long reserveMicros) {}

  /** Expected winner, in slot order: "campaign/ad" and the price in micros. */
  record Expect(String campaignAd, long priceMicros) {}

  static Bid cpc(String campaign, String ad, long bid, double pctr, long reserve) {
    return new Bid(campaign, ad, Pricing.CPC, bid, pctr, reserve);
  }

  static Bid cpm(String campaign, String ad, long bid, long reserve) {
    return new Bid(campaign, ad, Pricing.CPM, bid, 0.0, reserve);
  }

  static Expect win(String campaignAd, long price) {
    return new Expect(campaignAd, price);
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        // A: 2.0 x 0.05 = 100,000; B: 1.5 x 0.05 = 75,000. A pays 75,000 / 0.05 = B's bid; B, last, pays reserve.
        Arguments.of("equal pCTR: winner pays the runner-up's bid", Auction.Type.GSP, 1.0, 2,
            List.of(cpc("A", "a1", 2_000_000, 0.05, 100_000), cpc("B", "b1", 1_500_000, 0.05, 100_000)),
            List.of(win("A/a1", 1_500_000), win("B/b1", 100_000)), List.of()),
        // A: 1.0 x 0.10 = 100,000; B: 2.6 x 0.035 = 91,000; C: 2.0 x 0.02 = 40,000.
        // A pays 91,000 / 0.10 = 910,000; B pays 40,000 / 0.035 = 1,142,857.14 -> 1,142,858; C pays reserve.
        Arguments.of("unequal pCTR: next score / own pCTR, rounded up", Auction.Type.GSP, 1.0, 3,
            List.of(cpc("A", "a1", 1_000_000, 0.10, 10_000), cpc("B", "b1", 2_600_000, 0.035, 10_000),
                cpc("C", "c1", 2_000_000, 0.02, 10_000)),
            List.of(win("A/a1", 910_000), win("B/b1", 1_142_858), win("C/c1", 10_000)), List.of()),
        // Nobody below: the single winner pays the reserve, not its bid.
        Arguments.of("single bidder pays the reserve", Auction.Type.GSP, 1.0, 3,
            List.of(cpc("A", "a1", 1_000_000, 0.10, 250_000)),
            List.of(win("A/a1", 250_000)), List.of()),
        // A: 100,000; B: 0.4 x 0.02 = 8,000. A's GSP price 8,000 / 0.1 = 80,000 is below the reserve: 300,000.
        Arguments.of("price is clamped up to the reserve", Auction.Type.GSP, 1.0, 2,
            List.of(cpc("A", "a1", 1_000_000, 0.10, 300_000), cpc("B", "b1", 400_000, 0.02, 300_000)),
            List.of(win("A/a1", 300_000), win("B/b1", 300_000)), List.of()),
        // Exact binary ties at 500,000: a (1.0 x 0.5) and b (2.0 x 0.25). a ranks first by id and pays
        // 500,000 / 0.5 = 1,000,000, its whole bid and no more.
        Arguments.of("tied score: price equals own bid, never above", Auction.Type.GSP, 1.0, 2,
            List.of(cpc("b", "b1", 2_000_000, 0.25, 1_000), cpc("a", "a1", 1_000_000, 0.5, 1_000)),
            List.of(win("a/a1", 1_000_000), win("b/b1", 1_000)), List.of()),
        // Five slots, two bidders: two winners, nobody outbid. A pays 1.0 x 0.1 / 0.2 -> 500,000.
        Arguments.of("fewer candidates than slots", Auction.Type.GSP, 1.0, 5,
            List.of(cpc("A", "a1", 1_000_000, 0.2, 1_000), cpc("B", "b1", 1_000_000, 0.1, 1_000)),
            List.of(win("A/a1", 500_000), win("B/b1", 1_000)), List.of()),
        // A's ads score 100,000 (a1) and 200,000 (a2); B 50,000. A takes one slot with a2 and pays
        // B's 50,000 / 0.2 = 250,000 (not its own a1's score); B takes the second slot.
        Arguments.of("one campaign takes one slot with its best ad", Auction.Type.GSP, 1.0, 3,
            List.of(cpc("A", "a1", 1_000_000, 0.1, 1_000), cpc("A", "a2", 1_000_000, 0.2, 1_000),
                cpc("B", "b1", 1_000_000, 0.05, 1_000)),
            List.of(win("A/a2", 250_000), win("B/b1", 1_000)), List.of()),
        // Same score everywhere: campaign id decides the order, ad id the ad; each pays the bid that ties.
        Arguments.of("exact ties: campaign id, then ad id", Auction.Type.GSP, 1.0, 2,
            List.of(cpc("c", "c1", 1_000_000, 0.5, 1_000), cpc("b", "b2", 1_000_000, 0.5, 1_000),
                cpc("b", "b1", 1_000_000, 0.5, 1_000), cpc("a", "a9", 1_000_000, 0.5, 1_000)),
            List.of(win("a/a9", 1_000_000), win("b/b1", 1_000_000)), List.of("c")),
        // X (CPC 0.5 x 0.02) = 10,000 per impression; M (CPM 5.0 / 1000) = 5,000; Y (CPC 1.0 x 0.004) = 4,000.
        // X pays 5,000 / 0.02 = 250,000 per click; M pays 4,000 x 1000 = 4,000,000 per mille; Y reserve.
        Arguments.of("CPC and CPM ranked by expected value per impression", Auction.Type.GSP, 1.0, 3,
            List.of(cpc("Y", "y1", 1_000_000, 0.004, 1_000), cpm("M", "m1", 5_000_000, 1_000),
                cpc("X", "x1", 500_000, 0.02, 1_000)),
            List.of(win("X/x1", 250_000), win("M/m1", 4_000_000), win("Y/y1", 1_000)), List.of()),
        // Same bids, one slot: CPM M ranks first at 5,000 over Y's 4,000 and is the only winner.
        Arguments.of("CPM outranks a lower-value CPC for the only slot", Auction.Type.GSP, 1.0, 1,
            List.of(cpc("Y", "y1", 1_000_000, 0.004, 1_000), cpm("M", "m1", 5_000_000, 1_000)),
            List.of(win("M/m1", 4_000_000)), List.of("Y")),
        // alpha 0.5: A 1.0 x sqrt(0.25) = 500,000; B 0.8 x sqrt(0.16) = 320,000. A pays 320,000 / 0.5 = 640,000.
        Arguments.of("alpha below one dampens pCTR", Auction.Type.GSP, 0.5, 1,
            List.of(cpc("A", "a1", 1_000_000, 0.25, 1_000), cpc("B", "b1", 800_000, 0.16, 1_000)),
            List.of(win("A/a1", 640_000)), List.of("B")),
        // First price: every winner pays its own bid.
        Arguments.of("first price charges the bid", Auction.Type.FIRST_PRICE, 1.0, 2,
            List.of(cpc("A", "a1", 2_000_000, 0.05, 100_000), cpc("B", "b1", 1_500_000, 0.05, 100_000),
                cpc("C", "c1", 1_000_000, 0.05, 100_000)),
            List.of(win("A/a1", 2_000_000), win("B/b1", 1_500_000)), List.of("C")),
        // Every bid is under the 300,000 reserve: nobody enters, nobody wins, nobody is "outbid".
        Arguments.of("every bid under the floor", Auction.Type.GSP, 1.0, 3,
            List.of(cpc("A", "a1", 200_000, 0.30, 300_000), cpc("B", "b1", 299_999, 0.10, 300_000),
                cpm("M", "m1", 100_000, 300_000)),
            List.of(), List.of()),
        // B's bid (50,000) is under the 60,000 reserve: it does not enter although its score (45,000)
        // beats C's (5,000). A pays C's 5,000 / 0.1 = 50,000, clamped up to the reserve; C pays the reserve.
        Arguments.of("a bid under the floor is skipped, the rest run", Auction.Type.GSP, 1.0, 2,
            List.of(cpc("A", "a1", 1_000_000, 0.10, 60_000), cpc("B", "b1", 50_000, 0.90, 60_000),
                cpc("C", "c1", 100_000, 0.05, 60_000)),
            List.of(win("A/a1", 60_000), win("C/c1", 60_000)), List.of()),
        // Three-way tie at 100,000 for two slots: campaign ids A < B < C decide; A and B pay the tying bid.
        Arguments.of("three-way tie for two slots", Auction.Type.GSP, 1.0, 2,
            List.of(cpc("C", "c1", 1_000_000, 0.10, 10_000), cpc("B", "b1", 2_000_000, 0.05, 10_000),
                cpc("A", "a1", 500_000, 0.20, 10_000)),
            List.of(win("A/a1", 500_000), win("B/b1", 2_000_000)), List.of("C")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void shouldPickWinnersAndPricesFromTheTableWhenRunOnTheBids(String name, Auction.Type type, double alpha,
      int slots, List<Bid> bids, List<Expect> expected, List<String> expectedOutbid) {
    // given
    List<Candidate> candidates = bids.stream().map(b -> candidate(b, alpha)).toList();

    // when
    Auction.Result result = Auction.run(candidates, slots, type, alpha);

    // then
    assertEquals(expected, describe(result), name);
    assertEquals(expectedOutbid, result.outbid().stream().map(c -> c.campaign().campaignId()).toList(), name);
    for (int i = 0; i < result.winners().size(); i++) {
      assertEquals(i + 1, result.winners().get(i).position());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void shouldGiveTheSameResultWhenTheInputOrderIsShuffled(String name, Auction.Type type, double alpha,
      int slots, List<Bid> bids, List<Expect> expected, List<String> expectedOutbid) {
    // given
    List<Candidate> candidates = new ArrayList<>(bids.stream().map(b -> candidate(b, alpha)).toList());
    Random random = new Random(42);

    for (int round = 0; round < 20; round++) {
      // when
      Collections.shuffle(candidates, random);
      Auction.Result result = Auction.run(List.copyOf(candidates), slots, type, alpha);

      // then
      assertEquals(expected, describe(result), name + " after shuffle " + round);
    }
  }

  @Test
  void shouldNotModifyTheInputListWhenRunning() {
    // given
    List<Candidate> candidates = new ArrayList<>(List.of(
        candidate(cpc("B", "b1", 1_000_000, 0.1, 0), 1.0), candidate(cpc("A", "a1", 1_000_000, 0.2, 0), 1.0)));
    List<Candidate> before = List.copyOf(candidates);

    // when
    Auction.run(candidates, 2, Auction.Type.GSP, 1.0);

    // then
    assertEquals(before, candidates);
  }

  @Test
  void shouldKeepEveryPriceBetweenReserveAndBidWhenBidsAreRandom() {
    // given
    Random random = new Random(7);
    Pricing[] pricings = {Pricing.CPC, Pricing.CPM};
    for (int round = 0; round < 2_000; round++) {
      long reserve = random.nextInt(200_000);
      int n = 1 + random.nextInt(8);
      List<Candidate> candidates = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        long bid = reserve + 1 + random.nextInt(5_000_000);
        double pctr = 0.0005 + random.nextDouble() * 0.2;
        candidates.add(candidate(new Bid("c" + random.nextInt(6), "ad" + i, pricings[random.nextInt(2)], bid, pctr,
            reserve), 1.0));
      }
      int slots = 1 + random.nextInt(4);

      // when
      Auction.Result result = Auction.run(candidates, slots, Auction.Type.GSP, 1.0);

      // then
      Set<String> campaigns = new java.util.HashSet<>();
      assertTrue(result.winners().size() <= slots);
      double previousScore = Double.MAX_VALUE;
      for (Auction.Win w : result.winners()) {
        long bid = w.candidate().campaign().bidMicros();
        assertTrue(w.priceMicros() >= reserve, "price " + w.priceMicros() + " below reserve " + reserve);
        assertTrue(w.priceMicros() <= bid, "price " + w.priceMicros() + " above bid " + bid);
        assertTrue(campaigns.add(w.candidate().campaign().campaignId()), "one slot per campaign");
        assertTrue(w.candidate().score() <= previousScore, "winners in score order");
        previousScore = w.candidate().score();
      }
    }
  }

  @Test
  void shouldPriceThroughTheQualityFactorWhenQualityIsNotOne() {
    // given: A 1.0 x 0.1 x quality 0.5 = 50,000; B 0.4 x 0.1 x 1.0 = 40,000.
    CampaignDef a = candidate(cpc("A", "a1", 1_000_000, 0.1, 10_000), 1.0).campaign();
    CampaignDef b = candidate(cpc("B", "b1", 400_000, 0.1, 10_000), 1.0).campaign();
    AdDef adA = new AdDef("a1", "t", "h", 4, 8, 1, "");
    AdDef adB = new AdDef("b1", "t", "h", 4, 8, 1, "");
    List<Candidate> candidates = List.of(
        new Candidate(a, adA, 0.1, 0.5, Auction.score(Pricing.CPC, 1_000_000, 0.1, 0.5, 1.0), 10_000),
        new Candidate(b, adB, 0.1, 1.0, Auction.score(Pricing.CPC, 400_000, 0.1, 1.0, 1.0), 10_000));

    // when
    Auction.Result result = Auction.run(candidates, 2, Auction.Type.GSP, 1.0);

    // then: A keeps slot 1 down to 40,000 / (0.1 x 0.5) = 800,000; B, last, pays the reserve.
    assertEquals(List.of(win("A/a1", 800_000), win("B/b1", 10_000)), describe(result));
  }

  @Test
  void shouldScoreCpcAsBidTimesPctrAndCpmAsBidPerImpressionWhenAskedForAScore() {
    // given / when
    double cpc = Auction.score(Pricing.CPC, 2_000_000, 0.25, 1.0, 1.0);
    double cpcWithQuality = Auction.score(Pricing.CPC, 2_000_000, 0.25, 0.5, 1.0);
    double cpcAlphaHalf = Auction.score(Pricing.CPC, 2_000_000, 0.25, 1.0, 0.5);
    double cpm = Auction.score(Pricing.CPM, 2_000_000, 0.25, 1.0, 1.0);

    // then
    assertEquals(500_000.0, cpc, 1e-9);
    assertEquals(250_000.0, cpcWithQuality, 1e-9);
    assertEquals(1_000_000.0, cpcAlphaHalf, 1e-9);
    assertEquals(2_000.0, cpm, 1e-9);
  }

  // ---- helpers ----

  /** Builds a candidate with the rank score computed here (quality 1), not by the code under test. */
  static Candidate candidate(Bid b, double alpha) {
    CampaignDef def = new CampaignDef(b.campaignId(), "adv", b.campaignId(), b.pricing(), b.bidMicros(),
        100_000_000, Set.of(), CampaignDef.ALL, CampaignDef.ALL, List.of(), Pacing.EVEN, null, null,
        ZoneId.of("UTC"));
    AdDef ad = new AdDef(b.adId(), "title " + b.adId(), "hotel", 4, 8, 100_000_000, "");
    double score = b.pricing() == Pricing.CPM ? b.bidMicros() / 1000.0 : b.bidMicros() * Math.pow(b.pctr(), alpha);
    return new Candidate(def, ad, b.pctr(), 1.0, score, b.reserveMicros());
  }

  static List<Expect> describe(Auction.Result result) {
    return result.winners().stream()
        .map(w -> new Expect(w.candidate().campaign().campaignId() + "/" + w.candidate().ad().adId(), w.priceMicros()))
        .toList();
  }
}
