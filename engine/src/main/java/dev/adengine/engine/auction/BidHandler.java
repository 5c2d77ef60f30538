package dev.adengine.engine.auction;

import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.NoBid;
import dev.adengine.api.v1.NoBidReason;
import dev.adengine.api.v1.Placement;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.Winner;
import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.budget.CampaignLedger;
import dev.adengine.engine.catalog.AdDef;
import dev.adengine.engine.catalog.AdvertiserEntry;
import dev.adengine.engine.catalog.Catalog;
import dev.adengine.engine.catalog.CatalogSnapshot;
import dev.adengine.engine.catalog.CampaignDef;
import dev.adengine.engine.catalog.CampaignEntry;
import dev.adengine.engine.events.ServedAds;
import dev.adengine.engine.features.CampaignSnapshot;
import dev.adengine.engine.features.FeatureStore;
import dev.adengine.experiments.Experiment;
import dev.adengine.models.CtrPrior;
import dev.adengine.persistence.ChargeRepository.Charge;
import dev.adengine.persistence.ServedRepository.ServedAd;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The bid path: experiment arm -> candidate retrieval from the catalog replica -> pCTR -> auction
 * -> budget reservation from this node's allowance -> response. Everything it reads is in local
 * memory; it never waits on an actor or on Cassandra (served records are written after, bounded).
 * Thread-safe: called concurrently from gRPC handlers.
 */
public final class BidHandler {

  public record Settings(Map<Placement, Long> placementFloors, double alpha, Auction.Type auctionType,
      Duration clickWindow, Duration clickGrace, String nodeId, String modelVersion) {}

  private final Settings settings;
  private final Catalog catalog;
  private final BudgetLedger ledger;
  private final OnlineStats stats;
  private final FeatureStore features;
  private final CtrPrior ctr;
  private final Experiment experiment;
  private final ServedAds served;
  private final Clock clock;

  public BidHandler(Settings settings, Catalog catalog, BudgetLedger ledger, OnlineStats stats, FeatureStore features,
      CtrPrior ctr, Experiment experiment, ServedAds served, Clock clock) {
    this.features = features;
    this.settings = settings;
    this.catalog = catalog;
    this.ledger = ledger;
    this.stats = stats;
    this.ctr = ctr;
    this.experiment = experiment;
    this.served = served;
    this.clock = clock;
  }

  public BidResponse handle(BidQuery q) {
    String arm = experiment.assign(q.userId());
    CatalogSnapshot snapshot = catalog.current();
    long placementFloor = settings.placementFloors().getOrDefault(q.placement(), 0L);
    long reserve = Math.max(placementFloor, q.floorMicros());
    List<NoBid> noBids = q.debug() ? new ArrayList<>() : null;
    List<Candidate> candidates = new ArrayList<>();
    collect(snapshot.forDestination(q.destination()), snapshot, q, reserve, candidates, noBids);
    collect(snapshot.anyDestination(), snapshot, q, reserve, candidates, noBids);

    Auction.Result result = Auction.run(candidates, q.slots(), settings.auctionType(), settings.alpha());
    long now = clock.millis();
    // A CPC reservation outlives the click window by a grace, so a click accepted at the window's
    // edge (possibly on another node) still finds it here.
    long reservationDeadline = now + settings.clickWindow().toMillis() + settings.clickGrace().toMillis();
    BidResponse.Builder response = BidResponse.newBuilder()
        .setRequestId(q.requestId())
        .setExperimentId(experiment.id())
        .setArm(arm == null ? "holdout" : arm)
        .setModelVersion(settings.modelVersion())
        .setCandidates(candidates.size());
    int position = 0;
    for (Auction.Win win : result.winners()) {
      Candidate c = win.candidate();
      CampaignDef def = c.campaign();
      String day;
      Charge charge = null;
      if (def.pricing() == Pricing.CPM) {
        long amount = CampaignDef.maxCharge(Pricing.CPM, win.priceMicros());
        day = ledger.chargeOnDay(def.campaignId(), amount);
        if (day != null) {
          charge = new Charge(def.campaignId(), day, settings.nodeId(), Charge.winId(q.requestId(), c.ad().adId()),
              amount, "WIN", now);
        }
      } else {
        day = ledger.reserveClickOnDay(def.campaignId(), q.requestId(), c.ad().adId(), win.priceMicros(),
            reservationDeadline);
      }
      if (day == null) {
        // Another request took the last of this node's allowance between retrieval and now.
        addNoBid(noBids, def.campaignId(), NoBidReason.NO_ALLOWANCE, "allowance taken by a concurrent win");
        continue;
      }
      position++;
      response.addWinners(Winner.newBuilder()
          .setPosition(position)
          .setAdId(c.ad().adId())
          .setCampaignId(def.campaignId())
          .setAdvertiserId(def.advertiserId())
          .setPriceMicros(win.priceMicros())
          .setPctr(c.pctr())
          .setScore(c.score())
          .setPricing(def.pricing())
          .setTitle(c.ad().title()));
      served.record(new ServedAd(q.requestId(), c.ad().adId(), def.campaignId(), def.advertiserId(),
          def.pricing().name(), win.priceMicros(), settings.nodeId(), now, day), charge);
    }
    if (noBids != null) {
      for (Candidate c : result.outbid()) {
        addNoBid(noBids, c.campaign().campaignId(), NoBidReason.OUTBID, "ranked below the last slot");
      }
      for (Candidate c : result.belowReserve()) {
        addNoBid(noBids, c.campaign().campaignId(), NoBidReason.BELOW_FLOOR, "bid under the reserve");
      }
      response.addAllNoBids(noBids);
    }
    return response.build();
  }

