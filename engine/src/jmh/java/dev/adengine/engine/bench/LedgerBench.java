package dev.adengine.engine.bench;

import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.budget.CampaignLedger;
import dev.adengine.engine.budget.LedgerFixture;
import dev.adengine.engine.catalog.CampaignDef;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * The budget ledger calls the bid path makes, on the real {@link BudgetLedger} and
 * {@link CampaignLedger} (see {@code BidHandler}): the eligibility check per candidate, the CPM
 * charge per win, and the CPC reservation per win plus its conversion when the click arrives.
 *
 * <p>The ledger holds {@value #CAMPAIGNS} funded campaigns. {@code campaigns = same}: every thread
 * works on one campaign (one lock, one cache line); {@code distinct}: each thread cycles over its
 * own contiguous block of the campaigns. Run with 1 and 2 threads (BenchMain does both); with 2
 * threads the score is the average time per operation as each thread sees it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LedgerBench {
  static final int CAMPAIGNS = 1_000;
  static final String DAY = "2024-03-01";
  /** 10^15 micros: a billion currency units, so no charge in a run can exhaust it. */
  static final long ALLOWANCE = 1_000_000_000_000_000L;
  /** A realistic CPM second price in micros per thousand: charges ceil(2,345,678 / 1000) micros. */
  static final long CPM_PRICE = 2_345_678;
  /** A CPC second price in micros. */
  static final long CPC_PRICE = 450_000;
  /** What the check compares the free allowance with ({@code CampaignDef.maxChargeMicros()}). */
  static final long MAX_CHARGE = 500_000;

  @State(Scope.Benchmark)
  public static class Ledger {
    @Param({"same", "distinct"})
    public String campaigns;

    BudgetLedger ledger;
    String[] ids;

    @Setup(Level.Trial)
    public void fund() {
      ledger = new BudgetLedger();
      ids = new String[CAMPAIGNS];
      for (int i = 0; i < CAMPAIGNS; i++) {
        ids[i] = String.format("cmp-%08x-%04d", i * 2654435761L & 0xffffffffL, i);
        LedgerFixture.fund(ledger, ids[i], DAY, ALLOWANCE);
      }
    }

    /** Fails the run if a charge could have failed or a reservation was left open. */
    @TearDown(Level.Iteration)
    public void verify() {
      for (CampaignLedger l : ledger.all()) {
        CampaignLedger.Totals t = l.totals();
        if (t.spent() + t.reserved() > ALLOWANCE / 2) {
          throw new IllegalStateException("allowance nearly used up: " + t);
        }
      }
      if (ledger.openReservations() != 0) {
        throw new IllegalStateException(ledger.openReservations() + " reservations left open");
      }
    }
  }

  /** Per thread: the campaign ids it looks up (fresh String copies, as a catalog update would hold). */
  @State(Scope.Thread)
  public static class Cursor {
    String[] mine;
    String[] requestIds;
    int next;

    @Setup(Level.Trial)
    public void pick(Ledger state, ThreadParams thread) {
      if (state.campaigns.equals("same")) {
        mine = new String[] {new String(state.ids[0])};
      } else {
        // A contiguous block per thread: the ledgers were allocated in id order, so interleaved
        // shares would put neighbouring (cache-line-sharing) ledgers on different threads.
        int n = thread.getThreadCount();
        int k = thread.getThreadIndex();
        int from = CAMPAIGNS * k / n;
        int to = CAMPAIGNS * (k + 1) / n;
        mine = new String[to - from];
        for (int i = 0; i < mine.length; i++) {
          mine[i] = new String(state.ids[from + i]);
        }
      }
      requestIds = new String[1024];
      for (int i = 0; i < requestIds.length; i++) {
        requestIds[i] = "req-" + thread.getThreadIndex() + "-" + i + "-6f1c2e0a9b7d";
      }
    }

    String campaign() {
      String id = mine[next];
      next = next + 1 == mine.length ? 0 : next + 1;
      return id;
    }

    String requestId() {
      return requestIds[next & (requestIds.length - 1)];
    }
  }

  /** Eligibility per candidate: {@code BidHandler} asks each candidate's ledger for its free allowance. */
  @Benchmark
  public boolean check(Ledger s, Cursor c) {
    CampaignLedger l = s.ledger.get(c.campaign());
    return l != null && l.free() >= MAX_CHARGE;
  }

  /** A CPM win: charge the price per impression under the ledger's lock. */
  @Benchmark
  public boolean chargeCpm(Ledger s, Cursor c) {
    CampaignLedger l = s.ledger.get(c.campaign());
    return l != null && l.tryCharge(CampaignDef.ceilDiv(CPM_PRICE, 1000));
  }

  /** A CPC win (reserve the price under (request, ad)) and its click (convert the reservation). */
  @Benchmark
  public boolean reserveAndConvertCpc(Ledger s, Cursor c) {
    String requestId = c.requestId();
    boolean reserved = s.ledger.reserveClick(c.campaign(), requestId, "ad-1", CPC_PRICE, Long.MAX_VALUE);
    return reserved & s.ledger.convertClick(requestId, "ad-1");
  }
}
