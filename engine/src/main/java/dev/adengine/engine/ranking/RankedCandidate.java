package dev.adengine.engine.ranking;

import dev.adengine.engine.catalog.AdDef;
import dev.adengine.engine.catalog.CampaignDef;

/**
 * One ad on its way through ranking: its inputs (campaign, ad, online counts, quality), its
 * stage-1 pCTR and, once re-scored, its stage-2 pCTR. Mutable, but owned by one request: written
 * by the request's thread before the fan-out and by the thread that completes the request after
 * it; workers only read the inputs and return their scores in their own arrays.
 */
public final class RankedCandidate {
  final CampaignDef campaign;
  final AdDef ad;
  final double adImpressions;
  final double adClicks;
  final double campaignImpressions;
  final double campaignClicks;
  final double quality;
  double stage1LogOdds;
  double stage1;
  double pctr;
  double score;
  boolean rescored;

  public RankedCandidate(CampaignDef campaign, AdDef ad, double adImpressions, double adClicks,
      double campaignImpressions, double campaignClicks, double quality) {
    this.campaign = campaign;
    this.ad = ad;
    this.adImpressions = adImpressions;
    this.adClicks = adClicks;
    this.campaignImpressions = campaignImpressions;
    this.campaignClicks = campaignClicks;
    this.quality = quality;
  }

  public CampaignDef campaign() {
    return campaign;
  }

  public AdDef ad() {
    return ad;
  }

  public double quality() {
    return quality;
  }

  /** The final pCTR: stage 2's when re-scored, else stage 1's. */
  public double pctr() {
    return pctr;
  }

  public double stage1() {
    return stage1;
  }

  public double score() {
    return score;
  }

  public boolean rescored() {
    return rescored;
  }

  /** The ad's decayed impressions seen by this node when it was offered (an online feature input). */
  public double adImpressions() {
    return adImpressions;
  }

  public double adClicks() {
    return adClicks;
  }

  /** The campaign's cluster-wide decayed impressions when it was offered (an online feature input). */
  public double campaignImpressions() {
    return campaignImpressions;
  }

  public double campaignClicks() {
    return campaignClicks;
  }
}
