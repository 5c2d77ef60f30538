package dev.adengine.engine.features;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's replica of every campaign's latest {@link CampaignSnapshot}, read by the bid path
 * without locks. Each node knows how old every snapshot it holds is, for freshness monitoring.
 */
public final class FeatureStore {
  private final ConcurrentHashMap<String, CampaignSnapshot> latest = new ConcurrentHashMap<>();

  /** Keeps {@code s} unless a newer snapshot of the campaign is already held. */
  public void offer(CampaignSnapshot s) {
    latest.merge(s.campaignId(), s, (held, incoming) ->
        incoming.publishedAtMillis() >= held.publishedAtMillis() ? incoming : held);
  }

  public CampaignSnapshot get(String campaignId) {
    return latest.get(campaignId);
  }

  public int size() {
    return latest.size();
  }

  /** Freshness: how many snapshots there are, the oldest one's age, and how many are older than {@code staleAfterMillis}. */
  public record Freshness(int snapshots, long maxAgeMillis, int stale) {}

  public Freshness freshness(long nowMillis, long staleAfterMillis) {
    long max = 0;
    int stale = 0;
    for (Map.Entry<String, CampaignSnapshot> e : latest.entrySet()) {
      long age = Math.max(0, nowMillis - e.getValue().publishedAtMillis());
      max = Math.max(max, age);
      if (age > staleAfterMillis) {
        stale++;
      }
    }
    return new Freshness(latest.size(), max, stale);
  }
}
