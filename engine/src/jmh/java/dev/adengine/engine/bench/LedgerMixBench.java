package dev.adengine.engine.bench;

import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.budget.CampaignLedger;
import dev.adengine.engine.budget.LedgerFixture;
import dev.adengine.engine.catalog.CampaignDef;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The bid path's two ledger calls at once: one thread checks eligibility (as every request does
 * for every candidate) while another charges CPM wins, on the same campaign ({@code same}) or on
 * two different ones ({@code distinct}). Both calls take the {@link CampaignLedger}'s monitor, so a
 * read-only check waits for a charge on the same campaign.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Group)
public class LedgerMixBench {
  @Param({"same", "distinct"})
  public String campaigns;

  BudgetLedger ledger;
  String checked;
  String charged;

  @Setup(Level.Trial)
  public void fund() {
    ledger = new BudgetLedger();
    String[] ids = new String[LedgerBench.CAMPAIGNS];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = String.format("cmp-%08x-%04d", i * 2654435761L & 0xffffffffL, i);
      LedgerFixture.fund(ledger, ids[i], LedgerBench.DAY, LedgerBench.ALLOWANCE);
    }
    checked = new String(ids[0]);
    charged = new String(campaigns.equals("same") ? ids[0] : ids[1]);
  }

  @Benchmark
  @Group("checkWhileCharging")
  @GroupThreads(1)
  public boolean check() {
    CampaignLedger l = ledger.get(checked);
    return l != null && l.free() >= LedgerBench.MAX_CHARGE;
  }

  @Benchmark
  @Group("checkWhileCharging")
  @GroupThreads(1)
  public boolean charge() {
    CampaignLedger l = ledger.get(charged);
    return l != null && l.tryCharge(CampaignDef.ceilDiv(LedgerBench.CPM_PRICE, 1000));
  }
}
