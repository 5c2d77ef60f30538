package dev.adengine.engine.catalog;

/** Benchmark and test access to the replica's publish step, so benchmarks serve a real snapshot. */
public final class CatalogFixture {
  private CatalogFixture() {}

  public static Catalog of(CatalogSnapshot snapshot) {
    Catalog catalog = new Catalog();
    catalog.publish(snapshot, true);
    return catalog;
  }

  /** Replaces the catalog's snapshot, as the replica does after a change. */
  public static void publish(Catalog catalog, CatalogSnapshot snapshot) {
    catalog.publish(snapshot, true);
  }
}
