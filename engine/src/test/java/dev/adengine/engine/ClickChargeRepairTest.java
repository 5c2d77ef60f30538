package dev.adengine.engine;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
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
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * A CPC click whose event is stored but whose charge row cannot be written (the charge log fails
 * past the driver's retries) is answered "temporarily unable", as its outcome is unknown to the
 * publisher, who may never retry. The stored event is the commit point: once the charge log can be
 * written again, the node writes the click's charge row itself and books its spend, within the
 * click window; a retry of the click later is a duplicate and charges nothing more.
 */
class ClickChargeRepairTest {
  private static final long UNIT = 1_000_000L;

  @Test
  void shouldWriteTheChargeAndBookTheSpendOfAStoredClickWhoseChargeWriteFailed() throws Exception {
    String keyspace = CassandraTestNode.uniqueKeyspaceName("chargerepair");
    EngineNode node = startNode(keyspace, Map.of(
        "adengine.budget.click-window", "40s", "adengine.budget.click-grace", "5s"));
    ActorSystem<Void> client = clientSystem("chargerepair-client");
    try (CqlSession cql = CassandraTestNode.connect()) {
      Clients api = Clients.of(client, node.grpcPort());
      await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
          .setAdvertiser(advertiser("adv-r", 100 * UNIT)).build()));
      await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
          .setCampaign(campaign("c-r", "adv-r", Pricing.CPC, 2 * UNIT, 100 * UNIT, "ad-r").addDestinations("alta"))
          .build()));
      // (the probe's win stays reserved for its window: the campaign's reservations are counted from it)
      java.util.concurrent.atomic.AtomicLong probePrice = new java.util.concurrent.atomic.AtomicLong();
      awaitAssert(Duration.ofSeconds(10), () -> {
        BidResponse probe = await(api.auction().bid(bid("rq-r-probe-" + System.nanoTime(), "alta", Device.MOBILE, 1)
            .build()));
        assertEquals(1, probe.getWinnersCount());
        probePrice.set(probe.getWinners(0).getPriceMicros());
      });
      // given a CPC win
      BidResponse win = await(api.auction().bid(bid("rq-r", "alta", Device.MOBILE, 1).build()));
      assertEquals(1, win.getWinnersCount());
      long price = win.getWinners(0).getPriceMicros();
      // and a charge log that cannot be written (dropped: every write fails, as when its replicas are down)
      cql.execute(SimpleStatement.newInstance("DROP TABLE " + keyspace + ".charges").setTimeout(Duration.ofSeconds(60)));

      // when its click is reported
      Event click = Event.newBuilder().setEventId("ev-r-click").setRequestId("rq-r").setAdId("ad-r")
          .setCampaignId("c-r").setType(EventType.CLICK).setTimeMs(System.currentTimeMillis()).build();
      EventAck ack = await(api.events().report(EventBatch.newBuilder().addEvents(click).build()));

      // then it is answered as not done (the publisher may retry) ...
      assertEquals(0, ack.getAccepted(), ack.toString());
      assertTrue(ack.getRejections(0).getReason().startsWith("temporarily"), ack.toString());
      // ... though the event is stored, charged at the win's price
      Row stored = cql.execute(SimpleStatement.newInstance("SELECT type, charged_micros FROM " + keyspace
          + ".events WHERE event_id = 'ev-r-click'")).one();
      assertNotNull(stored, "the click's event is stored before its charge");
      assertEquals(price, stored.getLong("charged_micros"));

      // when the charge log can be written again, and the publisher does not retry
      cql.execute(SimpleStatement.newInstance(migrationTable("V0004__charges.cql", keyspace)).setTimeout(Duration.ofSeconds(60)));

      // then the node writes the click's charge row and books it as spend, once, within the window
      awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(500), () -> {
        List<Row> rows = cql.execute(SimpleStatement.newInstance("SELECT charge_id, amount_micros FROM " + keyspace
            + ".charges WHERE campaign_id = 'c-r' ALLOW FILTERING")).all();
        assertEquals(1, rows.size(), "charge rows " + rows);
        assertEquals("click:ev-r-click", rows.get(0).getString("charge_id"));
        assertEquals(price, rows.get(0).getLong("amount_micros"));
        CampaignView v = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-r").build()));
        assertEquals(price, v.getSpentMicros(), "spend");
        assertEquals(probePrice.get(), v.getReservedMicros(), "reserved besides the probe's win");
      });
      // and a late retry of the click is a duplicate that charges nothing more
      EventAck retry = await(api.events().report(EventBatch.newBuilder().addEvents(click).build()));
      assertEquals(1, retry.getDuplicate(), retry.toString());
      Thread.sleep(2_500); // two report intervals: a second booking would show in the view
      CampaignView after = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-r").build()));
      assertEquals(price, after.getSpentMicros());
      assertEquals(1, cql.execute(SimpleStatement.newInstance("SELECT charge_id FROM " + keyspace
          + ".charges WHERE campaign_id = 'c-r' ALLOW FILTERING")).all().size());
      api.close();
    } finally {
      EngineTestSupport.stop(node);
      client.terminate();
      EngineTestSupport.dropKeyspace(keyspace);
    }
  }
}
