package dev.adengine.engine.budget;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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
  /** Micros booked as spend by this node since it started: CPM wins, and CPC reservations a click converted. */
  private final java.util.concurrent.atomic.LongAdder cpmSpent = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder cpcSpent = new java.util.concurrent.atomic.LongAdder();
  /**
   * Reservations claimed by a click, remembered (by click event id) until they would have expired;
   * about 2% of reservations. A claim's money stays reserved until the click's charge is durable
   * ({@link #commitClick}), then it is spend. Guarded by itself, as is {@link #claimsByExpiry}.
   */
  private final Map<String, Claim> claims = new HashMap<>();
  /** The same entries by {@code keepUntilMillis}, so forgetting them costs what is forgotten. */
  private final PriorityQueue<Claim> claimsByExpiry =
      new PriorityQueue<>(Comparator.comparingLong(Claim::keepUntilMillis));
  /** Claims past their expiry whose charge was never confirmed: resolved against the charge log. */
  private final List<Claim> unresolved = new ArrayList<>();
  private final ChargeCheck chargeCheck;

  /**
   * Tells whether a click's charge is durable in the charge log (booked against this node). Used
   * for a claim whose commit never came: the node that accepted the click failed to store it, or
   * died, or its commit message was lost. Must not block; fails when it cannot tell now.
   */
  @FunctionalInterface
  public interface ChargeCheck {
    CompletionStage<Boolean> charged(String campaignId, String day, String eventId);

    /** For ledgers without a charge log (tests): a claim never committed was never charged. */
    ChargeCheck NONE = (c, d, e) -> CompletableFuture.completedFuture(false);
  }

  public BudgetLedger() {
    this(System::currentTimeMillis);
  }

  /** {@code clock}: epoch millis, against which each campaign's lease is checked. */
  public BudgetLedger(LongSupplier clock) {
    this(clock, ChargeCheck.NONE);
  }

  public BudgetLedger(LongSupplier clock, ChargeCheck chargeCheck) {
    this.clock = clock;
    this.chargeCheck = chargeCheck;
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
      if (!ledger.tryCharge(amountMicros)) {
        return null;
      }
      cpmSpent.add(amountMicros);
      return ledger.day();
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
    return converted(campaigns.get(r.campaign()).convert(days.get(r.day()), r.amountMicros()), r.amountMicros());
  }

  private boolean converted(boolean converted, long amountMicros) {
    if (converted) {
      cpcSpent.add(amountMicros);
    }
    return converted;
  }

  /** What {@link #claimClick} (or {@link #convertClick(String, String, String)}) did. */
  public enum Conversion {
    /** This click event holds the reservation (claimed now, or on an earlier attempt). */
    CONVERTED,
    /** Another click event already claimed it: one impression is charged one click. */
    ALREADY_CLICKED,
    /** No reservation: never reserved here, or released when its click window ended. */
    NO_RESERVATION
  }

  /**
   * Claims the reservation of (request, ad) for click {@code eventId}, idempotently: the same event
   * claims once however often it asks; the outcome is remembered until the reservation would have
   * expired. The money stays reserved: it becomes spend when the click's charge is stored
   * ({@link #commitClick}), or, if no commit comes, when the charge log shows the charge once the
   * reservation has expired ({@link #expireReservations}); else it is released then.
   */
  public Conversion claimClick(String requestId, String adId, String eventId) {
    String key = key(requestId, adId);
    synchronized (claims) {
      Claim done = claims.get(key);
      if (done != null) {
        return done.eventId().equals(eventId) ? Conversion.CONVERTED : Conversion.ALREADY_CLICKED;
      }
      ReservationBook.Entry r = reservations.remove(ReservationBook.key(requestId, adId));
      if (r == null) {
        return Conversion.NO_RESERVATION;
      }
      Claim claim = new Claim(key, eventId, r.expiresAtMillis(), r.campaign(), r.day(), r.amountMicros());
      claims.put(key, claim);
      claimsByExpiry.add(claim);
      return Conversion.CONVERTED;
    }
  }

  /**
   * The charge of click {@code eventId} is durable: its claimed reservation becomes spend, once
   * however often this is called. False when this event holds no claim (any more) or it was
   * already committed.
   */
  public boolean commitClick(String requestId, String adId, String eventId) {
    synchronized (claims) {
      Claim claim = claims.get(key(requestId, adId));
      if (claim == null || !claim.eventId().equals(eventId) || claim.settled) {
        return false;
      }
      claim.settled = true;
      converted(campaigns.get(claim.campaign()).convert(days.get(claim.day()), claim.amountMicros()),
          claim.amountMicros());
      return true;
    }
  }

  /** Claims and commits at once: for callers whose charge is already durable (and tests). */
  public Conversion convertClick(String requestId, String adId, String eventId) {
    Conversion outcome = claimClick(requestId, adId, eventId);
    if (outcome == Conversion.CONVERTED) {
      commitClick(requestId, adId, eventId);
    }
    return outcome;
  }

  /**
   * A claim of a reservation by a click event; {@code settled} once its money was booked as spend
   * or released (guarded by {@link #claims}).
   */
  private static final class Claim {
    private final String key;
    private final String eventId;
    private final long keepUntilMillis;
    private final int campaign;
    private final int day;
    private final long amountMicros;
    private boolean settled;
    private boolean checking;

    Claim(String key, String eventId, long keepUntilMillis, int campaign, int day, long amountMicros) {
      this.key = key;
      this.eventId = eventId;
      this.keepUntilMillis = keepUntilMillis;
      this.campaign = campaign;
      this.day = day;
      this.amountMicros = amountMicros;
    }

    String key() {
      return key;
    }

    String eventId() {
      return eventId;
    }

    long keepUntilMillis() {
      return keepUntilMillis;
    }

    int campaign() {
      return campaign;
    }

    int day() {
      return day;
    }

    long amountMicros() {
      return amountMicros;
    }
  }

  /**
   * Releases every reservation whose click window has ended ({@code expiresAtMillis <= nowMillis});
   * returns how many. Claims whose window has ended are forgotten; one that was never committed is
   * resolved against the charge log (asynchronously): spend if the click's charge is there,
   * released if not, kept reserved (and asked again at the next call) while that cannot be told.
   * Costs O(released + segments), plus O(log n) per forgotten claim.
   */
  public int expireReservations(long nowMillis) {
    List<Claim> toCheck = new ArrayList<>();
    synchronized (claims) {
      Claim c;
      while ((c = claimsByExpiry.peek()) != null && c.keepUntilMillis() <= nowMillis) {
        claimsByExpiry.poll();
        if (!c.settled) {
          unresolved.add(c);
        } else {
          claims.remove(c.key(), c);
        }
      }
      for (java.util.Iterator<Claim> it = unresolved.iterator(); it.hasNext(); ) {
        Claim u = it.next();
        if (u.settled) {
          // committed after its window ended, before the charge log was read
          it.remove();
          claims.remove(u.key(), u);
        } else if (!u.checking) {
          u.checking = true;
          toCheck.add(u);
        }
      }
    }
    for (Claim u : toCheck) {
      CompletionStage<Boolean> charged;
      try {
        charged = chargeCheck.charged(campaigns.get(u.campaign()).campaignId(), days.get(u.day()), u.eventId());
      } catch (RuntimeException e) {
        charged = CompletableFuture.failedFuture(e);
      }
      charged.whenComplete((isCharged, err) -> resolve(u, err == null ? isCharged : null));
    }
    return reservations.expire(nowMillis, this::release);
  }

  /** Settles an expired claim: spend if charged, released if not, unchanged if unknown (null). */
  private void resolve(Claim claim, Boolean charged) {
    synchronized (claims) {
      claim.checking = false;
      if (charged == null || claim.settled) {
        if (claim.settled) {
          unresolved.remove(claim);
          claims.remove(claim.key(), claim);
        }
        return;
      }
      claim.settled = true;
      unresolved.remove(claim);
      claims.remove(claim.key(), claim);
      if (charged) {
        converted(campaigns.get(claim.campaign()).convert(days.get(claim.day()), claim.amountMicros()),
            claim.amountMicros());
      } else {
        release(claim.campaign(), claim.day(), claim.amountMicros());
      }
    }
  }

  /** Expired claims still waiting for the charge log to tell whether they were charged. */
  public int unresolvedClaims() {
    synchronized (claims) {
      return unresolved.size();
    }
  }

  /**
   * Micros this node has booked as spend since it started: CPC ({@code cpc}: reservations a click
   * converted) or CPM (wins charged at once). Cumulative; a new budget day does not reset it.
   */
  public long spentMicros(boolean cpc) {
    return cpc ? cpcSpent.sum() : cpmSpent.sum();
  }

  /**
   * This node's budget now, over every campaign's ledger (each for its latest budget day): the
   * allowance granted, what is reserved for open CPC wins, and how many campaigns have free
   * allowance under a valid lease. O(campaigns), one ledger lock at a time: for metrics, not the bid path.
   */
  public record Summary(long allowanceMicros, long reservedMicros, int campaignsWithAllowance) {}

  public Summary summary() {
    long allowance = 0;
    long reserved = 0;
    int serving = 0;
    for (CampaignLedger l : ledgers.values()) {
      CampaignLedger.Totals t = l.totals();
      allowance += t.allowance();
      reserved += t.reserved();
      if (l.free() > 0) {
        serving++;
      }
    }
    return new Summary(allowance, reserved, serving);
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
