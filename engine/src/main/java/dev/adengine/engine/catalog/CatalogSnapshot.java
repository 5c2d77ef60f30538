package dev.adengine.engine.catalog;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable, indexed view of the catalog that the bid path reads without locks.
 *
 * <p>The inverted index maps a destination to the campaigns that target it; campaigns that target
 * every destination sit in one shared list. Device, placement and date targeting are checked per
 * candidate with bit masks, which costs less than maintaining more posting lists for the handful
 * of values those fields take. A new snapshot is built by the replica actor and swapped in whole.
 */
public final class CatalogSnapshot {
  public static final CatalogSnapshot EMPTY = new CatalogSnapshot(Map.of(), Map.of(), 0L);

  private final Map<String, CampaignEntry> campaigns;
  private final Map<String, AdvertiserEntry> advertisers;
  private final Map<String, CampaignEntry[]> byDestination;
  private final CampaignEntry[] anyDestination;
  private final Map<String, AdLocation> ads;
  private final long builtAtMillis;

  /** Where an ad lives: its campaign and its index among the campaign's ads. */
  public record AdLocation(CampaignEntry campaign, AdDef ad) {}

  public CatalogSnapshot(Map<String, CampaignEntry> campaigns, Map<String, AdvertiserEntry> advertisers,
      long builtAtMillis) {
    this.campaigns = Map.copyOf(campaigns);
    this.advertisers = Map.copyOf(advertisers);
    this.builtAtMillis = builtAtMillis;
    Map<String, List<CampaignEntry>> index = new HashMap<>();
    List<CampaignEntry> any = new ArrayList<>();
    Map<String, AdLocation> adIndex = new HashMap<>();
    for (CampaignEntry e : sorted(campaigns.values())) {
      if (e.def().destinations().isEmpty()) {
        any.add(e);
      } else {
        for (String d : e.def().destinations()) {
          index.computeIfAbsent(d, k -> new ArrayList<>()).add(e);
        }
      }
      for (AdDef ad : e.def().ads()) {
        adIndex.put(ad.adId(), new AdLocation(e, ad));
      }
    }
    Map<String, CampaignEntry[]> frozen = new HashMap<>();
    index.forEach((k, v) -> frozen.put(k, v.toArray(new CampaignEntry[0])));
    this.byDestination = Map.copyOf(frozen);
    this.anyDestination = any.toArray(new CampaignEntry[0]);
    this.ads = Map.copyOf(adIndex);
  }

  private static List<CampaignEntry> sorted(Collection<CampaignEntry> entries) {
    List<CampaignEntry> list = new ArrayList<>(entries);
    list.sort((a, b) -> a.def().campaignId().compareTo(b.def().campaignId()));
    return list;
  }

  /** Campaigns targeting exactly this (normalized) destination. */
  public CampaignEntry[] forDestination(String normalizedDestination) {
    CampaignEntry[] hits = byDestination.get(normalizedDestination);
    return hits == null ? new CampaignEntry[0] : hits;
  }

  /** Campaigns with no destination targeting. */
  public CampaignEntry[] anyDestination() {
    return anyDestination;
  }

  public CampaignEntry campaign(String campaignId) {
    return campaigns.get(campaignId);
  }

  public AdvertiserEntry advertiser(String advertiserId) {
    return advertisers.get(advertiserId);
  }

  public AdLocation ad(String adId) {
    return ads.get(adId);
  }

  public Map<String, CampaignEntry> campaigns() {
    return campaigns;
  }

  public Map<String, AdvertiserEntry> advertisers() {
    return advertisers;
  }

  public int campaignCount() {
    return campaigns.size();
  }

  public int adCount() {
    return ads.size();
  }

  public long builtAtMillis() {
    return builtAtMillis;
  }
}
