package dev.adengine.engine.bench;

import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.budget.LedgerFixture;
import dev.adengine.engine.budget.LegacyReservations;
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

/**
 * CPC reservations at a steady open count: each operation reserves one (a CPC win) and, every
 * {@value #PER_TICK} operations, the keeper's expiry runs and releases the {@value #PER_TICK}
 * whose window has ended (1,000 requests/s x 2.5 CPC ads x one 200 ms tick). Time runs in
 * operations: a reservation made at operation i expires at i + open, so {@code open} stay open.
 *
 * <p>{@code layout = book}: {@link BudgetLedger} with its {@code ReservationBook}, whose expiry
 * costs what expires. {@code layout = map}: the ConcurrentHashMap it replaced
 * ({@link LegacyReservations}), whose expiry scans every open reservation, so its cost per
 * operation grows with {@code open}. At 4.6 million open (a node at 1,000 requests/s) the map
 * does not fit a 1 GB heap at all; see {@code ReservationFootprint} for the heap per entry.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ReservationBench {
  static final int PER_TICK = 500;
  static final int CAMPAIGNS = 1_000;
  static final String DAY = "2026-11-29";
  static final long ALLOWANCE = 1_000_000_000_000_000L;
  static final long CPC_PRICE = 450_000;
  /** 26 chars: with the counter, request ids as long as a UUID's. */
  static final String REQUEST_PREFIX = "6f1c2e0a-9b7d-4c1e-8a2b-";

  @State(Scope.Benchmark)
  public static class Book {
    @Param({"book", "map"})
    public String layout;

    @Param({"100000", "1000000"})
    public int open;

    BudgetLedger ledger;
    LegacyReservations legacy;
    String[] campaigns;
    long next;

    @Setup(Level.Trial)
    public void fill() {
      ledger = new BudgetLedger();
      legacy = layout.equals("map") ? new LegacyReservations(ledger) : null;
      campaigns = new String[CAMPAIGNS];
      for (int i = 0; i < CAMPAIGNS; i++) {
        campaigns[i] = String.format("cmp-%08x-%04d", i * 2654435761L & 0xffffffffL, i);
        LedgerFixture.fund(ledger, campaigns[i], DAY, ALLOWANCE);
      }
      for (next = 0; next < open; next++) {
        reserve(next);
      }
    }

    boolean reserve(long i) {
      String requestId = REQUEST_PREFIX + (100_000_000_000L + i);
      String adId = "ad-" + (100_000 + i % 5_000);
      String campaign = campaigns[(int) (i % CAMPAIGNS)];
      return legacy == null
          ? ledger.reserveClickOnDay(campaign, requestId, adId, CPC_PRICE, i + open) != null
          : legacy.reserveClickOnDay(campaign, requestId, adId, CPC_PRICE, i + open) != null;
    }

    int expire(long now) {
      return legacy == null ? ledger.expireReservations(now) : legacy.expireReservations(now);
    }
  }

  /** One CPC reservation, plus 1/{@value #PER_TICK} of a keeper tick's expiry. */
  @Benchmark
  public int reserveAndExpire(Book s) {
    long i = s.next++;
    boolean reserved = s.reserve(i);
    int released = i % PER_TICK == 0 ? s.expire(i) : 0;
    return released + (reserved ? 1 : 0);
  }
}
