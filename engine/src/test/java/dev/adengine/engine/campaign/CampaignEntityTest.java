package dev.adengine.engine.campaign;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Campaign;
import dev.adengine.engine.budget.PacingPolicy;
import dev.adengine.api.v1.CampaignStatus;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.Pricing;
import dev.adengine.engine.catalog.CatalogUpdate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
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

/**
 * The campaign entity with the in-memory journal: replies, persisted events and state, and the
 * state after a restart (replay). Commands, events and state go through Jackson CBOR on every
 * command (the test kit's serialization check).
 */
class CampaignEntityTest {
  private static final String ADVERTISER = "adv-1";
  private static final long BUDGET = 1_000_003;
  private static final double GRANT_SHARE = 0.07;
  /** ceil(1,000,003 x 0.07) = ceil(70,000.21). */
  private static final long GRANT = 70_001;
  /** 23:59 on 2024-03-01 in Tokyo (UTC+9), 14:59 UTC. */
  private static final Instant BEFORE_TOKYO_MIDNIGHT = Instant.parse("2024-03-01T14:59:00Z");

  private static ActorTestKit testKit;
  private static final AtomicInteger IDS = new AtomicInteger();

  private final List<CatalogUpdate> published = new CopyOnWriteArrayList<>();
  private final List<String> publishedParents = new CopyOnWriteArrayList<>();
  private MutableClock clock;
  private String campaignId;
  private EventSourcedBehaviorTestKit<CampaignEntity.Command, CampaignEntity.Event, CampaignEntity.State> entity;

