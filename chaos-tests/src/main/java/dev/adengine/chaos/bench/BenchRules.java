package dev.adengine.chaos.bench;

import java.util.List;
import java.util.OptionalInt;

/**
 * The two judgements the benchmark makes from a step's figures: when to stop raising the rate for
 * a server (it is already overloaded, higher rates would only queue), and the highest rate it
 * sustains (p99 within the engine's latency budget, no errors).
 */
public final class BenchRules {
  /** A step with more errors than this share stops the stepping. */
  public static final double STOP_ERROR_RATIO = 0.10;
  /** A step with a p99 above this stops the stepping. */
  public static final long STOP_P99_MICROS = 1_000_000;
  /** The p99 a sustainable rate must stay within. */
  public static final long SUSTAINABLE_P99_MICROS = 50_000;

  private BenchRules() {}

  /** True when no higher rate should be tried after {@code step}: over 10% errors or p99 over 1 s. */
  public static boolean stopsStepping(StepResult step) {
    return step.run() && (step.errorRatio() > STOP_ERROR_RATIO || step.p99Micros() > STOP_P99_MICROS);
  }

  /** True when the step was run, sent requests, had no error and a p99 of at most 50 ms. */
  public static boolean sustainable(StepResult step) {
    return step.run() && step.sent() > 0 && step.errorCount() == 0 && step.p99Micros() <= SUSTAINABLE_P99_MICROS;
  }

  /** The highest rate among {@code steps} (one server's) that was sustainable; empty if none was. */
  public static OptionalInt maxSustainableRate(List<StepResult> steps) {
    return steps.stream().filter(BenchRules::sustainable).mapToInt(StepResult::rate).max();
  }
}
