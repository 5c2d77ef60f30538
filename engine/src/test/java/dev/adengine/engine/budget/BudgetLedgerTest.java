package dev.adengine.engine.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BudgetLedgerTest {
  private static final String CAMPAIGN = "camp-1";
  private static final String DAY1 = "2024-03-01";
  private static final String DAY2 = "2024-03-02";

  private final BudgetLedger ledger = new BudgetLedger();

  @Test
  void shouldRefuseChargeWhenItWouldPassTheAllowance() {
    // given
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    CampaignLedger l = ledger.get(CAMPAIGN);

    // when
    boolean first = l.tryCharge(600);
    boolean tooMuch = l.tryCharge(401);
    boolean exact = l.tryCharge(400);
    boolean oneMore = l.tryCharge(1);

    // then
    assertTrue(first);
    assertFalse(tooMuch);
    assertTrue(exact);
    assertFalse(oneMore);
    assertEquals(1_000, l.totals().spent());
    assertEquals(0, l.free());
  }

  @Test
  void shouldRefuseReservationWhenSpentPlusReservedWouldPassTheAllowance() {
    // given
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    ledger.get(CAMPAIGN).tryCharge(300);

    // when
    boolean first = ledger.reserveClick(CAMPAIGN, "r1", "ad", 500, 10_000);
    boolean tooMuch = ledger.reserveClick(CAMPAIGN, "r2", "ad", 201, 10_000);
    boolean exact = ledger.reserveClick(CAMPAIGN, "r3", "ad", 200, 10_000);

    // then
    assertTrue(first);
    assertFalse(tooMuch);
    assertTrue(exact);
    CampaignLedger.Totals t = ledger.get(CAMPAIGN).totals();
    assertEquals(300, t.spent());
    assertEquals(700, t.reserved());
    assertEquals(2, ledger.openReservations());
  }

  @Test
  void shouldRefuseReservationWhenTheCampaignHasNoLedger() {
    // given: no grant ever arrived for the campaign

    // when
    boolean booked = ledger.reserveClick("unknown", "r1", "ad", 1, 10_000);

    // then
    assertFalse(booked);
    assertNull(ledger.get("unknown"));
    assertEquals(0, ledger.openReservations());
  }

  @Test
  void shouldRefuseEverythingWhenNoAllowanceWasGranted() {
    // given
    CampaignLedger l = ledger.getOrCreate(CAMPAIGN);

    // when
    boolean charged = l.tryCharge(1);
    boolean reserved = ledger.reserveClick(CAMPAIGN, "r1", "ad", 1, 10_000);

    // then
    assertFalse(charged);
    assertFalse(reserved);
  }

  @Test
  void shouldMoveReservedToSpentWhenAClickConverts() {
    // given
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    ledger.reserveClick(CAMPAIGN, "r1", "ad-1", 250, 10_000);
    ledger.reserveClick(CAMPAIGN, "r1", "ad-2", 100, 10_000);

    // when
    boolean converted = ledger.convertClick("r1", "ad-1");
    boolean again = ledger.convertClick("r1", "ad-1");

    // then
    assertTrue(converted);
    assertFalse(again, "a reservation converts once");
    CampaignLedger.Totals t = ledger.get(CAMPAIGN).totals();
    assertEquals(250, t.spent());
    assertEquals(100, t.reserved());
    assertEquals(1, ledger.openReservations());
  }

  @Test
  void shouldReleaseOnlyExpiredReservationsWhenExpiring() {
    // given
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    ledger.reserveClick(CAMPAIGN, "early", "ad", 100, 1_000);
    ledger.reserveClick(CAMPAIGN, "edge", "ad", 200, 2_000);
    ledger.reserveClick(CAMPAIGN, "late", "ad", 300, 2_001);

    // when
    int released = ledger.expireReservations(2_000);

    // then
    assertEquals(2, released);
    assertEquals(300, ledger.get(CAMPAIGN).totals().reserved());
    assertEquals(1, ledger.openReservations());
    assertFalse(ledger.convertClick("early", "ad"), "an expired reservation cannot convert");
    assertTrue(ledger.convertClick("late", "ad"));
    assertEquals(300, ledger.get(CAMPAIGN).totals().spent());
  }

  @Test
  void shouldRememberAClickUntilItsReservationWouldHaveExpiredThenForgetIt() {
    // given: two clicked reservations whose windows end at 5,000 and 1,000
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    ledger.reserveClick(CAMPAIGN, "r1", "ad", 100, 5_000);
    ledger.reserveClick(CAMPAIGN, "r2", "ad", 200, 1_000);
    assertEquals(BudgetLedger.Conversion.CONVERTED, ledger.convertClick("r1", "ad", "e1"));
    assertEquals(BudgetLedger.Conversion.CONVERTED, ledger.convertClick("r2", "ad", "e2"));

    // when
    BudgetLedger.Conversion retry = ledger.convertClick("r1", "ad", "e1");
    BudgetLedger.Conversion other = ledger.convertClick("r1", "ad", "e9");
    int released = ledger.expireReservations(4_999);

    // then: r2's outcome is forgotten, r1's is not yet; nothing was open to release
    assertEquals(BudgetLedger.Conversion.CONVERTED, retry);
    assertEquals(BudgetLedger.Conversion.ALREADY_CLICKED, other);
    assertEquals(0, released);
    assertEquals(BudgetLedger.Conversion.NO_RESERVATION, ledger.convertClick("r2", "ad", "e2"));
    assertEquals(BudgetLedger.Conversion.CONVERTED, ledger.convertClick("r1", "ad", "e1"));
    ledger.expireReservations(5_000);
    assertEquals(BudgetLedger.Conversion.NO_RESERVATION, ledger.convertClick("r1", "ad", "e1"));
    CampaignLedger.Totals t = ledger.get(CAMPAIGN).totals();
    assertEquals(300, t.spent());
    assertEquals(0, t.reserved());
    assertEquals(0, ledger.openReservations());
  }

  @Test
  void shouldKeepOneReservationWhenTheSameRequestShowsTheSameAdTwice() {
    // given
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    ledger.reserveClick(CAMPAIGN, "r1", "ad", 400, 10_000);

    // when
    boolean second = ledger.reserveClick(CAMPAIGN, "r1", "ad", 300, 10_000);

    // then
    assertTrue(second);
    assertEquals(300, ledger.get(CAMPAIGN).totals().reserved());
    assertEquals(1, ledger.openReservations());
  }

  @Test
  void shouldResetSpendWhenAGrantForANewDayArrives() {
    // given
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    CampaignLedger l = ledger.get(CAMPAIGN);
    l.tryCharge(600);
    ledger.reserveClick(CAMPAIGN, "r1", "ad", 400, 10_000);
    l.countImpression();
    l.countClick();

    // when
    ledger.applyGrant(CAMPAIGN, DAY2, 500);

    // then
    CampaignLedger.Totals t = l.totals();
    assertEquals(DAY2, t.day());
    assertEquals(500, t.allowance());
    assertEquals(0, t.spent());
    assertEquals(0, t.reserved());
    assertEquals(0, t.impressions());
    assertEquals(0, t.clicks());
    assertEquals(500, l.free());
  }

  @Test
  void shouldNotTouchTheNewDayWhenYesterdaysReservationConvertsOrExpires() {
    // given
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    ledger.reserveClick(CAMPAIGN, "old-click", "ad", 300, 10_000);
    ledger.reserveClick(CAMPAIGN, "old-expiry", "ad", 200, 5_000);
    ledger.applyGrant(CAMPAIGN, DAY2, 1_000);
    ledger.reserveClick(CAMPAIGN, "new", "ad", 100, 10_000);

    // when
    boolean converted = ledger.convertClick("old-click", "ad");
    int released = ledger.expireReservations(5_000);

    // then
    assertFalse(converted);
    assertEquals(1, released);
    CampaignLedger.Totals t = ledger.get(CAMPAIGN).totals();
    assertEquals(0, t.spent());
    assertEquals(100, t.reserved());
  }

  @Test
  void shouldOnlyGrowTheAllowanceWhenGrantsArriveWithinADay() {
    // given
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    CampaignLedger l = ledger.get(CAMPAIGN);
    l.tryCharge(700);

    // when
    ledger.applyGrant(CAMPAIGN, DAY1, 600);
    long afterLower = l.totals().allowance();
    ledger.applyGrant(CAMPAIGN, DAY1, 1_500);
    long afterHigher = l.totals().allowance();

    // then
    assertEquals(1_000, afterLower);
    assertEquals(1_500, afterHigher);
    assertEquals(700, l.totals().spent(), "a grant within the day keeps the spend");
  }

  @Test
  void shouldChangeVersionWhenSpendMovesButNotWhenOnlyAllowanceGrows() {
    // given
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    CampaignLedger l = ledger.get(CAMPAIGN);
    long v0 = l.totals().version();

    // when
    ledger.applyGrant(CAMPAIGN, DAY1, 2_000);
    long v1 = l.totals().version();
    l.tryCharge(10);
    long v2 = l.totals().version();
    l.tryCharge(1_000_000);
    long v3 = l.totals().version();

    // then
    assertEquals(v0, v1);
    assertTrue(v2 > v1);
    assertEquals(v2, v3, "a refused charge is no change");
  }

  @Test
  void shouldNeverPassTheAllowanceAndAccountForEveryMicroWhenEightThreadsCompete() throws Exception {
    // given: an allowance that a background thread keeps raising, as the keeper does
    ledger.applyGrant(CAMPAIGN, DAY1, 200_000);
    CampaignLedger l = ledger.get(CAMPAIGN);
    int threads = 8;
    long runNanos = TimeUnit.MILLISECONDS.toNanos(700);
    ExecutorService pool = Executors.newFixedThreadPool(threads + 2);
    CountDownLatch start = new CountDownLatch(1);
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicReference<String> violation = new AtomicReference<>();
    List<Future<long[]>> workers = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        int thread = t;
        workers.add(pool.submit(() -> {
          start.await();
          long succeeded = 0;
          long attempts = 0;
          long refused = 0;
          ThreadLocalRandom random = ThreadLocalRandom.current();
          while (running.get()) {
            long amount = 1 + random.nextInt(5_000);
            boolean ok = random.nextBoolean()
                ? l.tryCharge(amount)
                : ledger.reserveClick(CAMPAIGN, "req-" + thread + "-" + attempts, "ad", amount, Long.MAX_VALUE);
            attempts++;
            if (ok) {
              succeeded += amount;
            } else {
              refused++;
            }
          }
          return new long[] {succeeded, refused};
        }));
      }
      pool.submit(() -> {
        start.await();
        long allowance = 200_000;
        while (running.get()) {
          allowance += 50_000;
          ledger.applyGrant(CAMPAIGN, DAY1, allowance);
          Thread.onSpinWait();
          TimeUnit.MILLISECONDS.sleep(5);
        }
        return null;
      });
      pool.submit(() -> {
        start.await();
        while (running.get()) {
          CampaignLedger.Totals t = l.totals();
          if (t.spent() + t.reserved() > t.allowance()) {
            violation.compareAndSet(null, t.toString());
          }
        }
        return null;
      });

      // when
      start.countDown();
      long deadline = System.nanoTime() + runNanos;
      while (System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(10);
      }
      running.set(false);
      long succeeded = 0;
      long refused = 0;
      for (Future<long[]> f : workers) {
        long[] r = f.get(10, TimeUnit.SECONDS);
        succeeded += r[0];
        refused += r[1];
      }

      // then
      CampaignLedger.Totals t = l.totals();
      assertNull(violation.get(), "spent + reserved passed the allowance in a snapshot");
      assertTrue(t.spent() + t.reserved() <= t.allowance(), t.toString());
      assertEquals(succeeded, t.spent() + t.reserved(), "every successful micro is in the ledger, once");
      assertTrue(refused > 0, "the allowance must have run out at least once, or the test proves nothing");
      assertTrue(t.spent() > 0 && t.reserved() > 0, t.toString());
    } finally {
      running.set(false);
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void shouldLeaveNothingReservedWhenEveryReservationExpiresAcrossConcurrentDayRollovers() throws Exception {
    // given: in each round two threads reserve while a grant for a new day arrives
    ledger.applyGrant(CAMPAIGN, "day-0", Long.MAX_VALUE / 4);
    int rounds = 3_000;
    java.util.concurrent.CyclicBarrier barrier = new java.util.concurrent.CyclicBarrier(3);
    AtomicLong counter = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<?>> reservers = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        reservers.add(pool.submit(() -> {
          for (int round = 0; round < rounds; round++) {
            barrier.await();
            for (int i = 0; i < 20; i++) {
              ledger.reserveClick(CAMPAIGN, "req-" + counter.incrementAndGet(), "ad", 1, 0);
            }
            barrier.await();
          }
          return null;
        }));
      }
      for (int round = 1; round <= rounds; round++) {
        barrier.await(10, TimeUnit.SECONDS);
        // when
        ledger.applyGrant(CAMPAIGN, "day-" + round, Long.MAX_VALUE / 4);
        barrier.await(10, TimeUnit.SECONDS);
        ledger.expireReservations(1);

        // then: each reservation was released against the day it was taken from
        assertEquals(0, ledger.get(CAMPAIGN).totals().reserved(), "a reservation leaked into day-" + round);
      }
      assertEquals(0, ledger.openReservations());
      for (Future<?> f : reservers) {
        f.get(10, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void shouldRefuseToSpendWhenTheLeaseHasRunOut() {
    // given a node whose grant is leased until t=1,000
    long[] now = {0};
    BudgetLedger leased = new BudgetLedger(() -> now[0]);
    leased.applyGrant(CAMPAIGN, DAY1, 1_000, 1_000);
    CampaignLedger l = leased.get(CAMPAIGN);
    assertTrue(l.tryCharge(100));
    assertEquals(900, l.free());
    // when the lease runs out without a renewal
    now[0] = 1_000;
    // then nothing can be spent, and the free allowance reads 0
    assertFalse(l.tryCharge(1));
    assertFalse(leased.reserveClick(CAMPAIGN, "r", "a", 1, 5_000));
    assertEquals(0, l.free());
    // and a renewed lease makes the same allowance spendable again
    leased.applyGrant(CAMPAIGN, DAY1, 1_000, 2_000);
    assertTrue(l.tryCharge(1));
  }

  @Test
  void shouldTakeBackOnlyAFragmentSmallerThanOneWin() {
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    CampaignLedger l = ledger.get(CAMPAIGN);
    assertEquals(0, l.takeBackFragment(300), "700 free is more than one win of 300");
    assertTrue(l.tryCharge(800));
    assertEquals(200, l.takeBackFragment(300));
    assertEquals(0, l.free());
    assertEquals(800, l.totals().allowance());
    assertEquals(0, l.takeBackFragment(300), "nothing left to give back");
  }

  @Test
  void shouldKeepOneWinAndTakeBackTheRestWhenIdle() {
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    CampaignLedger l = ledger.get(CAMPAIGN);
    assertTrue(l.tryCharge(100));
    assertEquals(600, l.takeBackAbove(300), "900 free, 300 kept");
    assertEquals(300, l.free());
    assertEquals(400, l.totals().allowance());
    assertEquals(0, l.takeBackAbove(300));
  }

  @Test
  void shouldKeepAClaimedReservationReservedUntilItsChargeIsCommitted() {
    // given a reservation claimed by a click whose charge is not stored yet
    ledger.applyGrant(CAMPAIGN, DAY1, 1_000);
    ledger.reserveClick(CAMPAIGN, "r1", "ad", 250, 10_000);
    assertEquals(BudgetLedger.Conversion.CONVERTED, ledger.claimClick("r1", "ad", "e1"));

    // then its money is still reserved, not spent, and the claim is idempotent
    assertEquals(0, ledger.get(CAMPAIGN).totals().spent());
    assertEquals(250, ledger.get(CAMPAIGN).totals().reserved());
    assertEquals(BudgetLedger.Conversion.CONVERTED, ledger.claimClick("r1", "ad", "e1"));
    assertEquals(BudgetLedger.Conversion.ALREADY_CLICKED, ledger.claimClick("r1", "ad", "e2"));
    assertFalse(ledger.commitClick("r1", "ad", "e2"), "another event holds no claim");

    // when the charge is stored and the claim committed (twice: a retried click)
    assertTrue(ledger.commitClick("r1", "ad", "e1"));
    assertFalse(ledger.commitClick("r1", "ad", "e1"));

    // then it is spend, once
    assertEquals(250, ledger.get(CAMPAIGN).totals().spent());
    assertEquals(0, ledger.get(CAMPAIGN).totals().reserved());
    ledger.expireReservations(10_000);
    assertEquals(250, ledger.get(CAMPAIGN).totals().spent());
    assertEquals(0, ledger.get(CAMPAIGN).totals().reserved());
  }

  @Test
  void shouldSettleAnUncommittedClaimFromTheChargeLogWhenItsWindowEnds() {
    // given a charge log in which e1's charge is stored (its commit was lost), e2's is not (its store
    // failed), and e3's cannot be read at first
    java.util.Map<String, Boolean> log = new java.util.concurrent.ConcurrentHashMap<>(
        java.util.Map.of("e1", true, "e2", false));
    AtomicBoolean readable = new AtomicBoolean(false);
    BudgetLedger l = new BudgetLedger(System::currentTimeMillis, (campaign, day, eventId) -> {
      assertEquals(CAMPAIGN, campaign);
      assertEquals(DAY1, day);
      if (eventId.equals("e3") && !readable.get()) {
        return java.util.concurrent.CompletableFuture.failedFuture(new IllegalStateException("store down"));
      }
      return java.util.concurrent.CompletableFuture.completedFuture(log.getOrDefault(eventId, false));
    });
    l.applyGrant(CAMPAIGN, DAY1, 1_000);
    l.reserveClick(CAMPAIGN, "r1", "ad", 100, 5_000);
    l.reserveClick(CAMPAIGN, "r2", "ad", 200, 5_000);
    l.reserveClick(CAMPAIGN, "r3", "ad", 300, 5_000);
    l.claimClick("r1", "ad", "e1");
    l.claimClick("r2", "ad", "e2");
    l.claimClick("r3", "ad", "e3");
    l.expireReservations(4_999);
    assertEquals(0, l.get(CAMPAIGN).totals().spent());
    assertEquals(600, l.get(CAMPAIGN).totals().reserved());

    // when their windows end
    l.expireReservations(5_000);

    // then the charged claim is spend, the uncharged one released, the unreadable one still held
    assertEquals(100, l.get(CAMPAIGN).totals().spent());
    assertEquals(300, l.get(CAMPAIGN).totals().reserved());
    assertEquals(1, l.unresolvedClaims());

    // and once the charge log can be read (e3 was charged after all), it is spend too
    log.put("e3", true);
    readable.set(true);
    l.expireReservations(6_000);
    assertEquals(400, l.get(CAMPAIGN).totals().spent());
    assertEquals(0, l.get(CAMPAIGN).totals().reserved());
    assertEquals(0, l.unresolvedClaims());
    assertEquals(BudgetLedger.Conversion.NO_RESERVATION, l.claimClick("r1", "ad", "e1"), "forgotten once settled");
  }
}
