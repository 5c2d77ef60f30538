package dev.adengine.engine;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adengine.api.v1.AdvertiserView;
import dev.adengine.api.v1.CampaignStatus;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.GetAdvertiserRequest;
import dev.adengine.api.v1.GetCampaignRequest;
import dev.adengine.api.v1.PauseAdvertiserRequest;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.ResumeAdvertiserRequest;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The advertiser's daily cap holds across its campaigns, and pausing the advertiser stops them all. */
class AdvertiserCapTest {
  private static final long UNIT = 1_000_000L;
  private static EngineNode node;
  private static ActorSystem<Void> client;
  private static Clients api;

  @BeforeAll
  static void start() {
    node = startNode(CassandraTestNode.uniqueKeyspaceName("advcap"));
    client = clientSystem("advcap-client");
    api = Clients.of(client, node.grpcPort());
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
    if (client != null) {
      client.terminate();
    }
    EngineTestSupport.stop(node);
  }

  @Test
  void shouldSpendExactlyTheCapAndNoMoreWhenCampaignBudgetsExceedIt() {
    // given an advertiser capped at 1 unit a day, with three ASAP (unpaced) CPM campaigns of 10 units each, and
    // requests whose floor equals their bid: every win costs 5 units per thousand (5,000 micros)
    await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
        .setAdvertiser(advertiser("adv-cap", UNIT)).build()));
    List<String> ids = List.of("c-cap-1", "c-cap-2", "c-cap-3");
    for (String id : ids) {
      await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
          .setCampaign(campaign(id, "adv-cap", Pricing.CPM, 5 * UNIT, 10 * UNIT, "ad-" + id).addDestinations("tromso")
              .setPacing(Pacing.ASAP))
          .build()));
    }
    // when bidding until the cap is used up (200 wins pay for it), and then 300 requests more
    long wins = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    int i = 0;
    while (wins < 200 && System.nanoTime() < deadline) {
      wins += bidTromso(i++);
      assertTrue(wins <= 200, "wins " + wins);
    }
    assertEquals(200, wins, "the cap was not reached within 60 s");
    for (int extra = 0; extra < 300; extra++) {
      wins += bidTromso(i++);
    }
    // then the node never let a win through beyond what the cap pays for
    assertEquals(200, wins);
    // and once reported, the advertiser's campaigns spent the cap exactly: all of it, not a micro more
    awaitAssert(Duration.ofSeconds(15), () -> {
      long spent = 0;
      for (String id : ids) {
        CampaignView v = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId(id).build()));
        spent += v.getSpentMicros() + v.getReservedMicros();
      }
      assertEquals(UNIT, spent);
    });
    AdvertiserView adv = await(api.admin().getAdvertiser(GetAdvertiserRequest.newBuilder()
        .setAdvertiserId("adv-cap").build()));
    assertEquals(UNIT, adv.getGrantedMicros());
    assertTrue(adv.getGrantedMicros() <= adv.getAdvertiser().getDailyBudgetMicros());
  }

  private static int bidTromso(int i) {
    return await(api.auction().bid(bid("rq-cap-" + i, "tromso", Device.DESKTOP, 3).setFloorMicros(5 * UNIT).build()))
        .getWinnersCount();
  }

  @Test
  void shouldStopAllItsCampaignsWithinOneSecondWhenTheAdvertiserIsPaused() {
    // given two serving campaigns of one advertiser
    await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
        .setAdvertiser(advertiser("adv-pause", 100 * UNIT)).build()));
    for (String id : List.of("c-ap-1", "c-ap-2")) {
      await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
          .setCampaign(campaign(id, "adv-pause", Pricing.CPC, UNIT, 10 * UNIT, "ad-" + id).addDestinations("narvik"))
          .build()));
    }
    awaitAssert(Duration.ofSeconds(5), () -> assertEquals(2,
        await(api.auction().bid(bid("rq-ap-" + System.nanoTime(), "narvik", Device.MOBILE, 3).build()))
            .getWinnersCount()));
    // when the advertiser is paused
    AdvertiserView paused = await(api.admin().pauseAdvertiser(PauseAdvertiserRequest.newBuilder()
        .setAdvertiserId("adv-pause").build()));
    assertEquals(CampaignStatus.PAUSED, paused.getStatus());
    long at = System.nanoTime();
    // then neither serves within a second
    awaitAssert(Duration.ofSeconds(5), () -> assertEquals(0,
        await(api.auction().bid(bid("rq-ap-" + System.nanoTime(), "narvik", Device.MOBILE, 3).build()))
            .getWinnersCount()));
    long ms = (System.nanoTime() - at) / 1_000_000;
    assertTrue(ms <= 1000, "stopped after " + ms + " ms");
    // and both serve again once it is resumed
    await(api.admin().resumeAdvertiser(ResumeAdvertiserRequest.newBuilder().setAdvertiserId("adv-pause").build()));
    awaitAssert(Duration.ofSeconds(5), () -> assertEquals(2,
        await(api.auction().bid(bid("rq-ap-" + System.nanoTime(), "narvik", Device.MOBILE, 3).build()))
            .getWinnersCount()));
  }
}
