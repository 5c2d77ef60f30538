package dev.adengine.engine.catalog;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The node's catalog replica as the bid path reads it: one volatile snapshot, replaced whole by
 * {@link CatalogReplica}. Reads are lock-free; the bid path never waits on the actor.
 */
public final class Catalog {
  private final AtomicReference<CatalogSnapshot> current = new AtomicReference<>(CatalogSnapshot.EMPTY);
  private volatile boolean loaded;

  public CatalogSnapshot current() {
    return current.get();
  }

  /** True once the replica has been loaded from Cassandra at least once. */
  public boolean loaded() {
    return loaded;
  }

  void publish(CatalogSnapshot snapshot, boolean fromFullLoad) {
    current.set(snapshot);
    if (fromFullLoad) {
      loaded = true;
    }
  }
}
