package dev.adengine.engine.budget;

/**
 * Benchmark and test access to the package-private grant path: the same call {@link AllowanceKeeper}
 * makes when a campaign entity answers a sync. Lives in the ledger's package (as its tests do) so
 * the benchmarks fund real ledgers without widening production visibility.
 */
public final class LedgerFixture {
  private LedgerFixture() {}

  /** Creates (or tops up) {@code campaignId}'s ledger with {@code allowanceMicros} for {@code day}. */
  public static CampaignLedger fund(BudgetLedger ledger, String campaignId, String day, long allowanceMicros) {
    ledger.applyGrant(campaignId, day, allowanceMicros);
    return ledger.get(campaignId);
  }
}