  private void collect(CampaignEntry[] entries, CatalogSnapshot snapshot, BidQuery q, long reserve,
      List<Candidate> out, List<NoBid> noBids) {
    for (CampaignEntry e : entries) {
      CampaignDef def = e.def();
      NoBidReason reason = eligibility(e, snapshot, q, reserve);
      if (reason != null) {
        addNoBid(noBids, def.campaignId(), reason, null);
        continue;
      }
      // The campaign's cluster-wide CTR (decayed counts from its entity's snapshot) is the prior
      // that each ad's own counts on this node refine.
      CampaignSnapshot snap = features.get(def.campaignId());
      double campaignCtr = snap == null ? ctr.prior() : ctr.estimate(snap.decayedImpressions(), snap.decayedClicks());
      for (AdDef ad : def.ads()) {
        OnlineStats.Counts counts = stats.of(ad.adId());
        double pctr = ctr.estimate(counts.impressions(), counts.clicks(), campaignCtr);
        double quality = 1.0;
        double score = Auction.score(def.pricing(), def.bidMicros(), pctr, quality, settings.alpha());
        out.add(new Candidate(def, ad, pctr, quality, score, reserve));
      }
    }
  }

  private NoBidReason eligibility(CampaignEntry e, CatalogSnapshot snapshot, BidQuery q, long reserve) {
    CampaignDef def = e.def();
    if (e.paused()) {
      return NoBidReason.CAMPAIGN_PAUSED;
    }
    AdvertiserEntry adv = snapshot.advertiser(def.advertiserId());
    if (adv != null && adv.paused()) {
      return NoBidReason.ADVERTISER_PAUSED;
    }
    if (def.ads().isEmpty()) {
      return NoBidReason.NO_ADS;
    }
    if (!def.targetsDevice(q.device())) {
      return NoBidReason.TARGETING_DEVICE;
    }
    if (!def.targetsPlacement(q.placement())) {
      return NoBidReason.TARGETING_PLACEMENT;
    }
    if (!def.targetsCheckin(q.checkin())) {
      return NoBidReason.TARGETING_DATES;
    }
    if (def.bidMicros() < reserve) {
      return NoBidReason.BELOW_FLOOR;
    }
    CampaignLedger l = ledger.get(def.campaignId());
    if (l == null || l.free() < def.maxChargeMicros()) {
      CampaignSnapshot snap = features.get(def.campaignId());
      return snap != null && snap.remainingMicros() < def.maxChargeMicros()
          ? NoBidReason.BUDGET_EXHAUSTED
          : NoBidReason.NO_ALLOWANCE;
    }
    return null;
  }

  private static void addNoBid(List<NoBid> noBids, String campaignId, NoBidReason reason, String detail) {
    if (noBids != null) {
      NoBid.Builder b = NoBid.newBuilder().setCampaignId(campaignId).setReason(reason);
      if (detail != null) {
        b.setDetail(detail);
      }
      noBids.add(b.build());
    }
  }
}
