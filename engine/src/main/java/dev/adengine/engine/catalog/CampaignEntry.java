package dev.adengine.engine.catalog;

/** A campaign in the replica: its definition, whether it may serve, and the entity revision it came from. */
public record CampaignEntry(CampaignDef def, boolean paused, long revision) {}
