package dev.adengine.engine.catalog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Placement;
import dev.adengine.engine.sim.ClickLogGenerator;
import dev.adengine.engine.sim.MarketGenerator;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class CatalogSnapshotTest {
  static final List<Device> DEVICES = List.of(Device.DESKTOP, Device.MOBILE, Device.TABLET);
  static final List<Placement> PLACEMENTS = List.of(Placement.SEARCH_RESULTS, Placement.HOTEL_DETAILS,
      Placement.MAP_VIEW);

  @Test
  void shouldListExactlyTheCampaignsTargetingDestinationDeviceAndPlacementWhenIndexed() {
    // given: the simulator's market, whose campaigns target devices and placements in many ways
    CatalogSnapshot snapshot = ClickLogGenerator.snapshot(
        new MarketGenerator(42, 600, LocalDate.of(2026, 11, 28)).generate());
    int restricted = 0;
    for (CampaignEntry e : snapshot.campaigns().values()) {
      restricted += e.def().deviceMask() != CampaignDef.ALL || e.def().placementMask() != CampaignDef.ALL ? 1 : 0;
    }
    assertTrue(restricted > 0, "the market has device or placement targeting to index");

    int skipped = 0;
    for (String destination : List.of("paris", "london", "rome", "nowhere")) {
      for (Device d : DEVICES) {
        for (Placement p : PLACEMENTS) {
          // when
          CatalogSnapshot.Posting[] hits = snapshot.candidates(destination, d, p);

          // then: the same campaigns, in the same order, as filtering the destination's list, each
          // with exactly its ads located there, and none without such an ad
          CampaignEntry[] expected = Arrays.stream(snapshot.forDestination(destination))
              .filter(e -> e.def().targetsDevice(d) && e.def().targetsPlacement(p))
              .filter(e -> e.def().ads().stream().anyMatch(ad -> ad.servesIn(destination)))
              .toArray(CampaignEntry[]::new);
          assertArrayEquals(expected, Arrays.stream(hits).map(CatalogSnapshot.Posting::entry).toArray(),
              destination + "/" + d + "/" + p);
          for (CatalogSnapshot.Posting h : hits) {
            assertEquals(h.entry().def().ads().stream().filter(ad -> ad.destination().equals(destination)).toList(),
                h.ads());
          }
          skipped += snapshot.forDestination(destination).length - expected.length;
          CampaignEntry[] any = Arrays.stream(snapshot.anyDestination())
              .filter(e -> e.def().targetsDevice(d) && e.def().targetsPlacement(p))
              .toArray(CampaignEntry[]::new);
          assertArrayEquals(any, snapshot.anyDestinationCandidates(d, p));
        }
      }
    }
    assertTrue(skipped > 0, "some campaigns target a destination where they have no hotel");
  }

  @Test
  void shouldComputeEachDestinationsMedianPriceFromTheHotelsThere() {
    // given: three priced hotels in Oslo, one in Bergen, one with no destination
    CampaignDef def = new CampaignDef("c", "a", "c", dev.adengine.api.v1.Pricing.CPC, 1, 1, java.util.Set.of("oslo"),
        CampaignDef.ALL, CampaignDef.ALL, List.of(
            new AdDef("a1", "t", "h1", 3, 8, 100, "oslo"), new AdDef("a2", "t", "h2", 3, 8, 300, "oslo"),
            new AdDef("a3", "t", "h3", 3, 8, 200, "oslo"), new AdDef("a4", "t", "h4", 3, 8, 900, "bergen"),
            new AdDef("a5", "t", "h5", 3, 8, 5, "")),
        dev.adengine.api.v1.Pacing.EVEN, null, null, java.time.ZoneOffset.UTC);

    // when
    CatalogSnapshot snapshot = new CatalogSnapshot(java.util.Map.of("c", new CampaignEntry(def, false, 1)),
        java.util.Map.of(), 0);

    // then
    assertEquals(200, snapshot.medianPriceMicros("oslo"));
    assertEquals(900, snapshot.medianPriceMicros("bergen"));
    assertEquals(0, snapshot.medianPriceMicros("rome"));
  }
}