  @BeforeAll
  static void startTestKit() {
    testKit = EntityTestKits.start("CampaignEntityTest");
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newEntity() {
    clock = new MutableClock(BEFORE_TOKYO_MIDNIGHT);
    campaignId = "camp-" + IDS.incrementAndGet();
    CampaignEntity.CatalogPublisher publisher = (update, parent) -> {
      published.add(update);
      publishedParents.add(parent);
      return CompletableFuture.completedFuture(Done.getInstance());
    };
    entity = EventSourcedBehaviorTestKit.create(testKit.system(),
        CampaignEntity.create(campaignId, CampaignEntity.Deps.of(publisher, clock, GRANT_SHARE, PacingPolicy.NONE,
            AdvertiserBudget.UNCAPPED)),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  @Test
  void shouldPersistUpsertAndPublishRevisionOneWhenANewCampaignIsUpserted() throws Exception {
    // given
    byte[] definition = campaign(ADVERTISER, 2_000_000).toByteArray();

    // when
    var result = entity.<StatusReply<CampaignEntity.Summary>>runCommand(
        replyTo -> new CampaignEntity.Upsert(definition, ADVERTISER, BUDGET, "Asia/Tokyo", replyTo));

    // then
    CampaignEntity.Summary summary = result.reply().getValue();
    assertEquals(1, summary.revision());
    assertFalse(summary.paused());
    assertEquals(BUDGET, summary.dailyBudgetMicros());
    assertEquals(BUDGET, summary.remainingMicros());
    var event = result.eventOfType(CampaignEntity.CampaignUpserted.class);
    assertEquals(campaignId, event.campaignId());
    assertEquals(ADVERTISER, event.advertiserId());
    assertEquals(BUDGET, event.dailyBudgetMicros());
    assertEquals("Asia/Tokyo", event.zoneId());
    assertArrayEquals(definition, event.campaign());
    assertEquals(1, result.state().revision());
    assertEquals(1, published.size());
    CatalogUpdate update = published.get(0);
    assertEquals(CatalogUpdate.Kind.CAMPAIGN, update.kind());
    assertEquals(campaignId, update.id());
    assertEquals(1, update.revision());
    assertEquals(ADVERTISER, publishedParents.get(0));
    CampaignView view = CampaignView.parseFrom(update.payload());
    assertEquals(CampaignStatus.ACTIVE, view.getStatus());
    assertEquals(1, view.getRevision());
    assertEquals(2_000_000, view.getCampaign().getBidMicros());
  }

  @Test
  void shouldRecoverTheDefinitionAndRepublishWhenRestarted() throws Exception {
    // given
    upsert(ADVERTISER, 20_000);
    upsert(ADVERTISER, 3_000_000);
    published.clear();

    // when
    var restarted = entity.restart();

    // then
    assertEquals(2, restarted.state().revision());
    assertEquals(ADVERTISER, restarted.state().advertiserId());
    assertEquals(3_000_000, Campaign.parseFrom(restarted.state().campaign()).getBidMicros());
    assertEquals(1, published.size(), "the catalog row is re-written on recovery");
    assertEquals(2, published.get(0).revision());
  }

  @Test
  void shouldPauseAndResumeWithEventsAndRevisionsWhenAsked() throws Exception {
    // given
    upsert(ADVERTISER, 20_000);

    // when
    var paused = entity.<StatusReply<CampaignEntity.Summary>>runCommand(CampaignEntity.Pause::new);
    var pausedAgain = entity.<StatusReply<CampaignEntity.Summary>>runCommand(CampaignEntity.Pause::new);
    boolean pausedAfterRestart = entity.restart().state().paused();
    var resumed = entity.<StatusReply<CampaignEntity.Summary>>runCommand(CampaignEntity.Resume::new);

    // then
    assertEquals(new CampaignEntity.CampaignPaused(campaignId), paused.event());
    assertTrue(paused.reply().getValue().paused());
    assertEquals(2, paused.reply().getValue().revision());
    assertTrue(pausedAgain.hasNoEvents(), "pausing a paused campaign persists nothing");
    assertTrue(pausedAgain.reply().getValue().paused());
    assertTrue(pausedAfterRestart);
    assertEquals(new CampaignEntity.CampaignResumed(campaignId), resumed.event());
    assertFalse(resumed.state().paused());
    assertEquals(3, resumed.state().revision());
    CatalogUpdate last = published.get(published.size() - 1);
    assertEquals(3, last.revision());
    assertEquals(CampaignStatus.ACTIVE, CampaignView.parseFrom(last.payload()).getStatus());
    assertFalse(entity.restart().state().paused());
  }

  @Test
  void shouldPublishPausedStatusWhenPaused() throws Exception {
    // given
    upsert(ADVERTISER, 20_000);

    // when
    entity.<StatusReply<CampaignEntity.Summary>>runCommand(CampaignEntity.Pause::new);

    // then
    CatalogUpdate last = published.get(published.size() - 1);
    assertEquals(2, last.revision());
    assertEquals(CampaignStatus.PAUSED, CampaignView.parseFrom(last.payload()).getStatus());
  }

  @Test
  void shouldReplyNotFoundWhenTheCampaignDoesNotExist() {
    // given: nothing upserted

    // when
    var get = entity.<StatusReply<CampaignEntity.Summary>>runCommand(CampaignEntity.Get::new);
    var pause = entity.<StatusReply<CampaignEntity.Summary>>runCommand(CampaignEntity.Pause::new);
    var sync = entity.<StatusReply<CampaignEntity.Grant>>runCommand(
        replyTo -> new CampaignEntity.SyncNode("n1", "2024-03-01", 1, 0, 0, 0, 0, true, replyTo));

    // then
    assertTrue(get.reply().isError());
    assertTrue(get.reply().getError().getMessage().startsWith("NOT_FOUND"), get.reply().getError().getMessage());
    assertTrue(get.hasNoEvents());
    assertTrue(pause.reply().isError());
    assertTrue(pause.hasNoEvents());
    assertTrue(sync.reply().isError());
    assertTrue(sync.hasNoEvents());
    assertTrue(published.isEmpty());
  }

  @Test
  void shouldRefuseUpsertWhenTheAdvertiserIdDiffers() {
    // given
    upsert(ADVERTISER, 20_000);
    published.clear();

    // when
    var result = entity.<StatusReply<CampaignEntity.Summary>>runCommand(replyTo ->
        new CampaignEntity.Upsert(campaign("adv-2", 1).toByteArray(), "adv-2", BUDGET, "UTC", replyTo));

    // then
    assertTrue(result.reply().isError());
    assertTrue(result.reply().getError().getMessage().startsWith("campaign.advertiser_id"));
    assertTrue(result.hasNoEvents());
    assertEquals(ADVERTISER, result.state().advertiserId());
    assertEquals(1, result.state().revision());
    assertTrue(published.isEmpty());
  }

  @Test
  void shouldApplyAnUpsertExpectingTheCurrentRevisionAndRefuseOneExpectingAnOlderOne() {
    // given a campaign at revision 2 (created, then changed)
    upsert(ADVERTISER, 20_000);
    upsert(ADVERTISER, 30_000);
    published.clear();

    // when a client that read revision 1 writes back
    var stale = entity.<StatusReply<CampaignEntity.Summary>>runCommand(replyTo -> new CampaignEntity.Upsert(
        campaign(ADVERTISER, 40_000).toByteArray(), ADVERTISER, 2 * BUDGET, "Asia/Tokyo", 1, replyTo));

    // then it is refused as a conflict naming the current revision, and nothing changes
    assertTrue(stale.reply().isError());
    assertEquals(CampaignEntity.CONFLICT + "campaign " + campaignId + " is at revision 2, not 1 (changed meanwhile:"
        + " read it again)", stale.reply().getError().getMessage());
    assertTrue(stale.hasNoEvents());
    assertEquals(BUDGET, stale.state().dailyBudgetMicros());
    assertTrue(published.isEmpty());

    // and one that read revision 2 gets through, to revision 3
    var current = entity.<StatusReply<CampaignEntity.Summary>>runCommand(replyTo -> new CampaignEntity.Upsert(
        campaign(ADVERTISER, 40_000).toByteArray(), ADVERTISER, 2 * BUDGET, "Asia/Tokyo", 2, replyTo));
    assertTrue(current.reply().isSuccess());
    assertEquals(3, current.state().revision());
    assertEquals(2 * BUDGET, current.state().dailyBudgetMicros());
  }

  @Test
  void shouldGrantOneShareOfTheBudgetWhenANodeAsksFirst() {
    // given
    upsert(ADVERTISER, 20_000);

    // when
    var result = sync("n1", "2024-03-01", 1, 0, 0, true);

    // then
    CampaignEntity.Grant grant = result.reply().getValue();
    assertEquals(new CampaignEntity.Grant(campaignId, "2024-03-01", GRANT, false, BUDGET, leaseFromNow()), grant);
    assertEquals(List.of(
        new CampaignEntity.BudgetDayStarted(campaignId, "2024-03-01"),
        new CampaignEntity.NodeSynced(campaignId, "n1", "2024-03-01", 1, 0, 0, 0, 0),
        new CampaignEntity.AllowanceGranted(campaignId, "n1", "2024-03-01", 1, GRANT, GRANT)), result.events());
    assertEquals(GRANT, result.state().nodes().get("n1").allowanceMicros());
    assertEquals(GRANT, entity.restart().state().nodes().get("n1").allowanceMicros());
  }

  @Test
  void shouldGrantExactlyTheBudgetAndNeverMoreWhenThreeNodesAskUntilNothingIsLeft() {
    // given
    upsert(ADVERTISER, 20_000);
    String[] nodes = {"n1", "n2", "n3"};
    long[] seq = new long[3];
    long[] allowance = new long[3];

    // when
    int grants = 0;
    for (int round = 0; round < 10; round++) {
      for (int n = 0; n < 3; n++) {
        var result = sync(nodes[n], "2024-03-01", ++seq[n], 0, 0, true);
        long now = result.reply().getValue().allowanceMicros();
        long step = now - allowance[n];
        // then (every ask): a grant is one share at most, and the total never passes the budget
        assertTrue(step >= 0 && step <= GRANT, "step " + step);
        if (step > 0) {
          grants++;
        }
        allowance[n] = now;
        long total = allowance[0] + allowance[1] + allowance[2];
        assertTrue(total <= BUDGET, "granted " + total + " of " + BUDGET);
      }
    }

    // then
    assertEquals(BUDGET, allowance[0] + allowance[1] + allowance[2]);
    // 14 full shares of 70,001 = 980,014, then the last 19,989.
    assertEquals(15, grants);
    var more = sync("n1", "2024-03-01", ++seq[0], 0, 0, true);
    assertTrue(more.hasNoEvents(), "nothing left to grant and nothing reported: no event");
    assertEquals(allowance[0], more.reply().getValue().allowanceMicros());
    var restarted = entity.restart().state();
    long replayed = restarted.nodes().values().stream().mapToLong(CampaignEntity.NodeGrant::allowanceMicros).sum();
    assertEquals(BUDGET, replayed);
  }

  @Test
  void shouldNotGrantWhenTheNodeDoesNotAskOrTheCampaignIsPaused() {
    // given
    upsert(ADVERTISER, 20_000);

    // when
    var report = sync("n1", "2024-03-01", 1, 0, 0, false);
    entity.<StatusReply<CampaignEntity.Summary>>runCommand(CampaignEntity.Pause::new);
    var pausedAsk = sync("n1", "2024-03-01", 2, 0, 0, true);

    // then
    assertEquals(0, report.reply().getValue().allowanceMicros());
    assertTrue(report.events().stream().noneMatch(e -> e instanceof CampaignEntity.AllowanceGranted));
    assertTrue(pausedAsk.reply().getValue().paused());
    assertEquals(0, pausedAsk.reply().getValue().allowanceMicros());
    assertTrue(pausedAsk.events().stream().noneMatch(e -> e instanceof CampaignEntity.AllowanceGranted));
  }

  @Test
  void shouldRecordNodeTotalsAndIgnoreAnOlderSeqWhenReportsArriveOutOfOrder() {
    // given
    upsert(ADVERTISER, 20_000);
    sync("n1", "2024-03-01", 1, 0, 0, true);
    var newer = sync("n1", "2024-03-01", 5, 30_000, 20_000, false);

    // when
    var older = sync("n1", "2024-03-01", 3, 10_000, 5_000, false);
    var get = entity.<StatusReply<CampaignEntity.Summary>>runCommand(CampaignEntity.Get::new);

    // then
    assertEquals(new CampaignEntity.NodeSynced(campaignId, "n1", "2024-03-01", 5, 30_000, 20_000, 0, 0),
        newer.event());
    assertTrue(older.hasNoEvents());
    CampaignEntity.NodeGrant held = older.state().nodes().get("n1");
    assertEquals(5, held.seq());
    assertEquals(30_000, held.spentMicros());
    assertEquals(20_000, held.reservedMicros());
    CampaignEntity.Summary summary = get.reply().getValue();
    assertEquals(30_000, summary.spentMicros());
    assertEquals(20_000, summary.reservedMicros());
    assertEquals(BUDGET - 50_000, summary.remainingMicros());
    assertEquals(30_000, entity.restart().state().nodes().get("n1").spentMicros());
  }

  @Test
  void shouldGrantAtLeastOneBidWhenTheBudgetShareIsSmallerThanABid() {
    // given a bid (0.5 units) far above 7% of the budget (0.07 units)
    upsert(ADVERTISER, 500_000);
    // when a node asks
    var r = sync("n1", "", 1, 0, 0, true);
    // then it gets enough for one win at the bid, not a grant it could never spend
    assertEquals(500_000, r.reply().getValue().allowanceMicros());
  }

  @Test
  void shouldGrantOnceWhenTheSameSyncIsDeliveredTwice() {
    // given a node's first ask, before it knows the budget day
    upsert(ADVERTISER, 20_000);
    var first = sync("n1", "", 1, 0, 0, true);

    // when the very same message arrives again (a retry or a duplicate delivery)
    var again = sync("n1", "", 1, 0, 0, true);

    // then the second one changes nothing and answers the same grant
    assertTrue(again.hasNoEvents());
    assertEquals(first.reply().getValue(), again.reply().getValue());
    assertEquals(GRANT, again.state().nodes().get("n1").allowanceMicros());
  }

  @Test
  void shouldPersistNothingWhenTheSameTotalsAreReportedAgain() {
    // given
    upsert(ADVERTISER, 20_000);
    sync("n1", "2024-03-01", 1, 500, 0, false);

    // when
    var same = sync("n1", "2024-03-01", 2, 500, 0, false);

    // then
    assertTrue(same.hasNoEvents());
  }

  @Test
  void shouldStartANewDayAndResetGrantsWhenTheClockPassesMidnightInTheCampaignsZone() {
    // given: 23:59 in Tokyo, one node holding a grant and reporting spend
    upsert(ADVERTISER, 20_000);
    sync("n1", "2024-03-01", 1, 0, 0, true);
    sync("n1", "2024-03-01", 2, 60_000, 0, true);
    sync("n2", "2024-03-01", 1, 0, 0, true);

    // when: 00:00:01 in Tokyo on 2024-03-02, still 2024-03-01 in UTC
    clock.advance(Duration.ofSeconds(61));
    var getAfterMidnight = entity.<StatusReply<CampaignEntity.Summary>>runCommand(CampaignEntity.Get::new);
    var result = sync("n1", "2024-03-01", 3, 60_000, 0, true);

    // then
    assertTrue(getAfterMidnight.hasNoEvents());
    assertEquals("2024-03-02", getAfterMidnight.reply().getValue().day());
    assertEquals(0, getAfterMidnight.reply().getValue().spentMicros());
    assertEquals(List.of(
        new CampaignEntity.BudgetDayStarted(campaignId, "2024-03-02"),
        new CampaignEntity.AllowanceGranted(campaignId, "n1", "2024-03-02", 3, GRANT, GRANT)), result.events());
    assertEquals(new CampaignEntity.Grant(campaignId, "2024-03-02", GRANT, false, BUDGET, leaseFromNow()), result.reply().getValue());
    assertEquals("2024-03-02", result.state().day());
    assertEquals(Map.of("n1", new CampaignEntity.NodeGrant(GRANT, 0, 0, 0, 0, 3)), result.state().nodes());
    CampaignEntity.State restarted = entity.restart().state();
    assertEquals("2024-03-02", restarted.day());
    assertEquals(result.state().nodes(), restarted.nodes());
  }

  @Test
  void shouldNotStartANewDayWhenMidnightPassesInUtcButNotInTheCampaignsZone() {
    // given: a campaign in Los Angeles (UTC-8), 23:59 UTC is 15:59 there
    clock.set(Instant.parse("2024-03-01T23:59:00Z"));
    entity.<StatusReply<CampaignEntity.Summary>>runCommand(replyTo -> new CampaignEntity.Upsert(
        campaign(ADVERTISER, 20_000).toByteArray(), ADVERTISER, BUDGET, "America/Los_Angeles", replyTo));
    sync("n1", "2024-03-01", 1, 0, 0, true);

    // when
    clock.advance(Duration.ofMinutes(2));
    var result = sync("n1", "2024-03-01", 2, 0, 0, true);

    // then
    assertTrue(result.events().stream().noneMatch(e -> e instanceof CampaignEntity.BudgetDayStarted));
    assertEquals("2024-03-01", result.reply().getValue().day());
    assertEquals(2 * GRANT, result.reply().getValue().allowanceMicros());
  }

  @Test
  void shouldRoundTripEveryEventWhenReplayedAfterRestart() {
    // given: one of each event in the journal
    upsert(ADVERTISER, 20_000);
    entity.<StatusReply<CampaignEntity.Summary>>runCommand(CampaignEntity.Pause::new);
    entity.<StatusReply<CampaignEntity.Summary>>runCommand(CampaignEntity.Resume::new);
    var last = sync("n1", "2024-03-01", 1, 100, 200, true);

    // when
    CampaignEntity.State restarted = entity.restart().state();

    // then
    assertInstanceOf(CampaignEntity.AllowanceGranted.class, last.events().get(last.events().size() - 1));
    assertEquals(last.state().revision(), restarted.revision());
    assertEquals(last.state().day(), restarted.day());
    assertEquals(last.state().nodes(), restarted.nodes());
    assertEquals(last.state().paused(), restarted.paused());
    assertArrayEquals(last.state().campaign(), restarted.campaign());
  }

  // ---- helpers ----

  private void upsert(String advertiserId, long bidMicros) {
    var result = entity.<StatusReply<CampaignEntity.Summary>>runCommand(replyTo -> new CampaignEntity.Upsert(
        campaign(advertiserId, bidMicros).toByteArray(), advertiserId, BUDGET, "Asia/Tokyo", replyTo));
    assertTrue(result.reply().isSuccess());
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<CampaignEntity.Command, CampaignEntity.Event,
      CampaignEntity.State, StatusReply<CampaignEntity.Grant>> sync(String node, String day, long seq, long spent,
      long reserved, boolean wantMore) {
    return entity.runCommand(
        replyTo -> new CampaignEntity.SyncNode(node, day, seq, spent, reserved, 0, 0, wantMore, replyTo));
  }

  private Campaign campaign(String advertiserId, long bidMicros) {
    return Campaign.newBuilder()
        .setCampaignId(campaignId)
        .setAdvertiserId(advertiserId)
        .setName("Spring in Tokyo")
        .setPricing(Pricing.CPC)
        .setBidMicros(bidMicros)
        .setDailyBudgetMicros(BUDGET)
        .addAds(Ad.newBuilder().setAdId("ad-1").setTitle("Hotel One").setHotelId("h1"))
        .setTimeZone("Asia/Tokyo")
        .build();
  }

  /** The lease a grant carries: the test clock plus the lease of {@code Deps.of} (a year). */
  private long leaseFromNow() {
    return clock.millis() + java.time.Duration.ofDays(365).toMillis();
  }
}
