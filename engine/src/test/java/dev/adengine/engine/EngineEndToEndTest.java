package dev.adengine.engine;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.CampaignStatus;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.ClusterStatusRequest;
import dev.adengine.api.v1.ClusterStatusResponse;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventAck;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventType;
import dev.adengine.api.v1.GetCampaignRequest;
import dev.adengine.api.v1.NoBid;
import dev.adengine.api.v1.NoBidReason;
import dev.adengine.api.v1.PauseCampaignRequest;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Placement;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.api.v1.Winner;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One real node on real Cassandra, driven by a real gRPC client from another actor system:
 * campaigns created through AdminService serve within a second, targeting holds, GSP prices,
 * events are accepted once, spend shows in GetCampaign, pausing stops serving, and a restarted
 * node recovers everything from Cassandra.
 */
class EngineEndToEndTest {
  private static final long UNIT = 1_000_000L;
  private static String keyspace;
  private static EngineNode node;
  private static ActorSystem<Void> client;
  private static Clients api;

  @BeforeAll
  static void start() {
    keyspace = CassandraTestNode.uniqueKeyspaceName("e2e");
    // stage 2 fans out to the ranking workers from 16 candidates (the default, 150, is measured for
    // speed; the deadline test below needs the workers in play)
    node = startNode(keyspace, java.util.Map.of("adengine.ranking.fan-out-min", 16));
    client = clientSystem("e2e-client");
    api = Clients.of(client, node.grpcPort());
    await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
        .setAdvertiser(advertiser("adv-1", 1_000 * UNIT)).build()));
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
    if (client != null) {
      client.terminate();
    }
    dev.adengine.engine.testing.EngineTestSupport.stop(node);
  }

  private static void upsert(dev.adengine.api.v1.Campaign.Builder c) {
    await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder().setCampaign(c).build()));
  }

  private static BidResponse bidOnce(String requestId, String destination, Device device, int slots, boolean debug) {
    return await(api.auction().bid(bid(requestId, destination, device, slots).setDebug(debug).build()));
  }

  @Test
  void shouldServeCampaignWithinOneSecondWhenCreatedThroughAdmin() {
    // given a new campaign for a destination nobody else targets
    upsert(campaign("c-fast", "adv-1", Pricing.CPC, 2 * UNIT, 100 * UNIT, "ad-fast-1")
        .addDestinations("Oslo"));
    long created = System.nanoTime();
    // when bidding until it shows up
    BidResponse response = awaitValue(Duration.ofSeconds(5), () -> {
      BidResponse r = bidOnce("rq-fast-" + System.nanoTime(), "oslo", Device.MOBILE, 3, false);
      assertEquals(1, r.getWinnersCount(), "winners");
      return r;
    });
    long elapsedMs = (System.nanoTime() - created) / 1_000_000;
    System.out.println("campaign eligible " + elapsedMs + " ms after UpsertCampaign returned");
    // then it is eligible within a second, and a single bidder pays the reserve (the placement floor)
    assertTrue(elapsedMs <= 1000, "eligible after " + elapsedMs + " ms");
    Winner w = response.getWinners(0);
    assertEquals("c-fast", w.getCampaignId());
    assertEquals("adv-1", w.getAdvertiserId());
    assertEquals("ad-fast-1", w.getAdId());
    assertEquals(1, w.getPosition());
    assertEquals(10_000, w.getPriceMicros());
    assertEquals("default", response.getExperimentId());
    assertEquals("control", response.getArm());
    assertFalse(response.getModelVersion().isEmpty());
  }

  @Test
  void shouldAnswerWithinTmaxFlaggedPartialWhenTheRankingWorkersAreStuck() throws Exception {
    // given 30 campaigns in Bergen (enough for stage 2 to fan out), of an advertiser whose cap
    // covers them all, and both ranking threads stuck
    await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
        .setAdvertiser(advertiser("adv-bergen", 100_000 * UNIT)).build()));
    for (int i = 0; i < 30; i++) {
      upsert(campaign(String.format("c-bergen-%02d", i), "adv-bergen", Pricing.CPC, (1 + i % 5) * UNIT, 100 * UNIT,
          "ad-bergen-" + i).addDestinations("bergen"));
    }
    awaitValue(Duration.ofSeconds(10), () -> {
      BidResponse r = bidOnce("rq-bergen-" + System.nanoTime(), "bergen", Device.DESKTOP, 3, true);
      assertEquals(30, r.getCandidates(), () -> "candidates; excluded: " + r.getNoBidsList().stream()
          .map(n -> n.getCampaignId() + "=" + n.getReason()).collect(Collectors.joining(", ")));
      assertFalse(r.getPartial(), "a healthy node answers in full");
      return r;
    });
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.Executor ranking = node.system().dispatchers().lookup(
        org.apache.pekko.actor.typed.DispatcherSelector.fromConfig(dev.adengine.engine.ranking.RankingPool.DISPATCHER));
    java.util.concurrent.CountDownLatch stuck = new java.util.concurrent.CountDownLatch(2);
    for (int i = 0; i < 2; i++) {
      ranking.execute(() -> {
        stuck.countDown();
        long until = System.nanoTime() + 10_000_000_000L;
        while (release.getCount() > 0 && System.nanoTime() < until) {
          try {
            release.await(10, java.util.concurrent.TimeUnit.MILLISECONDS);
          } catch (InterruptedException e) {
            // keep the thread stuck until released: that is the point of this task
          }
        }
      });
    }
    assertTrue(stuck.await(5, java.util.concurrent.TimeUnit.SECONDS), "both ranking threads are stuck");
    BidResponse response;
    long tookMillis;
    try {
      // when
      long start = System.nanoTime();
      response = await(api.auction().bid(bid("rq-bergen-stuck", "bergen", Device.DESKTOP, 3).setTmaxMs(300).build()));
      tookMillis = (System.nanoTime() - start) / 1_000_000;
    } finally {
      release.countDown();
    }

    // then: an answer before tmax, with winners ranked by stage 1, flagged partial
    System.out.println("stuck workers: answered partial in " + tookMillis + " ms (tmax 300)");
    assertTrue(response.getPartial(), "partial");
    assertEquals(3, response.getWinnersCount());
    assertTrue(tookMillis < 300, "answered after " + tookMillis + " ms");
    assertTrue(tookMillis >= 200, "waited for the workers until tmax - margin (240 ms): " + tookMillis + " ms");
    ClusterStatusResponse status = await(api.admin().clusterStatus(ClusterStatusRequest.getDefaultInstance()));
    assertTrue(status.getPartialAnswers() >= 1, "partial answers counted: " + status.getPartialAnswers());
    assertEquals(response.getModelVersion(), status.getModelVersion());
  }

  @Test
  void shouldReturnOnlyEligibleMatchingCampaignsWhenTargetingDiffers() {
    // given campaigns in Lisbon that differ by device, placement, dates and status
    upsert(campaign("c-lis-mobile", "adv-1", Pricing.CPC, 1 * UNIT, 100 * UNIT, "ad-lm")
        .addDestinations("lisbon").addDevices(Device.MOBILE));
    upsert(campaign("c-lis-desktop", "adv-1", Pricing.CPC, 3 * UNIT, 100 * UNIT, "ad-ld")
        .addDestinations("lisbon").addDevices(Device.DESKTOP));
    upsert(campaign("c-lis-map", "adv-1", Pricing.CPC, 3 * UNIT, 100 * UNIT, "ad-lmap")
        .addDestinations("lisbon").addPlacements(Placement.MAP_VIEW));
    upsert(campaign("c-lis-summer", "adv-1", Pricing.CPC, 3 * UNIT, 100 * UNIT, "ad-ls")
        .addDestinations("lisbon").setCheckinFrom("2027-06-01").setCheckinTo("2027-08-31"));
    upsert(campaign("c-lis-paused", "adv-1", Pricing.CPC, 3 * UNIT, 100 * UNIT, "ad-lp")
        .addDestinations("lisbon"));
    await(api.admin().pauseCampaign(PauseCampaignRequest.newBuilder().setCampaignId("c-lis-paused").build()));
    upsert(campaign("c-rome", "adv-1", Pricing.CPC, 5 * UNIT, 100 * UNIT, "ad-rome").addDestinations("rome"));
    // and an agency bidding on Lisbon and Porto with a hotel in Porto only, so none to show in Lisbon
    Campaign.Builder portoOnly = campaign("c-agency-porto", "adv-1", Pricing.CPC, 9 * UNIT, 100 * UNIT, "ad-ap")
        .addDestinations("lisbon").addDestinations("porto");
    portoOnly.setAds(0, portoOnly.getAds(0).toBuilder().setDestination("Porto"));
    upsert(portoOnly);

    // when a mobile search-results request for Lisbon in March arrives (debug on)
    BidResponse r = awaitValue(Duration.ofSeconds(5), () -> {
      BidResponse x = bidOnce("rq-lis-" + System.nanoTime(), "Lisbon", Device.MOBILE, 5, true);
      assertEquals(NoBidReason.NO_ADS, reason(x, "c-agency-porto"));
      assertEquals(Set.of("c-lis-mobile"), winners(x));
      assertEquals(NoBidReason.CAMPAIGN_PAUSED, reason(x, "c-lis-paused"));
      return x;
    });

    // then only the matching campaign wins, and every excluded one says why
    assertEquals(NoBidReason.TARGETING_DEVICE, reason(r, "c-lis-desktop"));
    assertEquals(NoBidReason.TARGETING_PLACEMENT, reason(r, "c-lis-map"));
    assertEquals(NoBidReason.TARGETING_DATES, reason(r, "c-lis-summer"));
    assertNull(reason(r, "c-rome"), "a campaign for another destination is not even a candidate");
    // and without debug there are no no-bids in the response
    BidResponse quiet = bidOnce("rq-lis-quiet", "lisbon", Device.MOBILE, 5, false);
    assertEquals(0, quiet.getNoBidsCount());
  }

  @Test
  void shouldChargeSecondPriceWhenTwoCampaignsCompete() {
    // given two CPC campaigns in Vienna with equal prior pCTR, bids 3 and 2 units
    upsert(campaign("c-vie-high", "adv-1", Pricing.CPC, 3 * UNIT, 100 * UNIT, "ad-vh").addDestinations("vienna"));
    upsert(campaign("c-vie-low", "adv-1", Pricing.CPC, 2 * UNIT, 100 * UNIT, "ad-vl").addDestinations("vienna"));
    // when one slot is auctioned with a floor of 0.5 units
    BidResponse r = awaitValue(Duration.ofSeconds(5), () -> {
      BidResponse x = await(api.auction().bid(bid("rq-vie-" + System.nanoTime(), "vienna", Device.DESKTOP, 1)
          .setFloorMicros(UNIT / 2).setDebug(true).build()));
      assertEquals(1, x.getWinnersCount());
      assertEquals(NoBidReason.OUTBID, reason(x, "c-vie-low"));
      return x;
    });
    // then the higher bid wins and pays what the lower bid needed: 2 units (equal pCTR)
    Winner w = r.getWinners(0);
    assertEquals("c-vie-high", w.getCampaignId());
    assertEquals(2 * UNIT, w.getPriceMicros());
    assertTrue(w.getPctr() > 0 && w.getPctr() < 1);
    assertEquals(w.getPctr() * 3 * UNIT, w.getScore(), 1e-6);
  }

  @Test
  void shouldAcceptEventsOnceAndChargeClicksWhenReported() {
    // given a CPC win in Porto at 1.5 units (second price against a 1.5 unit bid)
    upsert(campaign("c-por-a", "adv-1", Pricing.CPC, 4 * UNIT, 1000 * UNIT, "ad-pa").addDestinations("porto"));
    upsert(campaign("c-por-b", "adv-1", Pricing.CPC, 3 * UNIT / 2, 1000 * UNIT, "ad-pb").addDestinations("porto"));
    String requestId = "rq-porto-1";
    awaitAssert(Duration.ofSeconds(5), () -> {
      BidResponse probe = bidOnce(requestId + "-probe-" + System.nanoTime(), "porto", Device.TABLET, 1, true);
      assertEquals(Set.of("c-por-a"), winners(probe));
      assertEquals(NoBidReason.OUTBID, reason(probe, "c-por-b"));
    });
    BidResponse r = bidOnce(requestId, "porto", Device.TABLET, 1, false);
    Winner w = r.getWinners(0);
    assertEquals("c-por-a", w.getCampaignId());
    long price = w.getPriceMicros();
    assertEquals(3 * UNIT / 2, price);

    // when the impression and click are reported, together with bad events
    long now = System.currentTimeMillis();
    EventBatch batch = EventBatch.newBuilder()
        .addEvents(event("ev-imp-1", requestId, "ad-pa", "c-por-a", EventType.IMPRESSION, now))
        .addEvents(event("ev-clk-1", requestId, "ad-pa", "c-por-a", EventType.CLICK, now))
        .addEvents(event("ev-bad-ad", requestId, "ad-nope", "c-por-a", EventType.CLICK, now))
        .addEvents(event("ev-not-shown", "rq-never", "ad-pa", "c-por-a", EventType.CLICK, now))
        .addEvents(event("ev-wrong-campaign", requestId, "ad-pa", "c-por-b", EventType.CLICK, now))
        .addEvents(event("", requestId, "ad-pa", "c-por-a", EventType.CLICK, now))
        .build();
    EventAck ack = await(api.events().report(batch));

    // then the good ones are accepted and each bad one is rejected with its reason
    assertEquals(2, ack.getAccepted());
    assertEquals(0, ack.getDuplicate());
    assertEquals(4, ack.getRejected());
    assertEquals(List.of("unknown ad", "ad not shown for request", "ad does not belong to campaign",
            "invalid event_id: is required"),
        ack.getRejectionsList().stream().map(x -> x.getReason()).collect(Collectors.toList()));
    assertEquals(2, ack.getRejections(0).getIndex());

    // when the same events are retried
    EventAck retry = await(api.events().report(EventBatch.newBuilder()
        .addEvents(batch.getEvents(0)).addEvents(batch.getEvents(1)).addEvents(batch.getEvents(1)).build()));
    // then they are duplicates, charged once
    assertEquals(0, retry.getAccepted());
    assertEquals(3, retry.getDuplicate());

    // and the campaign's spend is the click price exactly, once the node has reported it
    awaitAssert(Duration.ofSeconds(10), () -> {
      CampaignView v = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-por-a").build()));
      assertEquals(price, v.getSpentMicros(), "spent");
      assertEquals(1, v.getClicks());
      assertEquals(1, v.getImpressions());
      assertEquals(v.getCampaign().getDailyBudgetMicros() - v.getSpentMicros() - v.getReservedMicros(),
          v.getRemainingMicros());
      assertEquals(1, v.getAllowancesCount());
      assertTrue(v.getAllowances(0).getAllowanceMicros() >= v.getSpentMicros() + v.getReservedMicros());
    });
  }

  @Test
  void shouldStopServingWithinOneSecondWhenPaused() {
    // given a serving campaign
    upsert(campaign("c-bud-1", "adv-1", Pricing.CPM, 5 * UNIT, 100 * UNIT, "ad-bud").addDestinations("budapest"));
    awaitAssert(Duration.ofSeconds(5), () ->
        assertEquals(1, bidOnce("rq-bud-" + System.nanoTime(), "budapest", Device.MOBILE, 2, false).getWinnersCount()));
    // when it is paused
    CampaignView paused = await(api.admin().pauseCampaign(
        PauseCampaignRequest.newBuilder().setCampaignId("c-bud-1").build()));
    assertEquals(CampaignStatus.PAUSED, paused.getStatus());
    long at = System.nanoTime();
    // then it stops winning within a second
    awaitAssert(Duration.ofSeconds(5), () ->
        assertEquals(0, bidOnce("rq-bud-" + System.nanoTime(), "budapest", Device.MOBILE, 2, false).getWinnersCount()));
    long ms = (System.nanoTime() - at) / 1_000_000;
    assertTrue(ms <= 1000, "stopped after " + ms + " ms");
  }

  @Test
  void shouldSayBudgetExhaustedWhenTheDailyBudgetIsSpent() {
    // given an ASAP (unpaced) CPM campaign whose budget pays for exactly two wins at its bid
    // (10 units per thousand)
    upsert(campaign("c-tiny", "adv-1", Pricing.CPM, 10 * UNIT, 20_000, "ad-tiny").addDestinations("tallinn")
        .setPacing(Pacing.ASAP));
    // when it wins until its budget is spent
    long[] wins = {0};
    awaitAssert(Duration.ofSeconds(10), () -> {
      wins[0] += await(api.auction().bid(bid("rq-tiny-" + System.nanoTime(), "tallinn", Device.MOBILE, 1)
          .setFloorMicros(10 * UNIT).build())).getWinnersCount();
      assertEquals(2, wins[0]);
    });
    // then it never wins again, and once its snapshot arrives the reason says why
    awaitAssert(Duration.ofSeconds(5), () -> {
      BidResponse r = bidOnce("rq-tiny-" + System.nanoTime(), "tallinn", Device.MOBILE, 1, true);
      assertEquals(0, r.getWinnersCount());
      assertEquals(NoBidReason.BUDGET_EXHAUSTED, reason(r, "c-tiny"));
    });
    assertEquals(2, wins[0]);
    CampaignView v = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-tiny").build()));
    assertEquals(20_000, v.getSpentMicros());
    assertEquals(0, v.getRemainingMicros());
  }

  @Test
  void shouldHoldAFreshSnapshotOfEveryCampaignWhenServing() {
    // given a campaign that is serving
    upsert(campaign("c-snap", "adv-1", Pricing.CPC, UNIT, 100 * UNIT, "ad-snap").addDestinations("riga"));
    awaitAssert(Duration.ofSeconds(5), () ->
        assertEquals(1, bidOnce("rq-snap-" + System.nanoTime(), "riga", Device.MOBILE, 1, false).getWinnersCount()));
    // then the node holds a snapshot of every campaign in its replica, none older than the objective
    awaitAssert(Duration.ofSeconds(5), () -> {
      ClusterStatusResponse s = await(api.admin().clusterStatus(ClusterStatusRequest.getDefaultInstance()));
      assertEquals(s.getReplicaCampaigns(), s.getSnapshotCampaigns());
      assertEquals(0, s.getStaleSnapshots());
      assertTrue(s.getMaxSnapshotAgeMs() <= 5_000, "max age " + s.getMaxSnapshotAgeMs());
    });
  }

  @Test
  void shouldReportOneUpMemberWhenAskedForClusterStatus() {
    ClusterStatusResponse s = await(api.admin().clusterStatus(ClusterStatusRequest.getDefaultInstance()));
    assertEquals(1, s.getMembersCount());
    assertEquals("Up", s.getMembers(0).getStatus());
    assertTrue(s.getReady());
    assertEquals(s.getSelfAddress(), s.getLeader());
  }

  static Event event(String id, String requestId, String adId, String campaignId, EventType type, long timeMs) {
    return Event.newBuilder().setEventId(id).setRequestId(requestId).setAdId(adId).setCampaignId(campaignId)
        .setType(type).setTimeMs(timeMs).build();
  }

  static Set<String> winners(BidResponse r) {
    return r.getWinnersList().stream().map(Winner::getCampaignId).collect(Collectors.toSet());
  }

  static NoBidReason reason(BidResponse r, String campaignId) {
    return r.getNoBidsList().stream().filter(n -> n.getCampaignId().equals(campaignId)).map(NoBid::getReason)
        .findFirst().orElse(null);
  }
}
