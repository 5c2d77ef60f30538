package dev.adengine.engine.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Pricing;
import dev.adengine.engine.campaign.AdvertiserBudget;
import dev.adengine.engine.campaign.CampaignEntity;
import dev.adengine.engine.campaign.EntityTestKits;
import dev.adengine.engine.campaign.MutableClock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CurvePacingTest {
  private static final long BUDGET = 1_000_000_007;
  private static final Duration LOOKAHEAD = Duration.ofMinutes(15);
  private static final double HEADROOM = 0.1;
  private static final ZoneId TOKYO = ZoneId.of("Asia/Tokyo");
  private static final LocalDate DAY = LocalDate.of(2024, 3, 5);
  private static final AtomicInteger IDS = new AtomicInteger();
  /** The smallest grant under a pacing ceiling: a quarter of one 5% share. */
  private static final long QUARTER_GRANT = (long) Math.ceil(BUDGET * 0.05) / 4;

  private static ActorTestKit testKit;

  private final CurvePacing pacing = new CurvePacing(TrafficCurve.TRAVEL, LOOKAHEAD, HEADROOM);

  @BeforeAll
  static void startTestKit() {
    testKit = EntityTestKits.start("CurvePacingTest");
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldFollowTheCurveWithLookaheadAndHeadroomWhenEven() {
    // given 06:00 in Tokyo
    ZonedDateTime six = DAY.atTime(6, 0).atZone(TOKYO);

    // when
    long ceiling = pacing.grantCeiling(Pacing.EVEN, BUDGET, six);

    // then
    double share = TrafficCurve.TRAVEL.cumulativeShare(LocalTime.of(6, 15)) * 1.1;
    assertEquals((long) Math.floor(BUDGET * share), ceiling);
    assertTrue(ceiling < BUDGET / 10, "about 6-7% of the day's budget by 06:00, was " + ceiling);
  }

  @Test
  void shouldGrowThroughTheDayAndReachTheWholeBudgetWhenTheDayEnds() {
    // given
    ZonedDateTime midnight = DAY.atStartOfDay(TOKYO);
    long previous = -1;

    // when: every minute of the day
    for (int minute = 0; minute < 24 * 60; minute++) {
      long ceiling = pacing.grantCeiling(Pacing.EVEN, BUDGET, midnight.plusMinutes(minute));
      // then
      assertTrue(ceiling >= previous, "falls at minute " + minute);
      assertTrue(ceiling <= BUDGET, "above the budget at minute " + minute);
      previous = ceiling;
    }
    assertTrue(pacing.grantCeiling(Pacing.EVEN, BUDGET, midnight) > 0, "something to spend from midnight on");
    assertTrue(pacing.grantCeiling(Pacing.EVEN, BUDGET, midnight.plusHours(12)) < BUDGET / 2);
    assertEquals(BUDGET, pacing.grantCeiling(Pacing.EVEN, BUDGET, DAY.atTime(23, 30).atZone(TOKYO)));
    assertEquals(BUDGET, pacing.grantCeiling(Pacing.EVEN, BUDGET, DAY.atTime(23, 59, 59).atZone(TOKYO)));
  }

  @Test
  void shouldGrantTheWholeBudgetAtAnyTimeWhenAsap() {
    ZonedDateTime midnight = DAY.atStartOfDay(TOKYO);
    for (int hour = 0; hour < 24; hour++) {
      assertEquals(BUDGET, pacing.grantCeiling(Pacing.ASAP, BUDGET, midnight.plusHours(hour)));
    }
  }

  @Test
  void shouldNeverExceedTheBudgetWhenHeadroomIsLarge() {
    // given a ceiling with far more headroom than the day holds
    CurvePacing generous = new CurvePacing(TrafficCurve.TRAVEL, Duration.ofHours(6), 5.0);

    // when / then
    for (int hour = 0; hour < 24; hour++) {
      ZonedDateTime at = DAY.atTime(hour, 0).atZone(TOKYO);
      assertTrue(generous.grantCeiling(Pacing.EVEN, BUDGET, at) <= BUDGET);
      assertTrue(generous.grantCeiling(Pacing.EVEN, 1, at) <= 1);
    }
    assertEquals(0, generous.grantCeiling(Pacing.EVEN, 0, DAY.atStartOfDay(TOKYO)));
  }

  @Test
  void shouldRunTheCurveOnceWhenTheDayHasTwentyFiveHours() {
    // given the day Berlin leaves summer time (27 Oct 2024: 02:00-03:00 happens twice)
    ZoneId berlin = ZoneId.of("Europe/Berlin");
    ZonedDateTime start = LocalDate.of(2024, 10, 27).atStartOfDay(berlin);
    long previous = -1;

    // when: every 5 minutes of the 25 hours
    for (int minute = 0; minute < 25 * 60; minute += 5) {
      long ceiling = pacing.grantCeiling(Pacing.EVEN, BUDGET, start.plusMinutes(minute));
      // then: it never goes back when the wall clock does
      assertTrue(ceiling >= previous, "falls at minute " + minute);
      previous = ceiling;
    }
    assertEquals(BUDGET, previous);
  }

  @Test
  void shouldRefuseWhenParametersAreNegative() {
    assertThrows(IllegalArgumentException.class,
        () -> new CurvePacing(TrafficCurve.TRAVEL, Duration.ofMinutes(-1), 0.1));
    assertThrows(IllegalArgumentException.class, () -> new CurvePacing(TrafficCurve.TRAVEL, LOOKAHEAD, -0.1));
  }

  @Test
  void shouldStopGrantingAtTheCeilingWhenNodesKeepAskingAtSixInTheMorning() {
    // given an EVEN campaign in Tokyo and the clock at 06:00 there (21:00 UTC the day before)
    MutableClock clock = new MutableClock(DAY.atTime(6, 0).atZone(TOKYO).toInstant());
    var entity = entity(clock);
    upsert(entity, Pacing.EVEN);
    long ceiling = pacing.grantCeiling(Pacing.EVEN, BUDGET, DAY.atTime(6, 0).atZone(TOKYO));
    String[] nodes = {"n1", "n2"};
    long[] seq = new long[2];
    long[] allowance = new long[2];

    // when: both nodes ask again and again without spending
    for (int round = 0; round < 10; round++) {
      for (int n = 0; n < 2; n++) {
        var result = sync(entity, nodes[n], ++seq[n]);
        allowance[n] = result.reply().getValue().allowanceMicros();
        // then (every ask): never past the ceiling, and each grant is zero or at least a quarter grant
        assertTrue(allowance[0] + allowance[1] <= ceiling, "granted " + (allowance[0] + allowance[1]));
        result.events().stream().filter(e -> e instanceof CampaignEntity.AllowanceGranted)
            .map(e -> ((CampaignEntity.AllowanceGranted) e).amountMicros())
            .forEach(amount -> assertTrue(amount >= QUARTER_GRANT, "sliver " + amount));
      }
    }

    // then: the ceiling is out but for less than a quarter grant (no slivers), and asking more grants nothing
    long granted = allowance[0] + allowance[1];
    assertTrue(granted > ceiling - QUARTER_GRANT && granted <= ceiling, "granted " + granted + " of " + ceiling);
    var more = sync(entity, "n1", ++seq[0]);
    assertTrue(more.events().stream().noneMatch(e -> e instanceof CampaignEntity.AllowanceGranted));
    assertEquals(granted, entity.restart().state().nodes().values().stream()
        .mapToLong(CampaignEntity.NodeGrant::allowanceMicros).sum());

    // when: ten seconds later the ceiling has crept up by far less than a quarter grant
    clock.advance(Duration.ofSeconds(10));
    var creep = sync(entity, "n2", ++seq[1]);

    // then: no sliver is granted
    assertTrue(creep.events().stream().noneMatch(e -> e instanceof CampaignEntity.AllowanceGranted));

    // when: an hour later
    clock.advance(Duration.ofHours(1));
    var later = sync(entity, "n1", ++seq[0]);

    // then: the curve has moved and there is more to grant
    assertTrue(later.events().stream().anyMatch(e -> e instanceof CampaignEntity.AllowanceGranted));
    assertTrue(later.reply().getValue().allowanceMicros() > allowance[0]);
  }

  @Test
  void shouldGrantTheWholeBudgetAtSixInTheMorningWhenAsap() {
    // given
    MutableClock clock = new MutableClock(DAY.atTime(6, 0).atZone(TOKYO).toInstant());
    var entity = entity(clock);
    upsert(entity, Pacing.ASAP);
    long total = 0;

    // when: one node asks 25 times (20 grants of 5% cover the budget)
    for (int seq = 1; seq <= 25; seq++) {
      total = sync(entity, "n1", seq).reply().getValue().allowanceMicros();
    }

    // then
    assertEquals(BUDGET, total);
  }

  // ---- helpers ----

  private EventSourcedBehaviorTestKit<CampaignEntity.Command, CampaignEntity.Event, CampaignEntity.State> entity(
      MutableClock clock) {
    CampaignEntity.CatalogPublisher publisher =
        (update, parent) -> CompletableFuture.completedFuture(Done.getInstance());
    return EventSourcedBehaviorTestKit.create(testKit.system(),
        CampaignEntity.create("pace-" + IDS.incrementAndGet(), CampaignEntity.Deps.of(publisher, clock, 0.05, pacing, AdvertiserBudget.UNCAPPED)),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  private static void upsert(
      EventSourcedBehaviorTestKit<CampaignEntity.Command, CampaignEntity.Event, CampaignEntity.State> entity,
      Pacing mode) {
    byte[] definition = Campaign.newBuilder().setCampaignId("pace").setAdvertiserId("adv-1").setName("Pacing")
        .setPricing(Pricing.CPC).setBidMicros(1_000_000).setDailyBudgetMicros(BUDGET).setPacing(mode)
        .addAds(Ad.newBuilder().setAdId("ad-1").setTitle("Hotel One").setHotelId("h1"))
        .setTimeZone(TOKYO.getId()).build().toByteArray();
    var result = entity.<StatusReply<CampaignEntity.Summary>>runCommand(
        replyTo -> new CampaignEntity.Upsert(definition, "adv-1", BUDGET, TOKYO.getId(), replyTo));
    assertTrue(result.reply().isSuccess());
  }

  private static EventSourcedBehaviorTestKit.CommandResultWithReply<CampaignEntity.Command, CampaignEntity.Event,
      CampaignEntity.State, StatusReply<CampaignEntity.Grant>> sync(
      EventSourcedBehaviorTestKit<CampaignEntity.Command, CampaignEntity.Event, CampaignEntity.State> entity,
      String node, long seq) {
    return entity.runCommand(replyTo -> new CampaignEntity.SyncNode(node, DAY.toString(), seq, 0, 0, 0, 0, true,
        replyTo));
  }
}
