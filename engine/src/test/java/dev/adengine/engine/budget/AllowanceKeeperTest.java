package dev.adengine.engine.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.adengine.engine.campaign.CampaignEntity;
import dev.adengine.engine.campaign.MutableClock;
import dev.adengine.engine.catalog.CampaignEntry;
import dev.adengine.engine.catalog.CatalogFixture;
import dev.adengine.engine.catalog.CatalogSnapshot;
import dev.adengine.engine.testing.ServingFixture;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The keeper against a one-node cluster whose campaign entities are a probe: what each sync
 * carries, and when. The clock is moved by hand; the keeper ticks every 20 ms of real time.
 */
class AllowanceKeeperTest {
  private static final LocalDate TODAY = LocalDate.of(2026, 11, 30);
  private static final Duration LEASE = Duration.ofSeconds(3);
  private static final Duration REPORT = Duration.ofSeconds(5);
  private static final Duration WAIT = Duration.ofSeconds(5);

  private static ActorTestKit testKit;
  /** Every campaign entity's syncs, with the entity they were sent to. */
  private static TestProbe<Seen> entity;

  private record Seen(String campaignId, CampaignEntity.SyncNode sync) {}

  @BeforeAll
  static void startCluster() {
    testKit = ActorTestKit.create("AllowanceKeeperTest", ConfigFactory.parseString("""
        pekko.loglevel = WARNING
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
        """));
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    entity = testKit.createTestProbe(Seen.class);
    ActorRef<Seen> forward = entity.getRef();
    ClusterSharding.get(testKit.system()).init(Entity.of(CampaignEntity.ENTITY_KEY,
        ctx -> Behaviors.receiveMessage(cmd -> {
          if (cmd instanceof CampaignEntity.SyncNode sync) {
            forward.tell(new Seen(ctx.getEntityId(), sync));
          }
          return Behaviors.same();
        })));
  }

  @AfterAll
  static void stopCluster() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldRenewTheLeaseWithTheLastReportedTotalsAndReportSpendOnlyEveryReportInterval() {
    // given funded campaigns on this node, a lease of 3 s (renewed every 1 s) and reports every 5 s
    Keeper k = Keeper.start();
    String id = k.campaign().def().campaignId();
    MutableClock clock = k.clock();
    BudgetLedger ledger = k.fixture().ledger();

    // when the keeper has first reported every campaign, and then one campaign spends 1,000 micros
    CampaignEntity.SyncNode first = round(k.campaigns(), ledger).get(id);
    long spentBefore = first.spentMicros();
    assertEquals(TODAY.toString(), ledger.chargeOnDay(id, 1_000));

    // then nothing is sent before the lease needs renewing, however much has moved
    clock.advance(Duration.ofMillis(900));
    entity.expectNoMessage(Duration.ofMillis(300));

    // and the renewals in between repeat what the entity was last told (nothing for it to persist)
    for (int i = 1; i <= 4; i++) {
      clock.advance(Duration.ofMillis(i == 1 ? 100 : 1_000));
      CampaignEntity.SyncNode renewal = round(k.campaigns(), ledger).get(id);
      assertTrue(renewal.seq() > first.seq());
      assertEquals(spentBefore, renewal.spentMicros(), "renewal " + i);
      assertEquals(first.impressions(), renewal.impressions());
      assertFalse(renewal.wantMore());
    }

    // and the change goes out with the next report, report-interval after the last one
    clock.advance(Duration.ofSeconds(1));
    assertEquals(spentBefore + 1_000, round(k.campaigns(), ledger).get(id).spentMicros());

    // and the renewal after that repeats the new totals
    clock.advance(Duration.ofSeconds(1));
    assertEquals(spentBefore + 1_000, round(k.campaigns(), ledger).get(id).spentMicros());
    testKit.stop(k.keeper());
  }

