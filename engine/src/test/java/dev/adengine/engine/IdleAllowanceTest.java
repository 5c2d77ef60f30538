package dev.adengine.engine;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.GetCampaignRequest;
import dev.adengine.api.v1.Pacing;
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
 * Budget flows to where it is spent: allowance that sits idle on a node, and the advertiser's cap
 * that an idle campaign holds, go back, so a sibling campaign that does win can spend the cap.
 */
class IdleAllowanceTest {
  private static final long UNIT = 1_000_000L;
  private static final long WIN = 5_000; // 5 units per thousand

  @Test
  void shouldLetASiblingCampaignSpendTheCapWhenAnotherCampaignGoesIdle() {
    EngineNode node = startNode(CassandraTestNode.uniqueKeyspaceName("idle"),
        Map.of("adengine.budget.idle-after", "2s"));
    ActorSystem<Void> client = clientSystem("idle-client");
    try {
      Clients api = Clients.of(client, node.grpcPort());
      // given an advertiser capped at 1 unit, and two ASAP CPM campaigns of 10 units each in
      // different destinations, every win costing 5,000 micros
      await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
          .setAdvertiser(advertiser("adv-idle", UNIT)).build()));
      for (String dest : new String[] {"alta", "kiruna"}) {
        await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
            .setCampaign(campaign("c-" + dest, "adv-idle", Pricing.CPM, 5 * UNIT, 10 * UNIT, "ad-" + dest)
                .addDestinations(dest).setPacing(Pacing.ASAP))
            .build()));
      }
      // and campaign A wins a little, taking part of the cap, then gets no more traffic
      long[] aWins = {0};
      awaitAssert(Duration.ofSeconds(10), () -> {
        aWins[0] += bid(api, "alta");
        assertTrue(aWins[0] >= 3);
      });

      // when only campaign B gets traffic, for long enough that A is idle
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      long total;
      do {
        for (int i = 0; i < 20; i++) {
          bid(api, "kiruna");
        }
        total = spent(api, "c-alta") + spent(api, "c-kiruna");
      } while (total < UNIT - WIN && System.nanoTime() < deadline);

      // then B spends everything A does not use: all of the cap but the one win A's node keeps
      long a = spent(api, "c-alta");
      long b = spent(api, "c-kiruna");
      assertTrue(a + b >= UNIT - WIN, "A " + a + " + B " + b + " should reach the cap less one win");
      assertTrue(a + b <= UNIT, "never above the cap: A " + a + " + B " + b);
      assertEquals(a, aWins[0] * WIN, "A spent exactly its wins");
      api.close();
    } finally {
      EngineTestSupport.stop(node);
      client.terminate();
    }
  }

  private static int bid(Clients api, String destination) {
    return await(api.auction().bid(EngineTestSupport.bid("rq-" + destination + "-" + System.nanoTime(), destination,
        Device.DESKTOP, 1).setFloorMicros(5 * UNIT).build())).getWinnersCount();
  }

  /** Spend as the node has reported it (or will within its report interval). */
  private static long spent(Clients api, String campaignId) {
    CampaignView v = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId(campaignId).build()));
    return v.getSpentMicros();
  }
}
