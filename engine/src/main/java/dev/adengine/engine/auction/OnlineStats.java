package dev.adengine.engine.auction;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-ad impression and click counts seen by this node's event path, read by the bid path for
 * the CTR estimate. Lock-free: counters are {@link LongAdder}s.
 */
public final class OnlineStats {
  private final ConcurrentHashMap<String, Counts> byAd = new ConcurrentHashMap<>();

  public static final class Counts {
    final LongAdder impressions = new LongAdder();
    final LongAdder clicks = new LongAdder();

    public long impressions() {
      return impressions.sum();
    }

    public long clicks() {
      return clicks.sum();
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
    byAd.computeIfAbsent(adId, k -> new Counts()).impressions.increment();
  }

  public void click(String adId) {
    byAd.computeIfAbsent(adId, k -> new Counts()).clicks.increment();
  }
}