  @Test
  void shouldGiveBackAllOfAPausedCampaignsFreeAllowanceAndKeepItsReservations() {
    // given funded campaigns on this node, reported once, and one of them with an open reservation
    Keeper k = Keeper.start();
    String id = k.campaign().def().campaignId();
    MutableClock clock = k.clock();
    BudgetLedger ledger = k.fixture().ledger();
    round(k.campaigns(), ledger);
    assertEquals(TODAY.toString(), ledger.chargeOnDay(id, 1_000));
    assertTrue(ledger.reserveClick(id, "rq-paused", "ad", 2_000, clock.millis() + 60_000), "reserved");
    CampaignLedger.Totals before = ledger.get(id).totals();
    long free = before.allowance() - before.spent() - before.reserved();
    assertTrue(free > 0, "free allowance " + free);

    // when the catalog replica shows that campaign paused
    ServingFixture fixture = k.fixture();
    Map<String, CampaignEntry> entries = new HashMap<>(fixture.snapshot().campaigns());
    entries.put(id, new CampaignEntry(k.campaign().def(), true, k.campaign().revision() + 1));
    CatalogFixture.publish(fixture.catalog(), new CatalogSnapshot(entries, fixture.snapshot().advertisers(),
        clock.millis()));

    // then the keeper gives all of its free allowance back at once, with its totals, asking for nothing
    Seen back = entity.expectMessageClass(Seen.class, WAIT);
    assertEquals(id, back.campaignId());
    assertEquals(free, back.sync().returnMicros(), "given back");
    assertEquals(before.spent(), back.sync().spentMicros());
    assertEquals(before.reserved(), back.sync().reservedMicros());
    assertFalse(back.sync().wantMore());
    CampaignLedger.Totals after = ledger.get(id).totals();
    assertEquals(before.spent() + before.reserved(), after.allowance(), "the node keeps what is spent or reserved");
    assertEquals(before.reserved(), after.reserved(), "the reservation stays open");
    grant(id, back.sync(), after.allowance());

    // and the next renewal gives nothing more back and asks for nothing, while the others stay funded
    clock.advance(LEASE);
    Map<String, CampaignEntity.SyncNode> renewals = round(k.campaigns(), ledger);
    assertEquals(0, renewals.get(id).returnMicros());
    assertFalse(renewals.get(id).wantMore());
    renewals.forEach((c, sync) -> assertEquals(0, sync.returnMicros(), "given back by " + c));
    testKit.stop(k.keeper());
  }

  /**
   * A keeper of node n1 over funded campaigns (one of them {@code campaign}), ticking every 20 ms
   * of real time on {@code clock}, which only the test moves: a lease of 3 s and reports every 5 s.
   */
  private record Keeper(ServingFixture fixture, CampaignEntry campaign, MutableClock clock,
      ActorRef<AllowanceKeeper.Command> keeper) {
    static Keeper start() {
      ServingFixture fixture = ServingFixture.of(3, TODAY);
      MutableClock clock = new MutableClock(Instant.parse("2026-11-30T12:00:00Z"));
      ActorRef<AllowanceKeeper.Command> keeper = testKit.spawn(AllowanceKeeper.create(new AllowanceKeeper.Settings(
          "n1", 0.5, 0.05, Duration.ofMillis(20), REPORT, Duration.ofSeconds(1), Duration.ofSeconds(3), 8, LEASE,
          Duration.ofDays(1)), fixture.catalog(), fixture.ledger(), clock));
      return new Keeper(fixture, fixture.snapshot().campaigns().values().iterator().next(), clock, keeper);
    }

    int campaigns() {
      return fixture.snapshot().campaigns().size();
    }
  }

  /**
   * One sync from each of {@code campaigns} campaigns (the keeper met them all on one tick, so their
   * renewals and reports fall due together), each answered with the allowance its node holds.
   */
  private static Map<String, CampaignEntity.SyncNode> round(int campaigns, BudgetLedger ledger) {
    Map<String, CampaignEntity.SyncNode> syncs = new HashMap<>();
    while (syncs.size() < campaigns) {
      Seen seen = entity.expectMessageClass(Seen.class, WAIT);
      assertTrue(syncs.put(seen.campaignId(), seen.sync()) == null, "two syncs of " + seen.campaignId());
      grant(seen.campaignId(), seen.sync(), ledger.get(seen.campaignId()).totals().allowance());
    }
    return syncs;
  }

  /** The entity's answer: the allowance the node already holds, the lease without end. */
  private static void grant(String campaignId, CampaignEntity.SyncNode sync, long allowance) {
    sync.replyTo().tell(StatusReply.success(new CampaignEntity.Grant(campaignId, sync.day(), allowance, false,
        1_000_000_000_000L, Long.MAX_VALUE)));
  }
}
