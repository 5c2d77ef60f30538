package dev.adengine.engine.campaign;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.AdvertiserView;
import dev.adengine.api.v1.CampaignStatus;
import java.time.Duration;
import java.time.Instant;
import dev.adengine.engine.catalog.CatalogUpdate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
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
  private MutableClock clock;
  private EventSourcedBehaviorTestKit<AdvertiserEntity.Command, AdvertiserEntity.Event, AdvertiserEntity.State> entity;

  @BeforeAll
  static void startTestKit() {
    testKit = EntityTestKits.start("AdvertiserEntityTest");
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
      return CompletableFuture.completedFuture(Done.getInstance());
    });
    clock = new MutableClock(Instant.parse("2024-03-01T10:00:00Z"));
    entity = EventSourcedBehaviorTestKit.create(testKit.system(), AdvertiserEntity.create(advertiserId, publisher, clock, 1.0),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  @Test
  void shouldPersistAndPublishRevisionOneWhenANewAdvertiserIsUpserted() throws Exception {
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
    AdvertiserView view = AdvertiserView.parseFrom(published.get(0).payload());
    assertArrayEquals(bytes, view.getAdvertiser().toByteArray());
    assertEquals(CampaignStatus.ACTIVE, view.getStatus());
    assertEquals(1, view.getRevision());
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

  @Test
  void shouldNeverGrantCampaignsMoreThanTheCapWhenManyAskRepeatedly() {
    // given a cap of 1,000,000 and five campaigns asking for 150,000 at a time
    upsert(1_000_000);
    long seq = 0;
    long lastTotal = 0;
    // when they ask, round after round, far beyond the cap
    for (int round = 0; round < 5; round++) {
      for (int c = 0; c < 5; c++) {
        var r = grant("c" + c, ++seq, 150_000);
        AdvertiserEntity.State state = r.state();
        long total = state.grants().values().stream().mapToLong(AdvertiserEntity.Held::grantedMicros).sum();
        // then the sum of grants never passes the cap, and never shrinks
        assertTrue(total <= 1_000_000, "granted " + total);
        assertTrue(total >= lastTotal);
        lastTotal = total;
      }
    }
    // and the whole cap ends up granted, exactly
    assertEquals(1_000_000, lastTotal);
    var get = entity.<StatusReply<AdvertiserEntity.Summary>>runCommand(AdvertiserEntity.Get::new);
    assertEquals(1_000_000, get.reply().getValue().grantedMicros());
    assertEquals(1_000_000, entity.restart().state().grants().values().stream()
        .mapToLong(AdvertiserEntity.Held::grantedMicros).sum());
  }

  @Test
  void shouldGrantOnceWhenTheSameAskArrivesTwice() {
    upsert(1_000_000);
    var first = grant("c1", 7, 100_000);
    var again = grant("c1", 7, 100_000);
    assertEquals(100_000, first.reply().getValue().grantedMicros());
    assertTrue(again.hasNoEvents());
    assertEquals(100_000, again.reply().getValue().grantedMicros());
  }

  @Test
  void shouldStopGrantingAndPublishPausedWhenPaused() throws Exception {
    upsert(1_000_000);
    published.clear();
    var paused = entity.<StatusReply<AdvertiserEntity.Summary>>runCommand(AdvertiserEntity.Pause::new);
    assertTrue(paused.reply().getValue().paused());
    assertEquals(CampaignStatus.PAUSED, AdvertiserView.parseFrom(published.get(0).payload()).getStatus());
    var r = grant("c1", 1, 100_000);
    assertTrue(r.events().stream().noneMatch(e -> e instanceof AdvertiserEntity.CampaignBudgetGranted));
    assertEquals(0, r.reply().getValue().grantedMicros());
    assertTrue(r.reply().getValue().paused());
    var resumed = entity.<StatusReply<AdvertiserEntity.Summary>>runCommand(AdvertiserEntity.Resume::new);
    assertTrue(!resumed.reply().getValue().paused());
    assertEquals(100_000, grant("c1", 2, 100_000).reply().getValue().grantedMicros());
  }

  @Test
  void shouldStartTheCapAfreshWhenTheDayChangesInTheAdvertisersZone() {
    // given the whole cap granted on 2024-03-01 (UTC)
    upsert(1_000_000);
    grant("c1", 1, 1_000_000);
    assertEquals(0, grant("c2", 2, 1).reply().getValue().grantedMicros());
    // when midnight passes
    clock.advance(Duration.ofHours(14));
    var r = grant("c2", 3, 300_000);
    // then the new day has the whole cap again
    assertEquals(List.of(new AdvertiserEntity.AdvertiserDayStarted(advertiserId, "2024-03-02"),
        new AdvertiserEntity.CampaignBudgetGranted(advertiserId, "c2", "2024-03-02", 3, 300_000, 300_000)), r.events());
    assertEquals("2024-03-02", r.reply().getValue().day());
  }

  @Test
  void shouldLetAnotherCampaignHaveWhatOneGaveBack() {
    // given the whole cap granted to c1
    upsert(1_000_000);
    grant("c1", 1, 1_000_000);
    assertEquals(0, grant("c2", 2, 100_000).reply().getValue().grantedMicros());
    // when c1 gives 400,000 back
    var back = entity.<StatusReply<AdvertiserEntity.CampaignAllowance>>runCommand(
        r -> new AdvertiserEntity.ReturnCampaignBudget("c1", "2024-03-01", 3, 400_000, r));
    assertEquals(600_000, back.reply().getValue().grantedMicros());
    // then c2 can have it, and the cap still holds
    assertEquals(400_000, grant("c2", 4, 500_000).reply().getValue().grantedMicros());
    assertEquals(1_000_000, entity.getState().granted());
    // and a repeated or stale give-back changes nothing
    var again = entity.<StatusReply<AdvertiserEntity.CampaignAllowance>>runCommand(
        r -> new AdvertiserEntity.ReturnCampaignBudget("c1", "2024-03-01", 3, 400_000, r));
    assertTrue(again.hasNoEvents());
    assertEquals(600_000, again.reply().getValue().grantedMicros());
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<AdvertiserEntity.Command, AdvertiserEntity.Event,
      AdvertiserEntity.State, StatusReply<AdvertiserEntity.CampaignAllowance>> grant(String campaignId, long seq,
      long want) {
    return entity.runCommand(replyTo -> new AdvertiserEntity.GrantCampaign(campaignId, seq, want, replyTo));
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
