package dev.adengine.engine.campaign;

import static org.junit.jupiter.api.Assertions.*;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.Pricing;
import dev.adengine.engine.budget.PacingPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A node that goes silent keeps its grant until its lease and click window have passed; then its
 * grant is settled at exactly its durable charges and the rest returns to the campaign.
 */
class NodeSettlementTest {
  private static final long BUDGET = 1_000_000;
  private static final Duration LEASE = Duration.ofSeconds(2);
  private static final Duration SETTLE_AFTER = Duration.ofSeconds(10);
  private static final AtomicInteger IDS = new AtomicInteger();
  private static ActorTestKit testKit;

  private final Map<String, Long> durable = new ConcurrentHashMap<>();
  private MutableClock clock;
  private String campaignId;
  private EventSourcedBehaviorTestKit<CampaignEntity.Command, CampaignEntity.Event, CampaignEntity.State> entity;

  @BeforeAll
  static void startTestKit() {
    testKit = EntityTestKits.start("NodeSettlementTest");
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newEntity() {
    clock = new MutableClock(Instant.parse("2024-03-01T10:00:00Z"));
    campaignId = "settle-" + IDS.incrementAndGet();
    CampaignEntity.Deps deps = new CampaignEntity.Deps((u, p) -> CompletableFuture.completedFuture(null), clock, 0.25,
        PacingPolicy.NONE, AdvertiserBudget.UNCAPPED, s -> { }, Duration.ofHours(1), Duration.ofHours(1), LEASE,
        SETTLE_AFTER, Duration.ofMillis(50),
        (c, day, node) -> CompletableFuture.completedFuture(durable.getOrDefault(node, 0L)));
    entity = EventSourcedBehaviorTestKit.create(testKit.system(), CampaignEntity.create(campaignId, deps),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
    Campaign c = Campaign.newBuilder().setCampaignId(campaignId).setAdvertiserId("adv").setPricing(Pricing.CPC)
        .setBidMicros(10_000).setDailyBudgetMicros(BUDGET)
        .addAds(Ad.newBuilder().setAdId("ad-" + campaignId)).build();
    entity.<StatusReply<CampaignEntity.Summary>>runCommand(
        r -> new CampaignEntity.Upsert(c.toByteArray(), "adv", BUDGET, "UTC", r));
  }

  @Test
  void shouldSettleASilentNodeAtItsDurableChargesAndReturnTheRestWhenLeaseAndClickWindowHavePassed() {
    // given two nodes that took the whole budget between them; n2 reported 100,000 spent
    var g1 = sync("n1", 1, 0, true);
    sync("n2", 1, 0, true);
    sync("n1", 2, 0, true);
    sync("n2", 2, 100_000, true);
    assertEquals(250_000, g1.reply().getValue().allowanceMicros(), "a grant is a quarter of the budget");
    assertEquals(BUDGET, entity.getState().granted());
    // n2 dies; its durable charge log says it had really spent 180,000 (80,000 after its last report)
    durable.put("n2", 180_000L);

    // when n1 keeps syncing while the clock passes the lease but not the click window
    clock.advance(Duration.ofSeconds(5));
    sync("n1", 3, 0, false);
    pause(Duration.ofMillis(300));
    // then n2's grant is untouched: a click for an ad it served could still be charged
    assertFalse(entity.getState().nodes().get("n2").settled());

    // when the click window (and grace) has passed too
    clock.advance(Duration.ofSeconds(10));
    sync("n1", 4, 0, false);
    awaitSettled("n2");

    // then n2 is closed at exactly its durable charges, and the rest is free to grant again
    CampaignEntity.NodeGrant n2 = entity.getState().nodes().get("n2");
    assertEquals(180_000, n2.allowanceMicros());
    assertEquals(180_000, n2.spentMicros());
    assertEquals(0, n2.reservedMicros());
    var more = sync("n1", 5, 0, true);
    assertEquals(750_000, more.reply().getValue().allowanceMicros(), "n1 gets the freed 320,000 in grants of 250,000");
    var all = sync("n1", 6, 0, true);
    assertEquals(BUDGET - 180_000, all.reply().getValue().allowanceMicros());
    assertEquals(BUDGET, entity.getState().granted(), "never more than the budget, counting the settled node");

    // and a settled node that comes back gets no lease and nothing more
    var back = sync("n2", 3, 180_000, true);
    assertEquals(0, back.reply().getValue().leaseUntilMillis());
    assertEquals(180_000, back.reply().getValue().allowanceMicros());
    assertTrue(back.events().isEmpty());

    // and the settlement survives a restart
    assertTrue(entity.restart().state().nodes().get("n2").settled());
  }

  @Test
  void shouldNotSettleANodeWhenItKeepsSyncing() {
    sync("n1", 1, 0, true);
    for (int i = 2; i < 12; i++) {
      clock.advance(Duration.ofSeconds(2));
      sync("n1", i, 0, false);
      pause(Duration.ofMillis(60));
    }
    assertFalse(entity.getState().nodes().get("n1").settled());
  }

  @Test
  void shouldPoolFragmentsIntoAUsableGrantWhenNodesGiveThemBack() {
    // given a budget of 1,000,000 fully leased to two nodes (bid 10,000) and spent down so that
    // each holds 6,000: less than one win
    sync("n1", 1, 0, true);
    sync("n2", 1, 0, true);
    sync("n1", 2, 0, true);
    sync("n2", 2, 0, true);
    assertEquals(BUDGET, entity.getState().granted());
    sync("n1", 3, 494_000, false);
    sync("n2", 3, 494_000, false);

    // when n1 asks for more, the entity has none
    var empty = sync("n1", 4, 494_000, true);
    assertEquals(500_000, empty.reply().getValue().allowanceMicros());
    assertTrue(empty.events().stream().noneMatch(e -> e instanceof CampaignEntity.AllowanceGranted));

    // when both give their 6,000 back
    var back1 = entity.<StatusReply<CampaignEntity.Grant>>runCommand(
        r -> new CampaignEntity.SyncNode("n1", "2024-03-01", 5, 494_000, 0, 0, 0, false, 6_000, r));
    var back2 = entity.<StatusReply<CampaignEntity.Grant>>runCommand(
        r -> new CampaignEntity.SyncNode("n2", "2024-03-01", 4, 494_000, 0, 0, 0, false, 6_000, r));
    assertEquals(494_000, back1.reply().getValue().allowanceMicros());
    assertEquals(494_000, back2.reply().getValue().allowanceMicros());

    // then the pooled 12,000 is one usable grant: it goes to the next node that asks
    var pooled = sync("n1", 6, 494_000, true);
    assertEquals(506_000, pooled.reply().getValue().allowanceMicros());
    // and what is left after that win (2,000) is not handed to anyone: it could not pay for a win
    var rest = sync("n2", 5, 494_000, true);
    assertEquals(494_000, rest.reply().getValue().allowanceMicros());
    assertEquals(BUDGET, entity.getState().granted(), "the pooled fragments went out again; the budget is all granted");
  }

  @Test
  void shouldIgnoreAGiveBackLargerThanWhatTheNodeHasFree() {
    sync("n1", 1, 0, true);
    var r = entity.<StatusReply<CampaignEntity.Grant>>runCommand(
        c -> new CampaignEntity.SyncNode("n1", "2024-03-01", 2, 200_000, 0, 0, 0, false, 900_000, c));
    // the node holds 250,000 with 200,000 spent: at most 50,000 can come back
    assertEquals(200_000, r.reply().getValue().allowanceMicros());
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<CampaignEntity.Command, CampaignEntity.Event,
      CampaignEntity.State, StatusReply<CampaignEntity.Grant>> sync(String node, long seq, long spent, boolean more) {
    return entity.runCommand(r -> new CampaignEntity.SyncNode(node, "2024-03-01", seq, spent, 0, 0, 0, more, r));
  }

  private void awaitSettled(String node) {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!entity.getState().nodes().get(node).settled()) {
      assertTrue(System.nanoTime() < deadline, "node " + node + " was not settled");
      pause(Duration.ofMillis(20));
    }
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
