package dev.adengine.engine.budget;

import java.util.function.LongSupplier;

/**
 * One campaign's budget on this node for the current budget day: the allowance the entity granted
 * and what this node has spent and reserved against it.
 *
 * <p>Invariant: {@code spent + reserved <= allowance}, checked and updated atomically under the
 * object's lock, so concurrent bids can never push this node past its allowance. The lock is held
 * for a few arithmetic operations; there is no I/O under it.
 */
public final class CampaignLedger {
  private final String campaignId;
  private String day = "";
  private long allowance;
  private long spent;
  private long reserved;
  private long impressions;
  private long clicks;
  private long version;
  private long leaseUntil = Long.MAX_VALUE;
  private final LongSupplier clock;
  /** This ledger's index in its {@link BudgetLedger}'s campaign table: what a reservation records. */
  private final int index;

  CampaignLedger(String campaignId) {
    this(campaignId, System::currentTimeMillis);
  }

  CampaignLedger(String campaignId, LongSupplier clock) {
    this(campaignId, clock, -1);
  }

  CampaignLedger(String campaignId, LongSupplier clock, int index) {
    this.campaignId = campaignId;
    this.clock = clock;
    this.index = index;
  }

  int index() {
    return index;
  }

  /** The node may spend its allowance only while the entity's lease on it holds. */
  private boolean leased() {
    return clock.getAsLong() < leaseUntil;
  }

  public String campaignId() {
    return campaignId;
  }

  /** Free allowance: what the next win may still cost. */
  public synchronized long free() {
    return leased() ? allowance - spent - reserved : 0;
  }

  /** Charges {@code amount} as spend now (CPM at the win) if the allowance covers it. */
  public synchronized boolean tryCharge(long amount) {
    requireNonNegative(amount);
    if (!leased() || spent + reserved + amount > allowance) {
      return false;
    }
    spent += amount;
    version++;
    return true;
  }

  /** Reserves {@code amount} (a CPC win's price) if the allowance covers it. */
  public synchronized boolean tryReserve(long amount) {
    requireNonNegative(amount);
    if (!leased() || spent + reserved + amount > allowance) {
      return false;
    }
    reserved += amount;
    version++;
    return true;
  }

  /** Turns a reservation of {@code day} into spend (a click arrived). */
  synchronized boolean convert(String reservationDay, long amount) {
    if (!day.equals(reservationDay)) {
      return false;
    }
    reserved -= amount;
    spent += amount;
    version++;
    return true;
  }

  /** Releases a reservation of {@code day} (its click window ended without a click). */
  synchronized void release(String reservationDay, long amount) {
    if (day.equals(reservationDay)) {
      reserved -= amount;
      version++;
    }
  }

  private static void requireNonNegative(long amount) {
    if (amount < 0) {
      throw new IllegalArgumentException("negative amount " + amount);
    }
  }

  /**
   * Takes back a fragment of free allowance too small for one win ({@code 0 < free < maxCharge})
   * and returns its size; 0 when there is none. The caller reports it to the entity.
   */
  synchronized long takeBackFragment(long maxCharge) {
    long free = allowance - spent - reserved;
    if (free <= 0 || free >= maxCharge) {
      return 0;
    }
    allowance -= free;
    return free;
  }

  /**
   * Takes back the free allowance above {@code keep} (an idle node keeps one win's worth) and
   * returns its size; 0 when there is none. The caller reports it to the entity.
   */
  synchronized long takeBackAbove(long keep) {
    long free = allowance - spent - reserved;
    if (free <= keep) {
      return 0;
    }
    long amount = free - keep;
    allowance -= amount;
    return amount;
  }

  public synchronized void countImpression() {
    impressions++;
    version++;
  }

  public synchronized void countClick() {
    clicks++;
    version++;
  }

  /**
   * Applies the entity's grant: the node's total allowance for {@code grantDay}. A new day starts
   * from zero spend; within a day the allowance only grows.
   */
  synchronized void applyGrant(String grantDay, long grantedAllowance, long leaseUntilMillis) {
    leaseUntil = leaseUntilMillis;
    if (!grantDay.equals(day)) {
      day = grantDay;
      spent = 0;
      reserved = 0;
      impressions = 0;
      clicks = 0;
      allowance = grantedAllowance;
      version++;
    } else if (grantedAllowance > allowance) {
      // Not a reportable change: the entity already knows what it granted.
      allowance = grantedAllowance;
    }
  }

  public synchronized Totals totals() {
    return new Totals(day, allowance, spent, reserved, impressions, clicks, version);
  }

  public synchronized String day() {
    return day;
  }

  /** A consistent copy of the ledger. {@code version} changes whenever something the entity must hear of does. */
  public record Totals(String day, long allowance, long spent, long reserved, long impressions, long clicks,
      long version) {}
}
