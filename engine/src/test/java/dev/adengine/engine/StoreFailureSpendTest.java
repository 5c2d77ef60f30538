package dev.adengine.engine;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import com.datastax.oss.driver.api.core.CqlSession;
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
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * A CPC click whose event and charge cannot be stored (the store fails past the driver's retries,
 * as when Cassandra is down) is answered "temporarily unable", and its spend is not booked: the
 * money stays reserved while the click may still be retried, and while it cannot be told whether the
 * click was stored, and is released once its window has ended with neither a charge in the charge
 * log nor the click in the events table. Spend is booked when, and only when, the charge is durable.
 */
class StoreFailureSpendTest {
  private static final long UNIT = 1_000_000L;

  @Test
  void shouldNotBookAClicksSpendWhenItsEventAndChargeCouldNotBeStored() throws Exception {
    String keyspace = CassandraTestNode.uniqueKeyspaceName("storefail");
    EngineNode node = startNode(keyspace, Map.of(
        "adengine.budget.click-window", "6s", "adengine.budget.click-grace", "2s"));
    ActorSystem<Void> client = clientSystem("storefail-client");
    try (CqlSession cql = CassandraTestNode.connect()) {
      Clients api = Clients.of(client, node.grpcPort());
      await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
          .setAdvertiser(advertiser("adv-s", 100 * UNIT)).build()));
      await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
          .setCampaign(campaign("c-s", "adv-s", Pricing.CPC, 2 * UNIT, 100 * UNIT, "ad-s").addDestinations("alta"))
          .build()));
      awaitAssert(Duration.ofSeconds(10), () -> assertEquals(1,
          await(api.auction().bid(bid("rq-s-probe-" + System.nanoTime(), "alta", Device.MOBILE, 1).build()))
              .getWinnersCount()));
      Thread.sleep(8_500); // the probes' reservations expire (window 6 s + grace 2 s)
      // given that the events table cannot be written (a store failure the driver does not retry
      // away, as when Cassandra is down past its retries)
      cql.execute(SimpleStatement.newInstance("DROP TABLE " + keyspace + ".events").setTimeout(Duration.ofSeconds(60)));
      // and a CPC win
      BidResponse win = await(api.auction().bid(bid("rq-s", "alta", Device.MOBILE, 1).build()));
      assertEquals(1, win.getWinnersCount());
      long price = win.getWinners(0).getPriceMicros();

      // when its click is reported
      EventAck ack = await(api.events().report(EventBatch.newBuilder().addEvents(Event.newBuilder()
          .setEventId("ev-s-click").setRequestId("rq-s").setAdId("ad-s").setCampaignId("c-s")
          .setType(EventType.CLICK).setTimeMs(System.currentTimeMillis())).build()));

      // then the click is answered as not stored (the publisher may retry) ...
      assertEquals(0, ack.getAccepted(), ack.toString());
      assertTrue(ack.getRejections(0).getReason().startsWith("temporarily"), ack.toString());
      // ... and nothing is booked as spend: the price stays reserved while a retry may still store it
      Thread.sleep(2_500); // more than two report intervals, less than the reservation's 8 s
      CampaignView held = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-s").build()));
      assertEquals(0, held.getSpentMicros(), "spend booked for a click whose charge was never stored");
      assertEquals(price, held.getReservedMicros());
      // and it stays reserved past the click window while the events table cannot be read: whether
      // the click was stored (and so is owed) cannot be told
      Thread.sleep(6_000); // the reservation's 8 s have passed
      CampaignView unknown = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-s").build()));
      assertEquals(0, unknown.getSpentMicros());
      assertEquals(price, unknown.getReservedMicros(), "released while it could not be told whether the click was stored");
      // and once the events table can be read again and shows no such click, with no charge in the
      // charge log, it is released
      cql.execute(SimpleStatement.newInstance(migrationTable("V0002__events.cql", keyspace)).setTimeout(Duration.ofSeconds(60)));
      awaitAssert(Duration.ofSeconds(15), () -> {
        CampaignView v = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-s").build()));
        assertEquals(0, v.getSpentMicros());
        assertEquals(0, v.getReservedMicros());
      });
      assertNull(cql.execute(SimpleStatement.newInstance("SELECT charge_id FROM " + keyspace
          + ".charges WHERE campaign_id = 'c-s' ALLOW FILTERING")).one());
      api.close();
    } finally {
      EngineTestSupport.stop(node);
      client.terminate();
      EngineTestSupport.dropKeyspace(keyspace);
    }
  }
}
