package dev.adengine.engine.budget;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.Pacing;
import java.time.LocalTime;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import dev.adengine.engine.campaign.EntityTestKits;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pacing acceptance: one simulated day ({@link PacingSimulation}, deterministic) through the
 * real entity, pacing policy and ledgers.
 */
class PacingSimulationTest {
  private static ActorTestKit testKit;
  private static Map<String, PacingSimulation.Outcome> outcomes;
  private static final PacingSimulation.Settings SETTINGS = PacingSimulation.Settings.defaults();

  @BeforeAll
  static void simulateADay() {
    testKit = EntityTestKits.start("PacingSimulationTest");
    outcomes = new PacingSimulation(SETTINGS, testKit.system()).run(PacingSimulation.campaigns()).stream()
        .collect(Collectors.toMap(o -> o.spec().id(), Function.identity()));
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldNeverSpendOrLeaseMoreThanTheBudgetWhenSampledEveryStep() {
    for (PacingSimulation.Outcome o : outcomes.values()) {
      assertTrue(o.maxSpentShare() <= 1.0, o.spec().id() + " spent " + o.maxSpentShare());
      assertTrue(o.maxGrantedShare() <= 1.0, o.spec().id() + " leased " + o.maxGrantedShare());
    }
  }

  @Test
  void shouldSpendAtLeast97PercentWhenDemandSuffices() {
    long checked = 0;
    for (PacingSimulation.Outcome o : outcomes.values()) {
      if (PacingSimulation.demandSuffices(o.spec())) {
        checked++;
        assertTrue(o.finalShare() >= 0.97, o.spec().id() + " spent " + o.finalShare());
      } else {
        // then a campaign without the demand spends what demand allows, and is not cut short
        assertTrue(o.exhaustedAt() == null, o.spec().id());
      }
    }
    assertTrue(checked >= 5, "most campaigns have the demand");
  }

  /**
   * Band for EVEN campaigns whose demand exceeds the budget all day: never more than the rule
   * itself allows ahead of the target ({@code headroom} of the whole budget at most, plus the
   * lookahead of the busiest hour, plus one win), and less than one grant share behind it
   * (4 points of the budget with grant-share 0.05): behind by less than the unit the budget is
   * leased in is within the system's resolution. Measured: up to 3.3 points, from the quarter
   * grant the entity holds back under the ceiling and single wins of a small budget (1.25 points
   * each for {@code even-small}).
   */
  @Test
  void shouldStayWithinTheBandAroundTheCurveWhenEvenAndDemandExceedsTheBudgetAllDay() {
    double busiest = 0;
    for (int h = 0; h < 24; h++) {
      busiest = Math.max(busiest, TrafficCurve.TRAVEL.share(h));
    }
    for (String id : List.of("even-large", "even-small", "even-tokyo")) {
      PacingSimulation.Outcome o = outcomes.get(id);
      double win = o.spec().priceMicros() / (double) o.spec().budgetMicros();
      double maxLead = SETTINGS.headroom() + busiest * SETTINGS.lookahead().toMinutes() / 60.0
          * (1 + SETTINGS.headroom()) + win;
      assertTrue(o.maxLead() <= maxLead, id + " ahead by " + o.maxLead() + " > " + maxLead);
      assertTrue(o.maxLag() <= 0.8 * SETTINGS.grantShare(), id + " behind by " + o.maxLag());
    }
  }

  @Test
  void shouldCatchUpWhenDemandWasLowInTheMorning() {
    PacingSimulation.Outcome late = outcomes.get("even-late");
    double atNoon = late.cumulativeShareAtHour()[12];
    double atSix = late.cumulativeShareAtHour()[18];
    assertTrue(atNoon < TrafficCurve.TRAVEL.cumulativeShare(12.0) / 2, "behind at noon: " + atNoon);
    assertTrue(atSix >= TrafficCurve.TRAVEL.cumulativeShare(18.0) - 0.03, "caught up by 18:00: " + atSix);
  }

  @Test
  void shouldExhaustAsapEarlierThanEvenWhenDemandExceedsTheBudget() {
    LocalTime asap = outcomes.get("asap-large").exhaustedAt();
    assertNotNull(asap, "ASAP with 3x demand runs out");
    assertTrue(asap.isBefore(LocalTime.of(15, 0)), "ASAP out at " + asap);
    for (PacingSimulation.Outcome o : outcomes.values()) {
      if (o.spec().pacing() == Pacing.EVEN && o.exhaustedAt() != null) {
        assertTrue(o.exhaustedAt().isAfter(asap), o.spec().id() + " out at " + o.exhaustedAt());
        assertTrue(o.exhaustedAt().isAfter(LocalTime.of(21, 0)), o.spec().id() + " out at " + o.exhaustedAt());
      }
    }
  }
}
