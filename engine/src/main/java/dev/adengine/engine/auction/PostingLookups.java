package dev.adengine.engine.auction;

import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.budget.CampaignLedger;
import dev.adengine.engine.catalog.CatalogSnapshot;
import dev.adengine.engine.features.CampaignSnapshot;
import dev.adengine.engine.features.FeatureStore;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The bid path's per-campaign and per-ad lookups, resolved once per posting list of a catalog snapshot
 * and kept: a campaign's {@link CampaignLedger}, its {@link FeatureStore.Slot} and its ads'
 * {@link OnlineStats.Counts}.
 *
 * <p>Why: a request walks about 200 campaigns and ads, and looked each of them up by id in a
 * {@code ConcurrentHashMap} (the ledger and the latest snapshot per campaign, the counters per ad),
 * about 600 lookups a request. Under JFR, {@code ConcurrentHashMap.get} was a fifth of the engine's execution samples
 * (docs/benchmarks/analysis.md): every lookup walks a hash bin and compares two id strings, cache
 * misses on a table of a thousand campaigns. Here a request does one lookup, for its posting list
 * (by identity: the arrays of a snapshot do not change), and then reads the resolved objects.
 *
 * <p>Correctness rests on every looked-up object being the one the other paths update, for good:
 * the ledger never removes a campaign's {@code CampaignLedger}, the feature store never replaces a
 * campaign's slot (a new snapshot goes into it), and {@link OnlineStats} never removes an ad's
 * counts. Slots and counts are made empty on first lookup, so that events and snapshots arriving
 * later land in the very objects kept here; a ledger is made by the budget path only, so one not
 * found is looked up again on the next request, and a campaign's first allowance is seen at once. Resolved values are published
 * through volatile reads and writes; two requests resolving the same one at once store the same
 * object. A new catalog snapshot starts an empty cache.
 */
final class PostingLookups {
  /** The resolved lookups of one posting list: per posting, its campaign's ledger and its ads' counts. */
  static final class Resolved {
    private final AtomicReferenceArray<CampaignLedger> ledgers;
    private final AtomicReferenceArray<FeatureStore.Slot> slots;
    private final AtomicReferenceArray<OnlineStats.Counts>[] counts;

    @SuppressWarnings("unchecked")
    Resolved(CatalogSnapshot.Posting[] postings) {
      ledgers = new AtomicReferenceArray<>(postings.length);
      slots = new AtomicReferenceArray<>(postings.length);
      counts = new AtomicReferenceArray[postings.length];
      for (int i = 0; i < postings.length; i++) {
        counts[i] = new AtomicReferenceArray<>(postings[i].ads().size());
      }
    }

    /** Posting {@code i}'s campaign ledger, or null while the ledger has none for it. */
    CampaignLedger ledger(int i, String campaignId, BudgetLedger ledger) {
      CampaignLedger l = ledgers.get(i);
      if (l == null) {
        l = ledger.get(campaignId);
        if (l != null) {
          ledgers.set(i, l);
        }
      }
      return l;
    }

    /** Posting {@code i}'s campaign's latest snapshot, or null while none has arrived. */
    CampaignSnapshot snapshot(int i, String campaignId, FeatureStore features) {
      FeatureStore.Slot slot = slots.get(i);
      if (slot == null) {
        slot = features.slot(campaignId);
        slots.set(i, slot);
      }
      return slot.get();
    }

    /** The counts of ad {@code a} of posting {@code i}, zero while it has had no event. */
    OnlineStats.Counts counts(int i, int a, String adId, OnlineStats stats) {
      OnlineStats.Counts c = counts[i].get(a);
      if (c == null) {
        c = stats.counts(adId);
        counts[i].set(a, c);
      }
      return c;
    }
  }

  private volatile Cache cache = new Cache(null);

  private record Cache(CatalogSnapshot snapshot, ConcurrentHashMap<CatalogSnapshot.Posting[], Resolved> lists) {
    Cache(CatalogSnapshot snapshot) {
      this(snapshot, new ConcurrentHashMap<>());
    }
  }

  /** The resolved lookups of {@code postings}, a posting list of {@code snapshot}. */
  Resolved of(CatalogSnapshot snapshot, CatalogSnapshot.Posting[] postings) {
    Cache c = cache;
    if (c.snapshot() != snapshot) {
      c = new Cache(snapshot);
      cache = c; // a request still on the old snapshot may build one more; it is dropped with it
    }
    // arrays hash and compare by identity: one entry per posting list of this snapshot
    Resolved r = c.lists().get(postings);
    if (r == null) {
      r = c.lists().computeIfAbsent(postings, Resolved::new);
    }
    return r;
  }
}
