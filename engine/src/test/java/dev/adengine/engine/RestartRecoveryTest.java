package dev.adengine.engine;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.CampaignStatus;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventAck;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventType;
import dev.adengine.api.v1.GetCampaignRequest;
import dev.adengine.api.v1.PauseCampaignRequest;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/** A node restarted on the same Cassandra keyspace recovers the catalog, statuses, spend and event ids. */
class RestartRecoveryTest {
  private static final long UNIT = 1_000_000L;

  @Test
  void shouldRecoverCatalogSpendAndEventIdsWhenNodeRestarts() {
    String keyspace = CassandraTestNode.uniqueKeyspaceName("restart");
    ActorSystem<Void> client = clientSystem("restart-client");
    EngineNode first = startNode(keyspace);
    long spentBefore;
    Event click;
    try {
      Clients api = Clients.of(client, first.grpcPort());
      // given a campaign that won and was clicked, and a second one that was paused
      await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
          .setAdvertiser(advertiser("adv-r", 1000 * UNIT)).build()));
      await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
          .setCampaign(campaign("c-r1", "adv-r", Pricing.CPC, 2 * UNIT, 1000 * UNIT, "ad-r1").addDestinations("bergen"))
          .build()));
      await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
          .setCampaign(campaign("c-r2", "adv-r", Pricing.CPC, UNIT, 1000 * UNIT, "ad-r2").addDestinations("bergen"))
          .build()));
      awaitAssert(Duration.ofSeconds(5), () -> assertEquals(2,
          await(api.auction().bid(bid("rq-probe-" + System.nanoTime(), "bergen", Device.MOBILE, 2).build()))
              .getWinnersCount()));
      BidResponse r = await(api.auction().bid(bid("rq-r", "bergen", Device.MOBILE, 1).build()));
      assertEquals("c-r1", r.getWinners(0).getCampaignId());
      click = Event.newBuilder().setEventId("ev-r-click").setRequestId("rq-r").setAdId("ad-r1").setCampaignId("c-r1")
          .setType(EventType.CLICK).setTimeMs(System.currentTimeMillis()).build();
      assertEquals(1, await(api.events().report(EventBatch.newBuilder().addEvents(click).build())).getAccepted());
      spentBefore = r.getWinners(0).getPriceMicros();
      awaitAssert(Duration.ofSeconds(10), () -> assertEquals(spentBefore,
          await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-r1").build())).getSpentMicros()));
      await(api.admin().pauseCampaign(PauseCampaignRequest.newBuilder().setCampaignId("c-r2").build()));
      api.close();
    } finally {
      EngineTestSupport.stop(first);
    }

    // when a new node starts on the same keyspace
    EngineNode second = startNode(keyspace);
    try {
      Clients api = Clients.of(client, second.grpcPort());
      // then it serves the active campaign from its reloaded replica, and not the paused one
      awaitAssert(Duration.ofSeconds(10), () -> {
        BidResponse r = await(api.auction().bid(bid("rq-after-" + System.nanoTime(), "bergen", Device.MOBILE, 2).build()));
        assertEquals(1, r.getWinnersCount());
        assertEquals("c-r1", r.getWinners(0).getCampaignId());
      });
      // and the entities recovered definition, status and spend from the journal
      CampaignView v1 = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-r1").build()));
      assertEquals(spentBefore, v1.getSpentMicros());
      assertEquals(2 * UNIT, v1.getCampaign().getBidMicros());
      CampaignView v2 = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-r2").build()));
      assertEquals(CampaignStatus.PAUSED, v2.getStatus());
      // and the accepted event id is remembered: a retry is a duplicate, not a second charge
      EventAck retry = await(api.events().report(EventBatch.newBuilder().addEvents(click).build()));
      assertEquals(1, retry.getDuplicate());
      assertEquals(0, retry.getAccepted());
      api.close();
    } finally {
      EngineTestSupport.stop(second);
      client.terminate();
    }
  }
}
