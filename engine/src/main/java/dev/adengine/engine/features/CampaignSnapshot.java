package dev.adengine.engine.features;

import dev.adengine.engine.CborSerializable;

/**
 * A campaign's online features and budget state, published by its entity to every node at least
 * once a second. Counts are exponentially decayed (see {@link DecayedCounter}); money is micros.
 *
 * @param publishedAtMillis when the entity published it: a node's snapshot age is now minus this
 */
public record CampaignSnapshot(
    String campaignId,
    String day,
    long dailyBudgetMicros,
    long spentMicros,
    long reservedMicros,
    boolean paused,
    double decayedImpressions,
    double decayedClicks,
    double spendMicrosPerHour,
    long lastEventMillis,
    long publishedAtMillis) implements CborSerializable {

  public long remainingMicros() {
    return Math.max(0, dailyBudgetMicros - spentMicros - reservedMicros);
  }
}
