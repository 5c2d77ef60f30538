package dev.adengine.engine.budget;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Locale;

/**
 * Benchmark-only: the heap each open CPC reservation retains and the cost of one keeper tick, for
 * {@link BudgetLedger}'s {@link ReservationBook} ({@code book}) or the map it replaced
 * ({@code map}, {@link LegacyReservations}). Fills {@code n} reservations (default 4.6 million: a
 * node at 1,000 requests/s x 2.5 CPC ads x a 31-minute window), measures used heap after full GCs
 * before and after, then runs keeper ticks at that steady state: {@value #PER_TICK} new reservations
 * and one expiry releasing the {@value #PER_TICK} due, timing the expiry.
 *
 * <p>Run one layout per JVM, e.g. {@code java -Xmx3g -XX:+UseParallelGC -cp ...
 * dev.adengine.engine.budget.ReservationFootprint 4600000 map}.
 */
public final class ReservationFootprint {
  static final int PER_TICK = 500;
  static final int CAMPAIGNS = 1_000;
  static final String REQUEST_PREFIX = "6f1c2e0a-9b7d-4c1e-8a2b-";

  private ReservationFootprint() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 4_600_000;
    String layout = args.length > 1 ? args[1] : "book";
    int ticks = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    BudgetLedger ledger = new BudgetLedger();
    String[] campaigns = new String[CAMPAIGNS];
    for (int i = 0; i < CAMPAIGNS; i++) {
      campaigns[i] = String.format("cmp-%08x-%04d", i * 2654435761L & 0xffffffffL, i);
      ledger.applyGrant(campaigns[i], "2026-11-29", Long.MAX_VALUE / 2);
    }
    LegacyReservations legacy = layout.equals("map") ? new LegacyReservations(ledger) : null;
    Reserver reserve = legacy == null
        ? (c, r, a, amount, exp) -> ledger.reserveClickOnDay(c, r, a, amount, exp) != null
        : (c, r, a, amount, exp) -> legacy.reserveClickOnDay(c, r, a, amount, exp) != null;
    java.util.function.LongToIntFunction expire = legacy == null
        ? ledger::expireReservations : legacy::expireReservations;

    long before = usedAfterGc();
    long t0 = System.nanoTime();
    for (long i = 0; i < n; i++) {
      reserve(reserve, campaigns, i, n);
    }
    long fillNanos = System.nanoTime() - t0;
    long after = usedAfterGc();
    int open = legacy == null ? ledger.openReservations() : legacy.openReservations();
    System.out.printf(Locale.ROOT, "%s: %,d open; heap %,d -> %,d bytes: %.1f bytes per entry; fill %.0f ns each%n",
        layout, open, before, after, (after - before) / (double) n, fillNanos / (double) n);
    if (legacy == null) {
      System.out.printf(Locale.ROOT, "book arrays: %.1f bytes per entry%n",
          ledger.reservationFootprintBytes() / (double) n);
    }

    // Steady state: per tick PER_TICK reservations in, one expiry releasing the PER_TICK due.
    long next = n;
    long expireNanos = 0;
    long reserveNanos = 0;
    long released = 0;
    for (int tick = -ticks / 2; tick < ticks; tick++) {
      long r0 = System.nanoTime();
      for (int k = 0; k < PER_TICK; k++) {
        reserve(reserve, campaigns, next++, n);
      }
      long e0 = System.nanoTime();
      int out = expire.applyAsInt(next - 1);
      long e1 = System.nanoTime();
      if (tick >= 0) {
        reserveNanos += e0 - r0;
        expireNanos += e1 - e0;
        released += out;
      }
    }
    System.out.printf(Locale.ROOT,
        "%s: per tick (%d in, %.0f released): expiry %.1f us; reserve %.0f ns each; open %,d%n",
        layout, PER_TICK, released / (double) ticks, expireNanos / 1e3 / ticks,
        reserveNanos / (double) ticks / PER_TICK,
        legacy == null ? ledger.openReservations() : legacy.openReservations());
  }

  private interface Reserver {
    boolean reserve(String campaign, String requestId, String adId, long amount, long expiresAt);
  }

  private static void reserve(Reserver r, String[] campaigns, long i, long window) {
    if (!r.reserve(campaigns[(int) (i % CAMPAIGNS)], REQUEST_PREFIX + (100_000_000_000L + i),
        "ad-" + (100_000 + i % 5_000), 450_000, i + window)) {
      throw new IllegalStateException("reservation " + i + " refused");
    }
  }

  private static long usedAfterGc() throws InterruptedException {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return memory.getHeapMemoryUsage().getUsed();
  }
}
