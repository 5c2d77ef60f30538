package dev.adengine.engine.features;

import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's replica of every campaign's latest {@link CampaignSnapshot}, read by the bid path
 * without locks. Each node knows how old every snapshot it holds is, for freshness monitoring.
 */
public final class FeatureStore {
  private final ConcurrentHashMap<String, Slot> latest = new ConcurrentHashMap<>();

  /**
   * Where a campaign's latest snapshot is kept: one per campaign, never replaced or removed, so the
   * bid path can keep it and read the snapshot without a lookup by id. Empty until the first
   * snapshot arrives.
   */
  public static final class Slot {
    private volatile CampaignSnapshot value;

    /** The latest snapshot, or null while none has arrived. */
    public CampaignSnapshot get() {
      return value;
    }
  }

  /** Keeps {@code s} unless a newer snapshot of the campaign is already held. */
  public void offer(CampaignSnapshot s) {
    Slot slot = latest.computeIfAbsent(s.campaignId(), k -> new Slot());
    synchronized (slot) {
      CampaignSnapshot held = slot.value;
      if (held == null || s.publishedAtMillis() >= held.publishedAtMillis()) {
        slot.value = s;
      }
    }
  }

  public CampaignSnapshot get(String campaignId) {
    Slot slot = latest.get(campaignId);
    return slot == null ? null : slot.value;
  }

  /** The campaign's slot, made empty if it has none yet (see {@link Slot}). */
  public Slot slot(String campaignId) {
    return latest.computeIfAbsent(campaignId, k -> new Slot());
  }

  /** Campaigns with a snapshot. */
  public int size() {
    int n = 0;
    for (Slot slot : latest.values()) {
      n += slot.value == null ? 0 : 1;
    }
    return n;
  }

  /** Freshness: how many snapshots there are, the oldest one's age, and how many are older than {@code staleAfterMillis}. */
  public record Freshness(int snapshots, long maxAgeMillis, int stale) {}

  public Freshness freshness(long nowMillis, long staleAfterMillis) {
    long max = 0;
    int stale = 0;
    int snapshots = 0;
    for (Slot slot : latest.values()) {
      CampaignSnapshot held = slot.value;
      if (held == null) {
        continue;
      }
      snapshots++;
      long age = Math.max(0, nowMillis - held.publishedAtMillis());
      max = Math.max(max, age);
      if (age > staleAfterMillis) {
        stale++;
      }
    }
    return new Freshness(snapshots, max, stale);
  }
}
