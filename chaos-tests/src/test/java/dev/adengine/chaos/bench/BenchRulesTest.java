package dev.adengine.chaos.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The pure parts of the benchmark: /proc stat parsing and the stop and sustainable-rate rules. */
class BenchRulesTest {

  @Test
  void parsesUtimePlusStimeWhenTheCommandNameHoldsSpacesAndParentheses() {
    String stat = "4242 (java (my) server) S 1 4242 4242 0 -1 4194304 1200 0 3 0 731 269 0 0 20 0 42 0 "
        + "1000 5000000 3000 18446744073709551615 1 1 0 0 0 0 0 4096 17612 0 0 0 17 1 0 0 0 0 0\n";
    assertEquals(731 + 269, ProcCpu.parseTicks(stat));
  }

  @Test
  void parsesAPlainLine() {
    assertEquals(15, ProcCpu.parseTicks("1 (init) S 0 1 1 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 1 0 5 0 0"));
  }

  @Test
  void rejectsALineWithoutCommandOrFields() {
    assertThrows(IllegalArgumentException.class, () -> ProcCpu.parseTicks("garbage"));
    assertThrows(IllegalArgumentException.class, () -> ProcCpu.parseTicks("1 (x) S 0 1"));
  }

  @Test
  void maxSustainableRateIsTheHighestRateWithP99Within50msAndNoErrors() {
    List<StepResult> steps = List.of(
        step(500, 0, 8_000),
        step(1000, 0, 50_000), // exactly at the limit: sustainable
        step(2000, 1, 9_000), // one error: not sustainable
        step(4000, 0, 60_000),
        StepResult.notRun("s", 8000, "not run"));
    assertEquals(OptionalInt.of(1000), BenchRules.maxSustainableRate(steps));
    assertEquals(OptionalInt.empty(), BenchRules.maxSustainableRate(List.of(step(500, 0, 50_001))));
  }

  @Test
  void steppingStopsAboveTenPercentErrorsOrOneSecondP99() {
    assertFalse(BenchRules.stopsStepping(step(1000, 100, 900_000))); // exactly 10%: continue
    assertTrue(BenchRules.stopsStepping(step(1000, 101, 10_000)));
    assertTrue(BenchRules.stopsStepping(step(1000, 0, 1_000_001)));
    assertFalse(BenchRules.stopsStepping(StepResult.notRun("s", 1000, "not run")));
  }

  /** A run step of 1,000 requests with {@code errors} DEADLINE_EXCEEDED. */
  private static StepResult step(int rate, long errors, long p99Micros) {
    Map<String, Long> e = errors == 0 ? Map.of() : Map.of("DEADLINE_EXCEEDED", errors);
    return new StepResult("s", rate, true, "", 10, 1000, 1000 - errors, e, 1000, p99Micros, p99Micros, p99Micros,
        100.0, 2048.0, 300.0, null, Map.of(), null, null);
  }
}
