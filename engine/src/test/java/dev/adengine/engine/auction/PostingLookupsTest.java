package dev.adengine.engine.auction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Placement;
import dev.adengine.api.v1.Pricing;
import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.budget.CampaignLedger;
import dev.adengine.engine.catalog.AdDef;
import dev.adengine.engine.catalog.CampaignDef;
import dev.adengine.engine.catalog.CampaignEntry;
import dev.adengine.engine.catalog.CatalogSnapshot;
import dev.adengine.engine.features.CampaignSnapshot;
import dev.adengine.engine.features.FeatureStore;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The bid path's cached lookups: what is found is kept and stays live (the same ledger and counter
 * objects the event path updates), what is not found is looked up again, and a new catalog snapshot
 * starts afresh.
 */
class PostingLookupsTest {
  private final BudgetLedger ledger = new BudgetLedger();
  private final OnlineStats stats = new OnlineStats();
  private final FeatureStore features = new FeatureStore();
  private final PostingLookups lookups = new PostingLookups();

  @Test
  void shouldLookUpAgainUntilFoundThenKeepTheLiveObject() {
    // given: a campaign with two ads in Oslo, no ledger and no counts yet
    CatalogSnapshot snapshot = snapshot();
    CatalogSnapshot.Posting[] postings = snapshot.candidates("oslo", Device.MOBILE, Placement.SEARCH_RESULTS);
    assertEquals(1, postings.length);
    PostingLookups.Resolved resolved = lookups.of(snapshot, postings);

    // when nothing is there yet: no ledger, no snapshot, zero counts
    assertNull(resolved.ledger(0, "c", ledger));
    assertNull(resolved.snapshot(0, "c", features));
    OnlineStats.Counts kept = resolved.counts(0, 1, "a2", stats);
    assertEquals(0, kept.impressions());

    // then, once the campaign has a ledger and a snapshot and the ad events, the next request sees them
    CampaignLedger created = ledger.getOrCreate("c");
    features.offer(snapshotOf("c", 1_000));
    stats.impression("a2");
    stats.impression("a2");
    stats.click("a2");
    assertSame(created, resolved.ledger(0, "c", ledger));
    assertEquals(1_000, resolved.snapshot(0, "c", features).publishedAtMillis());
    // through the objects kept at the first lookup: the events counted into them
    assertSame(kept, resolved.counts(0, 1, "a2", stats));
    assertEquals(2, kept.impressions());
    assertEquals(1, kept.clicks());
    assertSame(stats.find("a2"), kept);
    // a newer snapshot replaces the held one in the kept slot, an older one does not
    features.offer(snapshotOf("c", 3_000));
    features.offer(snapshotOf("c", 2_000));
    assertEquals(3_000, resolved.snapshot(0, "c", features).publishedAtMillis());
    assertEquals(3_000, features.get("c").publishedAtMillis());
  }

  @Test
  void shouldNotCountTheEmptySlotsOfLookupsAsSnapshots() {
    // given: the bid path looked up two campaigns without snapshots, one campaign has one
    features.slot("x");
    features.slot("y");
    features.offer(snapshotOf("c", 1_000));

    // then: only the held snapshot counts, for the store's size and its freshness
    assertEquals(1, features.size());
    FeatureStore.Freshness f = features.freshness(61_000, 30_000);
    assertEquals(1, f.snapshots());
    assertEquals(60_000, f.maxAgeMillis());
    assertEquals(1, f.stale());
    assertNull(features.get("x"));
  }

  @Test
  void shouldKeepOneResolvedPerPostingListAndStartAfreshOnANewSnapshot() {
    // given
    CatalogSnapshot first = snapshot();
    CatalogSnapshot.Posting[] postings = first.candidates("oslo", Device.MOBILE, Placement.SEARCH_RESULTS);

    // when / then: the same list of the same snapshot gives the same resolved lookups
    PostingLookups.Resolved resolved = lookups.of(first, postings);
    assertSame(resolved, lookups.of(first, postings));

    // and a new snapshot (its own arrays) gives new ones
    CatalogSnapshot second = snapshot();
    CatalogSnapshot.Posting[] again = second.candidates("oslo", Device.MOBILE, Placement.SEARCH_RESULTS);
    assertNotSame(postings, again);
    assertNotSame(resolved, lookups.of(second, again));
  }

  private static CampaignSnapshot snapshotOf(String campaignId, long publishedAtMillis) {
    return new CampaignSnapshot(campaignId, "2026-11-30", 100_000_000, 0, 0, false, 10, 1, 0, 0, publishedAtMillis);
  }

  private static CatalogSnapshot snapshot() {
    CampaignDef def = new CampaignDef("c", "adv", "c", Pricing.CPC, 1_000, 100_000_000, Set.of("oslo"),
        CampaignDef.ALL, CampaignDef.ALL, List.of(new AdDef("a1", "t", "h1", 3, 8, 100, "oslo"),
            new AdDef("a2", "t", "h2", 3, 8, 300, "oslo")), Pacing.EVEN, null, null, ZoneOffset.UTC);
    return new CatalogSnapshot(Map.of("c", new CampaignEntry(def, false, 1)), Map.of(), 0);
  }
}
