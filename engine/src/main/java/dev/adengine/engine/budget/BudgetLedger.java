package dev.adengine.engine.budget;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * This node's budget ledgers, one per campaign, plus the open CPC reservations that a click may
 * still convert into spend. Read and updated by the bid path and the event path without waiting on
 * any actor; synced with the campaign entities by {@link AllowanceKeeper} in the background.
 *
 * <p>The open reservations live in a {@link ReservationBook} (~55 bytes each, millions of them at
 * full traffic), which names each one's campaign and day by an index into {@link #campaigns} and
 * {@link #days}; expiring them costs what expires, not what is open.
 */
public final class BudgetLedger {
  private final ConcurrentHashMap<String, CampaignLedger> ledgers = new ConcurrentHashMap<>();
  /** Every ledger by its {@link CampaignLedger#index()}: grow-only, as {@link #ledgers} is. */
  private final InternTable<CampaignLedger> campaigns = new InternTable<>();
  /** The budget days that reservations were taken from. */
  private final InternTable<String> days = new InternTable<>();
  private final ReservationBook reservations = new ReservationBook();
  private final LongSupplier clock;
  /**
   * Reservations converted by a click, remembered (by click event id) until they would have expired;
   * about 2% of reservations. Guarded by itself, as is {@link #convertedByExpiry}.
   */
  private final Map<String, Converted> converted = new HashMap<>();
  /** The same entries by {@code keepUntilMillis}, so forgetting them costs what is forgotten. */
  private final PriorityQueue<Converted> convertedByExpiry =
      new PriorityQueue<>(Comparator.comparingLong(Converted::keepUntilMillis));

  public BudgetLedger() {
    this(System::currentTimeMillis);
  }

  /** {@code clock}: epoch millis, against which each campaign's lease is checked. */
  public BudgetLedger(LongSupplier clock) {
    this.clock = clock;
  }

  public CampaignLedger get(String campaignId) {
    return ledgers.get(campaignId);
  }

  public CampaignLedger getOrCreate(String campaignId) {
    return ledgers.computeIfAbsent(campaignId, id -> campaigns.add(index -> new CampaignLedger(id, clock, index)));
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
    ReservationBook.Entry previous = reservations.put(ReservationBook.key(requestId, adId), ledger.index(),
        days.intern(day), amountMicros, expiresAtMillis);
    if (previous != null) {
      // The same request id showed the same ad twice: keep one reservation, release the other.
      release(previous);
    }
    return day;
  }

  /** A click arrived for (request, ad): converts its reservation into spend. False if none is open. */
  public boolean convertClick(String requestId, String adId) {
    ReservationBook.Entry r = reservations.remove(ReservationBook.key(requestId, adId));
    if (r == null) {
      return false;
    }
    return campaigns.get(r.campaign()).convert(days.get(r.day()), r.amountMicros());
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
      ReservationBook.Entry r = reservations.remove(ReservationBook.key(requestId, adId));
      if (r == null) {
        return Conversion.NO_RESERVATION;
      }
      campaigns.get(r.campaign()).convert(days.get(r.day()), r.amountMicros());
      Converted remembered = new Converted(key, eventId, r.expiresAtMillis());
      converted.put(key, remembered);
      convertedByExpiry.add(remembered);
      return Conversion.CONVERTED;
    }
  }

  private record Converted(String key, String eventId, long keepUntilMillis) {}

  /**
   * Releases every reservation whose click window has ended ({@code expiresAtMillis <= nowMillis});
   * returns how many. Costs O(released + segments), plus O(log n) per forgotten conversion.
   */
  public int expireReservations(long nowMillis) {
    synchronized (converted) {
      Converted c;
      while ((c = convertedByExpiry.peek()) != null && c.keepUntilMillis() <= nowMillis) {
        convertedByExpiry.poll();
        converted.remove(c.key(), c);
      }
    }
    return reservations.expire(nowMillis, this::release);
  }

  /** CPC reservations open on this node: O(1) (a sum over the book's segments). */
  public int openReservations() {
    return reservations.size();
  }

  /** Bytes held by the reservation book's arrays (for measurement). */
  long reservationFootprintBytes() {
    return reservations.footprintBytes();
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

  private void release(ReservationBook.Entry r) {
    release(r.campaign(), r.day(), r.amountMicros());
  }

  private void release(int campaign, int day, long amountMicros) {
    campaigns.get(campaign).release(days.get(day), amountMicros);
  }

  private static String key(String requestId, String adId) {
    return requestId + '\u0000' + adId;
  }
}
