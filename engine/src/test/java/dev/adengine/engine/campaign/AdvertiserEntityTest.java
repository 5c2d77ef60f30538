package dev.adengine.engine.campaign;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.adengine.api.v1.Advertiser;
import dev.adengine.engine.catalog.CatalogUpdate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdvertiserEntityTest {
  private static ActorTestKit testKit;
  private static final AtomicInteger IDS = new AtomicInteger();

  private final List<CatalogUpdate> published = new CopyOnWriteArrayList<>();
  private String advertiserId;
  private EventSourcedBehaviorTestKit<AdvertiserEntity.Command, AdvertiserEntity.Event, AdvertiserEntity.State> entity;

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create("AdvertiserEntityTest", EventSourcedBehaviorTestKit.config()
        .withFallback(ConfigFactory.parseResources("serialization.conf"))
        .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING")));
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newEntity() {
    advertiserId = "adv-" + IDS.incrementAndGet();
    CampaignEntity.CatalogPublisher publisher = CampaignEntity.CatalogPublisher.of(update -> {
      published.add(update);
      return CompletableFuture.completedFuture(null);
    });
    entity = EventSourcedBehaviorTestKit.create(testKit.system(), AdvertiserEntity.create(advertiserId, publisher),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  @Test
  void shouldPersistAndPublishRevisionOneWhenANewAdvertiserIsUpserted() {
    // given
    byte[] bytes = advertiser(5_000_000).toByteArray();

    // when
    var result = entity.<StatusReply<AdvertiserEntity.Summary>>runCommand(
        replyTo -> new AdvertiserEntity.Upsert(bytes, 5_000_000, "Europe/Paris", replyTo));

    // then
    AdvertiserEntity.Summary summary = result.reply().getValue();
    assertEquals(advertiserId, summary.advertiserId());
    assertEquals(1, summary.revision());
    assertEquals(5_000_000, summary.dailyBudgetMicros());
    assertEquals("Europe/Paris", summary.zoneId());
    var event = result.eventOfType(AdvertiserEntity.AdvertiserUpserted.class);
    assertEquals(advertiserId, event.advertiserId());
    assertArrayEquals(bytes, event.advertiser());
    assertEquals(1, published.size());
    assertEquals(CatalogUpdate.Kind.ADVERTISER, published.get(0).kind());
    assertEquals(advertiserId, published.get(0).id());
    assertEquals(1, published.get(0).revision());
    assertArrayEquals(bytes, published.get(0).payload());
  }

  @Test
  void shouldKeepTheLatestDefinitionAndRepublishWhenRestarted() {
    // given
    upsert(5_000_000);
    upsert(7_000_000);
    published.clear();

    // when
    AdvertiserEntity.State restarted = entity.restart().state();
    var get = entity.<StatusReply<AdvertiserEntity.Summary>>runCommand(AdvertiserEntity.Get::new);

    // then
    assertEquals(2, restarted.revision());
    assertEquals(7_000_000, restarted.dailyBudgetMicros());
    assertEquals(2, get.reply().getValue().revision());
    assertTrue(get.hasNoEvents());
    assertEquals(1, published.size(), "recovery re-writes the catalog row");
    assertEquals(2, published.get(0).revision());
  }

  @Test
  void shouldReplyNotFoundWhenTheAdvertiserDoesNotExist() {
    // given: nothing upserted

    // when
    var get = entity.<StatusReply<AdvertiserEntity.Summary>>runCommand(AdvertiserEntity.Get::new);

    // then
    assertTrue(get.reply().isError());
    assertTrue(get.reply().getError().getMessage().startsWith("NOT_FOUND"));
    assertTrue(get.hasNoEvents());
    assertTrue(published.isEmpty());
  }

  private void upsert(long budget) {
    var result = entity.<StatusReply<AdvertiserEntity.Summary>>runCommand(
        replyTo -> new AdvertiserEntity.Upsert(advertiser(budget).toByteArray(), budget, "UTC", replyTo));
    assertTrue(result.reply().isSuccess());
  }

  private Advertiser advertiser(long budget) {
    return Advertiser.newBuilder().setAdvertiserId(advertiserId).setName("Hotels Inc").setDailyBudgetMicros(budget)
        .build();
  }
}
