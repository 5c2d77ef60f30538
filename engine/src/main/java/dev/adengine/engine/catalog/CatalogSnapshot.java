package dev.adengine.engine.catalog;

import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Placement;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntFunction;

/**
 * An immutable, indexed view of the catalog that the bid path reads without locks.
 *
 * <p>The inverted index maps (destination, device, placement) to {@link Posting}s: the campaigns
 * that target all three and have an ad that serves in the destination ({@link AdDef#servesIn}),
 * each with exactly those ads, in campaign-id order. A campaign targeting a destination where it
 * has no hotel is not in that destination's lists at all, so the bid path neither visits it nor
 * filters ads per request. Campaigns that target every destination have their own lists per
 * (device, placement), whose ads are filtered per request (the searched destination is open).
 * Check-in date ranges are checked per candidate: few campaigns restrict them and a range does not
 * fit a posting list. Debug requests walk the destination's whole list ({@link #forDestination})
 * so that every excluded campaign gets its reason. A new snapshot is built by the replica actor and
 * swapped in whole.
 */
public final class CatalogSnapshot {
  // before EMPTY: the constructor uses them
  private static final CampaignEntry[] NONE = new CampaignEntry[0];
  private static final Posting[] NO_POSTINGS = new Posting[0];
  private static final int SLOTS = 16;

  public static final CatalogSnapshot EMPTY = new CatalogSnapshot(Map.of(), Map.of(), 0L);

  private final Map<String, CampaignEntry> campaigns;
  private final Map<String, AdvertiserEntry> advertisers;
  private final Map<String, CampaignEntry[]> byDestination;
  private final CampaignEntry[] anyDestination;
  private final Map<String, Posting[][]> byTargeting;
  private final CampaignEntry[][] anyDestinationByTargeting;
  private final Map<String, AdLocation> ads;
  private final Map<String, Long> medianPrice;
  private final long builtAtMillis;

  /** Where an ad lives: its campaign and its index among the campaign's ads. */
  public record AdLocation(CampaignEntry campaign, AdDef ad) {}

  /**
   * A campaign in a destination's posting list, with its advertiser as of this snapshot (null if the
   * replica does not hold it) and its ads that serve there (never empty, immutable). Resolved when
   * the snapshot is built: an advertiser change builds a new snapshot.
   */
  public record Posting(CampaignEntry entry, AdvertiserEntry advertiser, List<AdDef> ads) {}

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
    Map<String, Posting[][]> targeting = new HashMap<>();
    index.forEach((k, v) -> {
      frozen.put(k, v.toArray(new CampaignEntry[0]));
      List<Posting> serving = new ArrayList<>(v.size());
      for (CampaignEntry e : v) {
        List<AdDef> there = e.def().ads().stream().filter(ad -> ad.servesIn(k)).toList();
        if (!there.isEmpty()) {
          serving.add(new Posting(e, advertisers.get(e.def().advertiserId()), there));
        }
      }
      targeting.put(k, postings(serving, Posting::entry, Posting[]::new, NO_POSTINGS));
    });
    this.byDestination = Map.copyOf(frozen);
    this.anyDestination = any.toArray(new CampaignEntry[0]);
    this.byTargeting = Map.copyOf(targeting);
    this.anyDestinationByTargeting = postings(any, e -> e, CampaignEntry[]::new, NONE);
    this.ads = Map.copyOf(adIndex);
    this.medianPrice = medians(adIndex.values());
  }

  private static int slot(Device device, Placement placement) {
    return (device.getNumber() & 3) << 2 | (placement.getNumber() & 3);
  }

  /** One posting list per (device, placement) slot, keeping the campaigns' order. */
  private static <T> T[][] postings(List<T> entries, Function<T, CampaignEntry> campaign, IntFunction<T[]> array,
      T[] none) {
    @SuppressWarnings("unchecked")
    T[][] out = (T[][]) Array.newInstance(none.getClass(), SLOTS);
    for (Device d : Device.values()) {
      for (Placement p : Placement.values()) {
        if (d == Device.UNRECOGNIZED || p == Placement.UNRECOGNIZED) {
          continue;
        }
        List<T> hits = new ArrayList<>();
        for (T e : entries) {
          CampaignDef def = campaign.apply(e).def();
          if (def.targetsDevice(d) && def.targetsPlacement(p)) {
            hits.add(e);
          }
        }
        out[slot(d, p)] = hits.toArray(array.apply(0));
      }
    }
    for (int i = 0; i < SLOTS; i++) {
      if (out[i] == null) {
        out[i] = none;
      }
    }
    return out;
  }

  /**
   * Campaigns targeting this (normalized) destination, device and placement that have an ad serving
   * in the destination, each with those ads.
   */
  public Posting[] candidates(String normalizedDestination, Device device, Placement placement) {
    Posting[][] lists = byTargeting.get(normalizedDestination);
    return lists == null ? NO_POSTINGS : lists[slot(device, placement)];
  }

  /** Campaigns with no destination targeting that target this device and placement. */
  public CampaignEntry[] anyDestinationCandidates(Device device, Placement placement) {
    return anyDestinationByTargeting[slot(device, placement)];
  }

  /** Median nightly price of the catalog's ads located in each destination (ads with a price and a destination). */
  private static Map<String, Long> medians(Collection<AdLocation> ads) {
    Map<String, List<Long>> prices = new HashMap<>();
    for (AdLocation l : ads) {
      AdDef ad = l.ad();
      if (!ad.destination().isEmpty() && ad.nightlyPriceMicros() > 0) {
        prices.computeIfAbsent(ad.destination(), k -> new ArrayList<>()).add(ad.nightlyPriceMicros());
      }
    }
    Map<String, Long> medians = new HashMap<>();
    prices.forEach((d, list) -> {
      list.sort(null);
      int n = list.size();
      medians.put(d, n % 2 == 1 ? list.get(n / 2) : (list.get(n / 2 - 1) + list.get(n / 2)) / 2);
    });
    return Map.copyOf(medians);
  }

  private static List<CampaignEntry> sorted(Collection<CampaignEntry> entries) {
    List<CampaignEntry> list = new ArrayList<>(entries);
    list.sort((a, b) -> a.def().campaignId().compareTo(b.def().campaignId()));
    return list;
  }

  /** Campaigns targeting exactly this (normalized) destination. */
  public CampaignEntry[] forDestination(String normalizedDestination) {
    CampaignEntry[] hits = byDestination.get(normalizedDestination);
    return hits == null ? NONE : hits;
  }

  /** Campaigns with no destination targeting. */
  public CampaignEntry[] anyDestination() {
    return anyDestination;
  }

  /**
   * The median nightly price of the catalog's hotels in {@code normalizedDestination}: the
   * reference for the "price relative to the destination" ranking feature; 0 when the catalog has
   * no priced hotel there.
   */
  public long medianPriceMicros(String normalizedDestination) {
    Long m = medianPrice.get(normalizedDestination);
    return m == null ? 0L : m;
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
