package dev.adengine.engine.catalog;

/** An advertiser in the replica. */
public record AdvertiserEntry(String advertiserId, String name, long dailyBudgetMicros, String timeZone,
    boolean paused, long revision) {}
