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
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * A node that serves events before it has joined the cluster (a restarted node binds its gRPC port
 * before its join is accepted, and answers events as soon as its catalog is loaded) has no view of
 * the members yet. It must not take the node that served a click's ad for dead: that would book the
 * click's charge against a live node whose ledger never converts the reservation, so the live
 * node's books stay below its charges for good (the KillRestartChaosTest failure).
 */
class UnjoinedNodeClickTest {
  private static final long UNIT = 1_000_000L;

  @Test
  void shouldNotChargeAClickAgainstALiveServingNodeWhenTheReceivingNodeHasNotJoinedTheClusterYet() throws Exception {
    String keyspace = CassandraTestNode.uniqueKeyspaceName("unjoined");
    EngineNode serving = startNode(keyspace);
    EngineNode unjoined = null;
    ActorSystem<Void> client = clientSystem("unjoined-client");
    try (CqlSession cql = CassandraTestNode.connect()) {
      Clients a = Clients.of(client, serving.grpcPort());
      await(a.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
          .setAdvertiser(advertiser("adv-u", 100 * UNIT)).build()));
      await(a.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
          .setCampaign(campaign("c-u", "adv-u", Pricing.CPC, 2 * UNIT, 100 * UNIT, "ad-u").addDestinations("tromso"))
          .build()));
      // given a CPC win on a live cluster member, whose allowance holds its reservation
      awaitAssert(Duration.ofSeconds(10), () -> assertEquals(1,
          await(a.auction().bid(bid("rq-u-probe-" + System.nanoTime(), "tromso", Device.MOBILE, 1).build()))
              .getWinnersCount()));
      BidResponse win = await(a.auction().bid(bid("rq-u", "tromso", Device.MOBILE, 1).build()));
      assertEquals(1, win.getWinnersCount());
      long price = win.getWinners(0).getPriceMicros();
      Event click = Event.newBuilder().setEventId("ev-u-click").setRequestId("rq-u").setAdId("ad-u")
          .setCampaignId("c-u").setType(EventType.CLICK).setTimeMs(System.currentTimeMillis()).build();

      // and a second node on the same keyspace that has not joined the cluster (its seed never
      // answers), as a restarted node is until its join is accepted
      unjoined = startNode(keyspace, Map.of("adengine.seed-nodes", "pekko://adengine@127.0.0.1:9"));
      Clients b = Clients.of(client, unjoined.grpcPort());

      // when the click reaches the unjoined node (once its catalog is loaded and the ad's served
      // record is readable, so that it gets as far as the serving node's liveness)
      EventAck atB = awaitValue(Duration.ofSeconds(20), () -> {
        EventAck ack = await(b.events().report(EventBatch.newBuilder().addEvents(click).build()));
        String reason = ack.getRejectionsCount() > 0 ? ack.getRejections(0).getReason() : "";
        assertFalse(reason.equals("unknown ad") || reason.equals("ad not shown for request"), "not yet: " + reason);
        return ack;
      });

      // then it is not accepted there: the node cannot tell whether the serving node lives, so it
      // asks the publisher to retry (elsewhere), and nothing is charged
      assertEquals(0, atB.getAccepted(), "accepted by a node with no view of the cluster: " + atB);
      assertEquals(1, atB.getRejected());
      assertTrue(atB.getRejections(0).getReason().startsWith("temporarily"), atB.toString());
      assertEquals(0, charged(cql, keyspace));

      // and when the publisher retries at the serving node, it is accepted and booked there once
      EventAck atA = await(a.events().report(EventBatch.newBuilder().addEvents(click).build()));
      assertEquals(1, atA.getAccepted(), atA.toString());
      assertEquals(price, charged(cql, keyspace));
      awaitAssert(Duration.ofSeconds(15), () -> {
        CampaignView v = await(a.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-u").build()));
        assertEquals(price, v.getSpentMicros(), "the serving node's books equal the stored charge");
      });
      a.close();
      b.close();
    } finally {
      EngineTestSupport.stop(unjoined);
      EngineTestSupport.stop(serving);
      client.terminate();
    }
  }

  private static long charged(CqlSession cql, String keyspace) {
    long sum = 0;
    for (Row r : cql.execute(SimpleStatement.newInstance("SELECT amount_micros FROM " + keyspace
        + ".charges WHERE campaign_id = 'c-u' ALLOW FILTERING"))) {
      sum += r.getLong("amount_micros");
    }
    return sum;
  }
}
