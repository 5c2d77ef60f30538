package dev.adengine.engine.catalog;

import static dev.adengine.engine.testing.EngineTestSupport.advertiser;
import static dev.adengine.engine.testing.EngineTestSupport.await;
import static dev.adengine.engine.testing.EngineTestSupport.awaitAssert;
import static dev.adengine.engine.testing.EngineTestSupport.campaign;
import static dev.adengine.engine.testing.EngineTestSupport.clientSystem;
import static dev.adengine.engine.testing.EngineTestSupport.startNode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.engine.EngineNode;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * The catalog replica on a node resyncing from Cassandra every 300 ms: a resync that finds nothing
 * newer publishes no snapshot, and a rebuild keeps the entries of the campaigns that did not change.
 */
class CatalogReplicaRebuildTest {
  private static final long UNIT = 1_000_000L;

  @Test
  void shouldKeepItsSnapshotThroughResyncsAndRebuildOnlyWhatChanged() {
    EngineNode node = startNode(CassandraTestNode.uniqueKeyspaceName("catalog_rebuild"),
        Map.of("adengine.catalog.resync-interval", "300ms"));
    ActorSystem<Void> client = clientSystem("catalog-rebuild-client");
    try {
      Clients api = Clients.of(client, node.grpcPort());
      // given an advertiser with two campaigns in the replica
      await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
          .setAdvertiser(advertiser("adv-rb", 100 * UNIT)).build()));
      for (String id : new String[] {"c-rb-a", "c-rb-b"}) {
        await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
            .setCampaign(campaign(id, "adv-rb", Pricing.CPC, UNIT, 10 * UNIT, "ad-" + id).addDestinations("alta"))
            .build()));
      }
      Catalog catalog = node.catalog();
      awaitAssert(Duration.ofSeconds(20), () -> {
        assertNotNull(catalog.current().campaign("c-rb-a"));
        assertNotNull(catalog.current().campaign("c-rb-b"));
      });

      // when nothing changes for four resyncs or more, then the snapshot stays the same object
      CatalogSnapshot[] before = new CatalogSnapshot[1];
      awaitAssert(Duration.ofSeconds(20), () -> {
        before[0] = catalog.current();
        sleep(1_300);
        assertSame(before[0], catalog.current(), "a resync with nothing new published a snapshot");
      });

      // when one campaign changes, then the new snapshot has its new revision and the other's old entry
      await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
          .setCampaign(campaign("c-rb-a", "adv-rb", Pricing.CPC, 2 * UNIT, 10 * UNIT, "ad-c-rb-a")
              .addDestinations("alta"))
          .build()));
      awaitAssert(Duration.ofSeconds(20), () ->
          assertEquals(2 * UNIT, catalog.current().campaign("c-rb-a").def().bidMicros()));
      CatalogSnapshot after = catalog.current();
      assertNotSame(before[0], after);
      assertNotSame(before[0].campaign("c-rb-a"), after.campaign("c-rb-a"));
      assertSame(before[0].campaign("c-rb-b"), after.campaign("c-rb-b"), "an unchanged campaign's entry was rebuilt");
      api.close();
    } finally {
      EngineTestSupport.stop(node);
      client.terminate();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
