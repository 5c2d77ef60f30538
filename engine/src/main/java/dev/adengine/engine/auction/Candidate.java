package dev.adengine.engine.auction;

import dev.adengine.engine.catalog.AdDef;
import dev.adengine.engine.catalog.CampaignDef;

/**
 * An eligible ad with its predicted CTR and rank score. The score is the expected value of one
 * impression in micros: {@code bid x pCTR^alpha x quality} for CPC, {@code bid / 1000 x quality}
 * for CPM, so both pricing types compete in one ranking.
 */
public record Candidate(CampaignDef campaign, AdDef ad, double pctr, double quality, double score,
    long reserveMicros) {}
