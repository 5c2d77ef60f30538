package dev.adengine.engine.auction;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-ad impression and click counts seen by this node's event path, read by the bid path for
 * the CTR estimate. Lock-free: an ad's two counters are fields of one object, added to atomically.
 *
 * <p>Why not {@link java.util.concurrent.atomic.LongAdder}s: a request reads the counts of each of
 * its ~200 candidate ads, and on a node sharing its cores those reads miss the CPU's caches
 * (JMH {@code BidPathBench}, {@code caches=cold}); two adders made three objects per ad (the counts
 * and an adder for each), these are one (JMH could not resolve the difference in two alternated
 * runs; it is less memory either way). Events update an ad's counts far less often than bids read
 * them, so an atomic add's contention is not what costs here.
 */
public final class OnlineStats {
  private final ConcurrentHashMap<String, Counts> byAd = new ConcurrentHashMap<>();

  public static final class Counts {
    private static final VarHandle IMPRESSIONS;
    private static final VarHandle CLICKS;

    static {
      try {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        IMPRESSIONS = lookup.findVarHandle(Counts.class, "impressions", long.class);
        CLICKS = lookup.findVarHandle(Counts.class, "clicks", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    private volatile long impressions;
    private volatile long clicks;

    public long impressions() {
      return impressions;
    }

    public long clicks() {
      return clicks;
    }

    void addImpression() {
      IMPRESSIONS.getAndAdd(this, 1L);
    }

    void addClick() {
      CLICKS.getAndAdd(this, 1L);
    }
  }

  private static final Counts NONE = new Counts();

  public Counts of(String adId) {
    Counts c = byAd.get(adId);
    return c == null ? NONE : c;
  }

  /** The ad's counts, or null while it has none (an ad's counts, once there, are never removed). */
  public Counts find(String adId) {
    return byAd.get(adId);
  }

  /**
   * The ad's counts, made (at zero) if it has none yet: the object its events will count into, which
   * the bid path can keep. One per ad of the catalog that was ever a candidate.
   */
  public Counts counts(String adId) {
    Counts c = byAd.get(adId);
    return c != null ? c : byAd.computeIfAbsent(adId, k -> new Counts());
  }

  public void impression(String adId) {
    counts(adId).addImpression();
  }

  public void click(String adId) {
    counts(adId).addClick();
  }
}
