package dev.adengine.engine.budget;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * This node's budget ledgers, one per campaign, plus the open CPC reservations that a click may
 * still convert into spend. Read and updated by the bid path and the event path without waiting on
 * any actor; synced with the campaign entities by {@link AllowanceKeeper} in the background.
 */
public final class BudgetLedger {
  private final ConcurrentHashMap<String, CampaignLedger> ledgers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Reservation> reservations = new ConcurrentHashMap<>();
  private final LongSupplier clock;
  /** Reservations converted by a click, remembered (by click event id) until they would have expired. */
  private final Map<String, Converted> converted = new java.util.HashMap<>();

  public BudgetLedger() {
    this(System::currentTimeMillis);
  }

  /** {@code clock}: epoch millis, against which each campaign's lease is checked. */
  public BudgetLedger(LongSupplier clock) {
    this.clock = clock;
  }

  /** An open CPC reservation, released at {@code expiresAtMillis} unless a click converts it first. */
  public record Reservation(String campaignId, String day, long amountMicros, long expiresAtMillis) {}

  public CampaignLedger get(String campaignId) {
    return ledgers.get(campaignId);
  }

  public CampaignLedger getOrCreate(String campaignId) {
    return ledgers.computeIfAbsent(campaignId, id -> new CampaignLedger(id, clock));
  }

  /** Reserves a CPC win's price and remembers it under (request, ad) until its click window ends. */
  public boolean reserveClick(String campaignId, String requestId, String adId, long amountMicros,
      long expiresAtMillis) {
    return reserveClickOnDay(campaignId, requestId, adId, amountMicros, expiresAtMillis) != null;
  }

  /** Charges a CPM win now; returns the budget day it was charged to, or null if not affordable. */
  public String chargeOnDay(String campaignId, long amountMicros) {
    CampaignLedger ledger = ledgers.get(campaignId);
    if (ledger == null) {
      return null;
    }
    synchronized (ledger) {
      return ledger.tryCharge(amountMicros) ? ledger.day() : null;
    }
  }

  /** As {@link #reserveClick}; returns the budget day the reservation belongs to, or null if refused. */
  public String reserveClickOnDay(String campaignId, String requestId, String adId, long amountMicros,
      long expiresAtMillis) {
    CampaignLedger ledger = ledgers.get(campaignId);
    if (ledger == null) {
      return null;
    }
    String day;
    // Read the day under the ledger's lock with the reservation: a grant for a new day between the
    // two would tag a reservation of the new day with the old one, and it would never be released.
    synchronized (ledger) {
      if (!ledger.tryReserve(amountMicros)) {
        return null;
      }
      day = ledger.day();
    }
    Reservation previous = reservations.put(key(requestId, adId),
        new Reservation(campaignId, day, amountMicros, expiresAtMillis));
    if (previous != null) {
      // The same request id showed the same ad twice: keep one reservation, release the other.
      release(previous);
    }
    return day;
  }

  /** A click arrived for (request, ad): converts its reservation into spend. False if none is open. */
  public boolean convertClick(String requestId, String adId) {
    Reservation r = reservations.remove(key(requestId, adId));
    if (r == null) {
      return false;
    }
    CampaignLedger ledger = ledgers.get(r.campaignId());
    return ledger != null && ledger.convert(r.day(), r.amountMicros());
  }

  /** What {@link #convertClick(String, String, String)} did. */
  public enum Conversion {
    /** This click event converted the reservation (now, or on an earlier attempt). */
    CONVERTED,
    /** Another click event already converted it: one impression is charged one click. */
    ALREADY_CLICKED,
    /** No reservation: never reserved here, or released when its click window ended. */
    NO_RESERVATION
  }

  /**
   * Converts the reservation of (request, ad) into spend for click {@code eventId}, idempotently:
   * the same event converts once however often it asks; the outcome is remembered until the
   * reservation would have expired.
   */
  public Conversion convertClick(String requestId, String adId, String eventId) {
    String key = key(requestId, adId);
    synchronized (converted) {
      Converted done = converted.get(key);
      if (done != null) {
        return done.eventId().equals(eventId) ? Conversion.CONVERTED : Conversion.ALREADY_CLICKED;
      }
      Reservation r = reservations.remove(key);
      if (r == null) {
        return Conversion.NO_RESERVATION;
      }
      CampaignLedger ledger = ledgers.get(r.campaignId());
      if (ledger != null) {
        ledger.convert(r.day(), r.amountMicros());
      }
      converted.put(key, new Converted(eventId, r.expiresAtMillis()));
      return Conversion.CONVERTED;
    }
  }

  private record Converted(String eventId, long keepUntilMillis) {}

  /** Releases every reservation whose click window has ended; returns how many. */
  public int expireReservations(long nowMillis) {
    synchronized (converted) {
      converted.values().removeIf(c -> c.keepUntilMillis() <= nowMillis);
    }
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

  public List<CampaignLedger> all() {
    return new ArrayList<>(ledgers.values());
  }

  void applyGrant(String campaignId, String day, long allowance) {
    getOrCreate(campaignId).applyGrant(day, allowance, Long.MAX_VALUE);
  }

  /** Applies the entity's grant and lease: the node may spend the grant until {@code leaseUntilMillis}. */
  void applyGrant(String campaignId, String day, long allowance, long leaseUntilMillis) {
    getOrCreate(campaignId).applyGrant(day, allowance, leaseUntilMillis);
  }

  private void release(Reservation r) {
    CampaignLedger ledger = ledgers.get(r.campaignId());
    if (ledger != null) {
      ledger.release(r.day(), r.amountMicros());
    }
  }

  private static String key(String requestId, String adId) {
    return requestId + '\u0000' + adId;
  }
}
