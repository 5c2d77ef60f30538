package dev.adengine.engine.catalog;

import dev.adengine.engine.CborSerializable;

/**
 * A change to the catalog, published by an entity to every node's replica through the
 * "catalog" topic. The payload is the API message (CampaignView or AdvertiserView) in protobuf
 * bytes, the same bytes stored in Cassandra's catalog tables.
 */
public record CatalogUpdate(Kind kind, String id, long revision, byte[] payload) implements CborSerializable {
  public enum Kind {
    CAMPAIGN,
    ADVERTISER
  }
}
