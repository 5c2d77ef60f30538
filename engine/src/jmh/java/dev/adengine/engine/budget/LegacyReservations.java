package dev.adengine.engine.budget;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Benchmark-only: the open CPC reservations as {@link BudgetLedger} kept them before
 * {@link ReservationBook} (b8334de): a {@code ConcurrentHashMap<String, Reservation>} keyed by
 * {@code requestId + '\0' + adId}, expired by scanning every entry. Kept to measure the old layout's
 * heap per entry and tick cost against the book's; the ledgers are a real {@link BudgetLedger}'s.
 */
public final class LegacyReservations {
  private final BudgetLedger ledgers;
  private final ConcurrentHashMap<String, Reservation> reservations = new ConcurrentHashMap<>();

  public LegacyReservations(BudgetLedger ledgers) {
    this.ledgers = ledgers;
  }

  /** The old record: one per open reservation. */
  public record Reservation(String campaignId, String day, long amountMicros, long expiresAtMillis) {}

  public String reserveClickOnDay(String campaignId, String requestId, String adId, long amountMicros,
      long expiresAtMillis) {
    CampaignLedger ledger = ledgers.get(campaignId);
    if (ledger == null) {
      return null;
    }
    String day;
    synchronized (ledger) {
      if (!ledger.tryReserve(amountMicros)) {
        return null;
      }
      day = ledger.day();
    }
    Reservation previous = reservations.put(requestId + '\u0000' + adId,
        new Reservation(campaignId, day, amountMicros, expiresAtMillis));
    if (previous != null) {
      release(previous);
    }
    return day;
  }

  public boolean convertClick(String requestId, String adId) {
    Reservation r = reservations.remove(requestId + '\u0000' + adId);
    if (r == null) {
      return false;
    }
    CampaignLedger ledger = ledgers.get(r.campaignId());
    return ledger != null && ledger.convert(r.day(), r.amountMicros());
  }

  public int expireReservations(long nowMillis) {
    int released = 0;
    Iterator<Map.Entry<String, Reservation>> it = reservations.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, Reservation> e = it.next();
      if (e.getValue().expiresAtMillis() <= nowMillis && reservations.remove(e.getKey(), e.getValue())) {
        release(e.getValue());
        released++;
      }
    }
    return released;
  }

  public int openReservations() {
    return reservations.size();
  }

  private void release(Reservation r) {
    CampaignLedger ledger = ledgers.get(r.campaignId());
    if (ledger != null) {
      ledger.release(r.day(), r.amountMicros());
    }
  }
}
