package dev.adengine.engine;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventAck;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventType;
import dev.adengine.api.v1.GetCampaignRequest;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/** A click after its window is rejected and not charged; the unclicked reservation is released. */
class ClickWindowTest {
  private static final long UNIT = 1_000_000L;

  @Test
  void shouldRejectAClickAndReleaseItsReservationWhenTheClickWindowHasClosed() throws Exception {
    EngineNode node = startNode(CassandraTestNode.uniqueKeyspaceName("clickwin"), Map.of(
        "adengine.budget.click-window", "1s", "adengine.budget.click-grace", "500ms"));
    ActorSystem<Void> client = clientSystem("clickwin-client");
    try {
      Clients api = Clients.of(client, node.grpcPort());
      await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
          .setAdvertiser(advertiser("adv-w", 100 * UNIT)).build()));
      await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
          .setCampaign(campaign("c-w", "adv-w", Pricing.CPC, 2 * UNIT, 100 * UNIT, "ad-w").addDestinations("bodo"))
          .build()));
      // given a CPC win
      awaitAssert(Duration.ofSeconds(5), () -> assertEquals(1,
          await(api.auction().bid(bid("rq-w-probe-" + System.nanoTime(), "bodo", Device.MOBILE, 1).build()))
              .getWinnersCount()));
      BidResponse r = await(api.auction().bid(bid("rq-w", "bodo", Device.MOBILE, 1).build()));
      assertEquals(1, r.getWinnersCount());
      // when its click arrives after the 1 s window (real time has to pass: reporting the click any
      // earlier would be accepted, so this waits instead of polling)
      Thread.sleep(1_300);
      EventAck ack = await(api.events().report(EventBatch.newBuilder().addEvents(Event.newBuilder()
          .setEventId("ev-late").setRequestId("rq-w").setAdId("ad-w").setCampaignId("c-w")
          .setType(EventType.CLICK).setTimeMs(System.currentTimeMillis())).build()));
      // then it is rejected with the reason, and nothing is charged
      assertEquals(1, ack.getRejected());
      assertEquals("click window closed", ack.getRejections(0).getReason());
      // and once window + grace are over, the node releases every reservation: nothing stays reserved
      awaitAssert(Duration.ofSeconds(10), () -> {
        CampaignView v = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-w").build()));
        assertEquals(0, v.getSpentMicros());
        assertEquals(0, v.getReservedMicros());
      });
      api.close();
    } finally {
      EngineTestSupport.stop(node);
      client.terminate();
    }
  }
}
