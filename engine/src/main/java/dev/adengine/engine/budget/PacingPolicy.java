package dev.adengine.engine.budget;

import dev.adengine.api.v1.Pacing;
import java.time.ZonedDateTime;

/**
 * How fast a campaign's daily budget may be leased out: the most that may have been granted, in
 * total over all nodes, by {@code now} (in the campaign's time zone) on a day with this budget.
 * The campaign entity never grants past {@code min(budget, ceiling)}.
 */
@FunctionalInterface
public interface PacingPolicy {
  long grantCeiling(Pacing mode, long dailyBudgetMicros, ZonedDateTime now);

  /** No pacing: the whole budget may be granted at once (what ASAP means). */
  PacingPolicy NONE = (mode, budget, now) -> budget;
}
