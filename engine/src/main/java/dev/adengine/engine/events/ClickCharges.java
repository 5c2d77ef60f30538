package dev.adengine.engine.events;

import dev.adengine.engine.Failures;
import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.persistence.ChargeRepository;
import dev.adengine.persistence.ChargeRepository.Charge;
import dev.adengine.persistence.EventRepository;
import dev.adengine.persistence.EventRepository.StoredEvent;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A CPC click is charged when, and only when, its event is stored: the event's insert-if-absent
 * (a lightweight transaction) is the commit point, and its row in the charge log follows from it.
 * The two are separate writes, so a click can be stored and its charge row not written (the write
 * timed out, the node failed between them, the publisher stopped retrying). This class closes that
 * gap from both ends, writing the idempotent charge row of a stored click:
 *
 * <ul>
 *   <li>{@link #repairLater}: the node that stored the click keeps writing its charge row in the
 *       background, and then books the claim as spend, until the click window ends.
 *   <li>{@link #charged}: the serving node, when an uncommitted claim expires, asks the charge log
 *       and, if the charge row is missing, the events table (at serial consistency, so an insert of
 *       unknown outcome is settled first); a stored click gets its charge row then, and the claim
 *       becomes spend. Only a click that was never stored is released.
 * </ul>
 *
 * Everything is asynchronous; nothing blocks a caller.
 */
public final class ClickCharges implements BudgetLedger.ChargeCheck {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ClickCharges.class);
  /** Background repairs in flight at most; beyond, the serving node's claim check is left to settle it. */
  static final int MAX_PENDING = 2_000;
  private static final long MIN_DELAY_MS = 100;
  private static final long FIRST_DELAY_MS = 500;
  private static final long MAX_DELAY_MS = 4_000;

  private final EventRepository events;
  private final ChargeRepository charges;
  private final String nodeId;
  private final LongSupplier clock;
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicLong repaired = new AtomicLong();

  /**
   * @param nodeId this node's id, the node its own expired claims' charges are booked against
   */
  public ClickCharges(EventRepository events, ChargeRepository charges, String nodeId, LongSupplier clock) {
    this.events = Objects.requireNonNull(events, "events");
    this.charges = Objects.requireNonNull(charges, "charges");
    this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Whether click {@code eventId}, which claimed a reservation of this node, was charged: its charge
   * row is in the log, or its event is stored as a click of the campaign, in which case the charge
   * row is written (booked against this node) before the answer.
   */
  @Override
  public CompletionStage<Boolean> charged(String campaignId, String day, String eventId) {
    String chargeId = Charge.clickId(eventId);
    return charges.exists(campaignId, day, nodeId, chargeId).thenCompose(found -> {
      if (found) {
        return CompletableFuture.completedFuture(true);
      }
      return events.findSerial(eventId).thenCompose(stored -> {
        if (stored.isEmpty() || !isChargedClick(stored.get(), campaignId, -1)) {
          return CompletableFuture.completedFuture(false);
        }
        Charge row = new Charge(campaignId, day, nodeId, chargeId, stored.get().chargedMicros(), "CLICK",
            clock.getAsLong());
        return charges.record(row).thenApply(v -> {
          repaired.incrementAndGet();
          LOG.info("Click {} of campaign {} was stored without its charge row; charge of {} micros written as its"
              + " claim expired", eventId, campaignId, row.amountMicros());
          return true;
        });
      });
    });
  }

  /**
   * Called when storing a CPC click failed somewhere after its claim (the outcome is unknown to
   * the publisher, who may or may not retry): until {@code untilMillis} (the click window's end)
   * this reads the event at serial consistency; if it is stored as this click, writes {@code row}
   * and then runs {@code commit} (the claim becomes spend); if it is not stored, stops. Failed
   * attempts are retried with backoff.
   */
  public void repairLater(Charge row, String eventId, long untilMillis, Runnable commit) {
    if (pending.incrementAndGet() > MAX_PENDING) {
      pending.decrementAndGet();
      LOG.warn("Too many click charges being repaired; click {} of campaign {} is left to its serving node's check",
          eventId, row.campaignId());
      return;
    }
    attempt(row, eventId, untilMillis, commit, FIRST_DELAY_MS);
  }

  /** Background repairs not finished yet. */
  public int pending() {
    return pending.get();
  }

  /** Charge rows this node has written for stored clicks that lacked them (since it started). */
  public long repaired() {
    return repaired.get();
  }

  private void attempt(Charge row, String eventId, long untilMillis, Runnable commit, long delayMs) {
    Executor later = CompletableFuture.delayedExecutor(delayMs, TimeUnit.MILLISECONDS);
    CompletableFuture.supplyAsync(() -> eventId, later)
        .thenCompose(events::findSerial)
        .thenCompose(stored -> {
          if (stored.isEmpty() || !isChargedClick(stored.get(), row.campaignId(), row.amountMicros())) {
            return CompletableFuture.completedFuture(false);
          }
          return charges.record(row).thenApply(v -> true);
        })
        .whenComplete((wrote, err) -> {
          if (err == null) {
            pending.decrementAndGet();
            if (wrote) {
              repaired.incrementAndGet();
              LOG.info("Click {} of campaign {} was stored without its charge row; charge of {} micros written",
                  eventId, row.campaignId(), row.amountMicros());
              commit.run();
            }
          } else if (clock.getAsLong() < untilMillis - MIN_DELAY_MS) {
            long left = untilMillis - clock.getAsLong();
            attempt(row, eventId, untilMillis, commit, Math.max(MIN_DELAY_MS, Math.min(left,
                Math.min(MAX_DELAY_MS, delayMs * 2))));
          } else {
            pending.decrementAndGet();
            LOG.warn("Gave up writing the charge row of click {} of campaign {} at the end of its window ({}); left"
                + " to the serving node's check when its claim expires", eventId, row.campaignId(), Failures.rootName(err));
          }
        });
  }

  /** A stored click of the campaign with a charge ({@code amount} as well, unless negative). */
  private static boolean isChargedClick(StoredEvent e, String campaignId, long amount) {
    return "CLICK".equals(e.type()) && campaignId.equals(e.campaignId()) && e.chargedMicros() > 0
        && (amount < 0 || e.chargedMicros() == amount);
  }
}
