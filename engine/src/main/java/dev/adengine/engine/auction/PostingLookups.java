package dev.adengine.engine.auction;

import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.budget.CampaignLedger;
import dev.adengine.engine.catalog.CatalogSnapshot;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The bid path's per-campaign and per-ad lookups, resolved once per posting list of a catalog snapshot
 * and kept: a campaign's {@link CampaignLedger} and its ads' {@link OnlineStats.Counts}.
 *
 * <p>Why: a request walks about 200 campaigns and ads, and looked each of them up by id in a
 * {@code ConcurrentHashMap} (the ledger per campaign, the counters per ad), about 400 lookups a
 * request. Under JFR, {@code ConcurrentHashMap.get} was a fifth of the engine's execution samples
 * (docs/benchmarks/analysis.md): every lookup walks a hash bin and compares two id strings, cache
 * misses on a table of a thousand campaigns. Here a request does one lookup, for its posting list
 * (by identity: the arrays of a snapshot do not change), and then reads the resolved objects.
 *
 * <p>Correctness rests on both lookups being stable once they find something: the ledger never
 * removes a campaign's {@code CampaignLedger} and {@link OnlineStats} never removes an ad's counts.
 * Until then, what is not found is looked up again on the next request, so a campaign that gets its
 * first allowance or an ad its first impression is seen at once. Resolved values are published
 * through volatile reads and writes; two requests resolving the same one at once store the same
 * object. A new catalog snapshot starts an empty cache.
 */
final class PostingLookups {
  /** The resolved lookups of one posting list: per posting, its campaign's ledger and its ads' counts. */
  static final class Resolved {
    private final AtomicReferenceArray<CampaignLedger> ledgers;
    private final AtomicReferenceArray<OnlineStats.Counts>[] counts;

    @SuppressWarnings("unchecked")
    Resolved(CatalogSnapshot.Posting[] postings) {
      ledgers = new AtomicReferenceArray<>(postings.length);
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

    /** The counts of ad {@code a} of posting {@code i}, or {@link OnlineStats#of}'s zeros while it has none. */
    OnlineStats.Counts counts(int i, int a, String adId, OnlineStats stats) {
      OnlineStats.Counts c = counts[i].get(a);
      if (c == null) {
        c = stats.find(adId);
        if (c == null) {
          return stats.of(adId);
        }
        counts[i].set(a, c);
      }
      return c;
    }
  }

  private final BudgetLedger ledger;
  private final OnlineStats stats;
  private volatile Cache cache = new Cache(null);

  private record Cache(CatalogSnapshot snapshot, ConcurrentHashMap<CatalogSnapshot.Posting[], Resolved> lists) {
    Cache(CatalogSnapshot snapshot) {
      this(snapshot, new ConcurrentHashMap<>());
    }
  }

  PostingLookups(BudgetLedger ledger, OnlineStats stats) {
    this.ledger = ledger;
    this.stats = stats;
  }

  BudgetLedger ledger() {
    return ledger;
  }

  OnlineStats stats() {
    return stats;
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
