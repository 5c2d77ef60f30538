package dev.adengine.engine.testing;

import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.budget.LedgerFixture;
import dev.adengine.engine.catalog.CampaignEntry;
import dev.adengine.engine.catalog.Catalog;
import dev.adengine.engine.catalog.CatalogFixture;
import dev.adengine.engine.catalog.CatalogSnapshot;
import dev.adengine.engine.sim.ClickLogGenerator;
import dev.adengine.engine.sim.Market;
import dev.adengine.engine.sim.MarketGenerator;
import java.time.LocalDate;

/**
 * A bid handler's local state without a cluster, for benchmarks and tests of the bid path: the
 * simulator's market (seed 42) as a published catalog snapshot, and a ledger that funds every
 * campaign far beyond what a run spends, for {@code today}.
 */
public record ServingFixture(Market market, CatalogSnapshot snapshot, Catalog catalog, BudgetLedger ledger,
    LocalDate today) {

  public static ServingFixture of(int campaigns, LocalDate today) {
    Market market = new MarketGenerator(42, campaigns, today).generate();
    CatalogSnapshot snapshot = ClickLogGenerator.snapshot(market);
    Catalog catalog = CatalogFixture.of(snapshot);
    BudgetLedger ledger = new BudgetLedger();
    for (CampaignEntry e : snapshot.campaigns().values()) {
      LedgerFixture.fund(ledger, e.def().campaignId(), today.toString(), 1_000_000_000_000L);
    }
    return new ServingFixture(market, snapshot, catalog, ledger, today);
  }
}
