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
import dev.adengine.engine.ranking.RankedCandidate;
import dev.adengine.engine.ranking.RankingFeatures;
import dev.adengine.engine.ranking.RankingPool;
import dev.adengine.engine.experiment.ServingExperiments;
import dev.adengine.engine.lifecycle.FeatureLogCodec;
import dev.adengine.engine.lifecycle.FeatureLogWriter;
import dev.adengine.engine.lifecycle.ModelHealth;
import dev.adengine.models.features.RequestFeatures;
import dev.adengine.experiments.ArmParams;
import dev.adengine.experiments.Assignment;
import dev.adengine.experiments.LayerAssignment;
import dev.adengine.experiments.stats.ArmStats;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.persistence.ChargeRepository.Charge;
import dev.adengine.persistence.ServedRepository.ServedAd;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The bid path: experiment arm -> candidate retrieval from the catalog replica -> two-stage
 * ranking ({@link RankingPool}: logistic regression for all, boosted trees for the top K on the
 * ranking workers) -> auction -> budget reservation from this node's allowance -> response.
 * Everything it reads is in local memory; it never waits on a remote actor or on Cassandra (served
 * records are written after, bounded). Thread-safe: called concurrently from gRPC handlers.
 *
 * <p>Experiments: each request is assigned by its user id with the node's current {@link
 * dev.adengine.experiments.Assigner} (a volatile read of {@link ServingExperiments}) and served
 * with its arms' {@link ArmParams} over the engine defaults: auction type, reserve (never below
 * the placement floor or the request's floor), quality factor, stage-2 top K, and the model
 * version when it is loaded on this node (the active one or one of {@code ranking.arm-models};
 * else the active model, counted in {@link ServingExperiments#modelFallbacks}). The response's {@code experiment_id} and {@code arm} name
 * the first layer (config order) in which the user is in an experiment; a user in the global
 * holdout gets an empty {@code experiment_id} and arm {@code holdout}; a user in no experiment
 * gets the settings' default label ({@code adengine.experiments.default}, "default"/"control"
 * as before). Every experiment arm the user is in records the request, whether it filled, its
 * latency and the CPM revenue it booked.
 *
 * <p>Deadline: ranking answers with what it has at {@code tmax - max(reply-margin, tmax / 5)} after
 * the request arrived (was received by the server, when the caller says so); the auction then runs
 * on what was scored.
 */
public final class BidHandler {

  /**
   * @param qualityWeight the ad quality factor in the rank score is {@code (review / 10)^qualityWeight}
   *     (0 = every ad has quality 1)
   * @param replyMargin how long before {@code tmax} ranking stops waiting for its workers, at least (a
   *     fifth of {@code tmax} when that is more)
   */
  public record Settings(Map<Placement, Long> placementFloors, double alpha, double qualityWeight,
      Auction.Type auctionType, Duration clickWindow, Duration clickGrace, Duration replyMargin, String nodeId,
      String defaultExperimentId, String defaultArm) {}

  private final Settings settings;
  private final Catalog catalog;
  private final BudgetLedger ledger;
  private final OnlineStats stats;
  private final FeatureStore features;
  private final RankingPool ranking;
  private final ServingExperiments experiments;
  private final ServedAds served;
  private final FeatureLogWriter featureLog;
  private final ModelHealth health;
  private final Clock clock;
  private final Meter meter;
  private final PostingLookups lookups;

  /**
   * What the bid path counts for metrics: called on the request's thread, so an implementation must
   * be cheap and never block (pre-resolved instruments, no per-call allocation).
   */
  public interface Meter {
    /**
     * {@code count} campaigns were left out of an answer for {@code reason}: every reason the
     * request determined (see {@link BidHandler#plan}: a debug request looks at more campaigns).
     */
    void noBids(NoBidReason reason, int count);

    /** A request was served in this experiment arm ({@code experimentId} empty for the global holdout). */
    void armRequest(String experimentId, String arm);

    Meter NONE = new Meter() {
      @Override
      public void noBids(NoBidReason reason, int count) {}

      @Override
      public void armRequest(String experimentId, String arm) {}
    };
  }

  public BidHandler(Settings settings, Catalog catalog, BudgetLedger ledger, OnlineStats stats, FeatureStore features,
      RankingPool ranking, ServingExperiments experiments, ServedAds served, FeatureLogWriter featureLog,
      ModelHealth health, Clock clock) {
    this(settings, catalog, ledger, stats, features, ranking, experiments, served, featureLog, health, clock,
        Meter.NONE);
  }

  public BidHandler(Settings settings, Catalog catalog, BudgetLedger ledger, OnlineStats stats, FeatureStore features,
      RankingPool ranking, ServingExperiments experiments, ServedAds served, FeatureLogWriter featureLog,
      ModelHealth health, Clock clock, Meter meter) {
    this.meter = meter;
    this.featureLog = featureLog;
    this.health = health;
    this.features = features;
    this.settings = settings;
    this.catalog = catalog;
    this.ledger = ledger;
    this.stats = stats;
    this.lookups = new PostingLookups();
    this.ranking = ranking;
    this.experiments = experiments;
    this.served = served;
    this.clock = clock;
  }

  /**
   * What retrieval, ranking and the auction decided for a request, before any budget is reserved:
   * the pure part of the bid path (benchmarked on its own).
   */
  public record Plan(BidQuery query, Assignment assignment, long reserveMicros, int candidates,
      RankingPool.Ranking ranking, Auction.Result auction, List<NoBid> noBids, long arrivedNanos,
      RequestFeatures requestFeatures, LocalDate servingDay, long medianPriceMicros, CtrModel model,
      CtrModel shadow) {}

  /**
   * What one request is served with: the arm parameters over the engine defaults, and the shadow
   * model (the arm's when it is loaded here, else the cluster's; null for none) that the feature log
   * scores beside {@code model}.
   */
  private record Serving(Auction.Type auctionType, long armReserveMicros, double qualityWeight, int topK,
      CtrModel model, CtrModel shadow) {}

  public CompletionStage<BidResponse> handle(BidQuery q) {
    return handle(q, System.nanoTime());
  }

  /** As {@link #handle(BidQuery)}, for a request received at {@code receivedNanos} ({@link System#nanoTime()}). */
  public CompletionStage<BidResponse> handle(BidQuery q, long receivedNanos) {
    return plan(q, receivedNanos).thenApply(this::commit);
  }

  /**
   * Retrieval, two-stage ranking and the auction; completes on the thread that finishes ranking.
   * Every campaign it looks at and leaves out is counted by reason ({@link Meter#noBids}): without
   * {@code debug}, those of the (destination, device, placement) index and the campaigns targeting
   * any destination; with it, every campaign of the destination (the index's device and placement
   * filters then show as TARGETING_DEVICE and TARGETING_PLACEMENT). Then, in {@link #commit}, the
   * auction's losers (OUTBID, BELOW_FLOOR, NO_ALLOWANCE when a concurrent win took the allowance).
   */
  public CompletionStage<Plan> plan(BidQuery q) {
    return plan(q, System.nanoTime());
  }

  /**
   * As {@link #plan(BidQuery)}, for a request received at {@code arrivedNanos}: the ranking deadline
   * and the recorded latency count from then, including any wait before the bid path started.
   */
  public CompletionStage<Plan> plan(BidQuery q, long arrivedNanos) {
    Assignment assignment = experiments.assigner().assign(q.userId());
    Serving serving = serving(assignment);
    CatalogSnapshot snapshot = catalog.current();
    long placementFloor = settings.placementFloors().getOrDefault(q.placement(), 0L);
    long reserve = Math.max(Math.max(placementFloor, q.floorMicros()), serving.armReserveMicros());
    List<NoBid> noBids = q.debug() ? new ArrayList<>() : null;
    LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
    RequestFeatures requestFeatures = RankingFeatures.request(q, today);
    long medianPrice = snapshot.medianPriceMicros(q.destination());
    RankingPool.Stage1 candidates = ranking.stage1(requestFeatures, q.destination(), medianPrice, serving.model());
    if (noBids != null) {
      // debug: walk every campaign of the destination, so each excluded one gets its reason
      collect(snapshot.forDestination(q.destination()), snapshot, q, reserve, serving, candidates, noBids);
      collect(snapshot.anyDestination(), snapshot, q, reserve, serving, candidates, noBids);
    } else {
      collect(snapshot, snapshot.candidates(q.destination(), q.device(), q.placement()), q, reserve, serving,
          candidates);
      collect(snapshot.anyDestinationCandidates(q.device(), q.placement()), snapshot, q, reserve, serving, candidates,
          null);
    }

    long tmaxNanos = q.tmaxMs() * 1_000_000L;
    long margin = Math.max(settings.replyMargin().toNanos(), tmaxNanos / 5);
    long deadline = arrivedNanos + Math.max(tmaxNanos - margin, tmaxNanos / 2);
    return ranking.rank(candidates, q.slots(), deadline, serving.topK())
        .thenApply(r -> {
          List<Candidate> entrants = new ArrayList<>(r.top().size());
          for (RankedCandidate c : r.top()) {
            entrants.add(new Candidate(c.campaign(), c.ad(), c.pctr(), c.quality(), c.score(), reserve));
          }
          Auction.Result result = Auction.run(entrants, q.slots(), serving.auctionType(), settings.alpha());
          return new Plan(q, assignment, reserve, candidates.offered(), r, result, noBids, arrivedNanos,
              requestFeatures, today, medianPrice, serving.model(), serving.shadow());
        });
  }

  /** The arm parameters of {@code a} over the engine defaults. */
  private Serving serving(Assignment a) {
    ArmParams p = a.params(ArmParams.DEFAULTS);
    Auction.Type type = p.auctionType() == null ? settings.auctionType() : Auction.Type.valueOf(p.auctionType().name());
    long armReserve = p.reserveMicros() == null ? 0 : p.reserveMicros();
    double quality = p.qualityFactor() == null ? settings.qualityWeight() : p.qualityFactor();
    int topK = p.topK() == null ? ranking.topK() : p.topK();
    CtrModel model = ranking.models().forVersion(p.modelVersion());
    if (model == null) {
      experiments.countModelFallback(); // that version is not loaded on this node: serve the active model
      model = ranking.models().current();
    }
    CtrModel shadow = p.shadowModelVersion() == null ? null : ranking.models().forVersion(p.shadowModelVersion());
    if (shadow == null) {
      shadow = ranking.models().shadow();
    }
    return new Serving(type, armReserve, quality, topK, model, shadow);
  }

  /** The experiment and arm a response names (see the class comment for the rule). */
  private void label(Assignment a, BidResponse.Builder response) {
    if (a.holdout()) {
      response.setExperimentId("").setArm(dev.adengine.experiments.ArmDef.HOLDOUT);
      return;
    }
    for (int i = 0; i < a.layerCount(); i++) {
      LayerAssignment l = a.layer(i);
      if (l.inExperiment()) {
        response.setExperimentId(l.experimentId()).setArm(l.arm());
        return;
      }
    }
    response.setExperimentId(settings.defaultExperimentId()).setArm(settings.defaultArm());
  }

  /** The served record's "experiment/arm" pairs (comma-separated) of the user's arms, or null. */
  private static String experimentArms(Assignment a) {
    if (a.holdout()) {
      return null;
    }
    StringBuilder sb = null;
    for (int i = 0; i < a.layerCount(); i++) {
      LayerAssignment l = a.layer(i);
      if (l.inExperiment()) {
        sb = sb == null ? new StringBuilder() : sb.append(',');
        sb.append(l.experimentId()).append('/').append(l.arm());
      }
    }
    return sb == null ? null : sb.toString();
  }

  /** Adds the request to the stats of every experiment arm its user is in. */
  private void record(Plan plan, boolean filled, long cpmRevenueMicros) {
    Assignment a = plan.assignment();
    if (a.holdout()) {
      meter.armRequest("", dev.adengine.experiments.ArmDef.HOLDOUT);
      return;
    }
    long latencyMicros = (System.nanoTime() - plan.arrivedNanos()) / 1_000;
    boolean inExperiment = false;
    for (int i = 0; i < a.layerCount(); i++) {
      LayerAssignment l = a.layer(i);
      if (l.inExperiment()) {
        inExperiment = true;
        meter.armRequest(l.experimentId(), l.arm());
        ArmStats.Recorder r = experiments.recorder(l.experimentId(), l.arm());
        r.recordRequest(plan.query().userId(), filled, latencyMicros);
        if (cpmRevenueMicros > 0) {
          r.recordRequestRevenue(cpmRevenueMicros);
          r.recordSpend(cpmRevenueMicros);
        }
      }
    }
    if (!inExperiment) {
      meter.armRequest(settings.defaultExperimentId(), settings.defaultArm());
    }
  }

  /** Reserves budget for the plan's winners from this node's allowance, records them, and answers. */
  private BidResponse commit(Plan plan) {
    BidQuery q = plan.query();
    RankingPool.Ranking ranked = plan.ranking();
    Auction.Result result = plan.auction();
    List<NoBid> noBids = plan.noBids();
    long now = clock.millis();
    // A CPC reservation outlives the click window by a grace, so a click accepted at the window's
    // edge (possibly on another node) still finds it here.
    long reservationDeadline = now + settings.clickWindow().toMillis() + settings.clickGrace().toMillis();
    BidResponse.Builder response = BidResponse.newBuilder()
        .setRequestId(q.requestId())
        .setModelVersion(ranked.modelVersion())
        .setCandidates(plan.candidates())
        .setPartial(ranked.partial());
    label(plan.assignment(), response);
    String experimentArms = experimentArms(plan.assignment());
    int position = 0;
    long cpmRevenue = 0;
    double summedPctr = 0;
    List<ServedAd> servedAds = new ArrayList<>(result.winners().size());
    List<Charge> winCharges = List.of();

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
          cpmRevenue += amount;
        }
      } else {
        day = ledger.reserveClickOnDay(def.campaignId(), q.requestId(), c.ad().adId(), win.priceMicros(),
            reservationDeadline);
      }
      if (day == null) {
        // Another request took the last of this node's allowance between retrieval and now.
        meter.noBids(NoBidReason.NO_ALLOWANCE, 1);
        addNoBid(noBids, def.campaignId(), NoBidReason.NO_ALLOWANCE, "allowance taken by a concurrent win");
        continue;
      }
      position++;
      summedPctr += c.pctr();
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
      servedAds.add(new ServedAd(q.requestId(), c.ad().adId(), def.campaignId(), def.advertiserId(),
          def.pricing().name(), win.priceMicros(), settings.nodeId(), now, day, experimentArms));
      if (charge != null) {
        if (winCharges.isEmpty()) {
          winCharges = new ArrayList<>(2);
        }
        winCharges.add(charge);
      }
    }
    if (!servedAds.isEmpty()) {
      served.recordAll(servedAds, winCharges);
    }
    countLosers(result.outbid().size() + ranked.belowTopK().size(), result.belowReserve().size());
    if (noBids != null) {
      for (Candidate c : result.outbid()) {
        addNoBid(noBids, c.campaign().campaignId(), NoBidReason.OUTBID, "ranked below the last slot");
      }
      for (RankedCandidate c : ranked.belowTopK()) {
        addNoBid(noBids, c.campaign().campaignId(), NoBidReason.OUTBID, "not in the stage-1 top K");
      }
      for (Candidate c : result.belowReserve()) {
        addNoBid(noBids, c.campaign().campaignId(), NoBidReason.BELOW_FLOOR, "bid under the reserve");
      }
      response.addAllNoBids(noBids);
    }
    record(plan, position > 0, cpmRevenue);
    health.served(summedPctr);
    BidResponse built = response.build();
    log(plan, built, now);
    return built;
  }

  private void countLosers(int outbid, int belowReserve) {
    if (outbid > 0) {
      meter.noBids(NoBidReason.OUTBID, outbid);
    }
    if (belowReserve > 0) {
      meter.noBids(NoBidReason.BELOW_FLOOR, belowReserve);
    }
  }

  /** Counts a request that failed on the server's side (for the model guardrail's error rate). */
  public void countFailure() {
    health.failed();
  }

  /** Hands the request to the feature log (one non-blocking queue offer; the log does the rest). */
  private void log(Plan plan, BidResponse response, long now) {
    if (featureLog.enabled()) {
      featureLog.offer(capture(plan, response, now));
    }
  }

  /** What the feature log gets of an answered request: its own objects and the logged context. */
  public static FeatureLogWriter.Capture capture(Plan plan, BidResponse response, long now) {
    BidQuery q = plan.query();
    FeatureLogCodec.Context context = new FeatureLogCodec.Context(q.destination(), q.device().getNumber(),
        q.placement().getNumber(), q.checkin() == null ? -1 : q.checkin().toEpochDay(),
        plan.servingDay().toEpochDay(), q.nights(), q.query(), q.slots(), plan.reserveMicros(),
        plan.medianPriceMicros());
    return new FeatureLogWriter.Capture(q.requestId(), now, response.getExperimentId(), response.getArm(),
        plan.model(), plan.shadow(), context, plan.requestFeatures(), plan.ranking().top(),
        plan.ranking().belowTopK(), response.getWinnersList());
  }

  /** The destination's posting list: each campaign comes with its ads that serve there. */
  private void collect(CatalogSnapshot snapshot, CatalogSnapshot.Posting[] postings, BidQuery q, long reserve,
      Serving serving, RankingPool.Stage1 out) {
    if (postings.length == 0) {
      return;
    }
    PostingLookups.Resolved resolved = lookups.of(snapshot, postings);
    for (int i = 0; i < postings.length; i++) {
      CatalogSnapshot.Posting p = postings[i];
      CampaignEntry e = p.entry();
      NoBidReason reason = targeting(e, p.advertiser(), q, reserve);
      if (reason == null) {
        reason = budget(e.def(), resolved.ledger(i, e.def().campaignId(), ledger));
      }
      if (reason == null) {
        offer(e.def(), p.ads(), null, serving, out, resolved, i);
      } else {
        meter.noBids(reason, 1);
      }
    }
  }

  /** Campaigns whose ads are filtered here (debug walks, campaigns targeting every destination). */
  private void collect(CampaignEntry[] entries, CatalogSnapshot snapshot, BidQuery q, long reserve, Serving serving,
      RankingPool.Stage1 out, List<NoBid> noBids) {
    for (CampaignEntry e : entries) {
      CampaignDef def = e.def();
      NoBidReason reason = targeting(e, snapshot.advertiser(e.def().advertiserId()), q, reserve);
      if (reason == null) {
        reason = budget(def, ledger.get(def.campaignId()));
      }
      if (reason != null) {
        meter.noBids(reason, 1);
        addNoBid(noBids, def.campaignId(), reason, null);
        continue;
      }
      if (offer(def, def.ads(), q.destination(), serving, out, null, 0) == 0) {
        meter.noBids(NoBidReason.NO_ADS, 1);
        addNoBid(noBids, def.campaignId(), NoBidReason.NO_ADS, "no ad for a hotel in the searched destination");
      }
    }
  }

  /**
   * Offers a campaign's ads to stage 1 with their online features: the campaign's cluster-wide
   * decayed counts (its entity's snapshot) and each ad's counts seen by this node. With a
   * {@code destination}, only the ads serving there; returns how many were offered. With
   * {@code resolved}, the ads' counts are read through posting {@code posting} of it.
   */
  private int offer(CampaignDef def, List<AdDef> ads, String destination, Serving serving, RankingPool.Stage1 out,
      PostingLookups.Resolved resolved, int posting) {
    CampaignSnapshot snap = resolved == null ? features.get(def.campaignId())
        : resolved.snapshot(posting, def.campaignId(), features);
    double campaignImpressions = snap == null ? 0 : snap.decayedImpressions();
    double campaignClicks = snap == null ? 0 : snap.decayedClicks();
    int offered = 0;
    for (int i = 0, n = ads.size(); i < n; i++) {
      AdDef ad = ads.get(i);
      if (destination != null && !ad.servesIn(destination)) {
        continue;
      }
      offered++;
      OnlineStats.Counts counts = resolved == null ? stats.of(ad.adId())
          : resolved.counts(posting, i, ad.adId(), stats);
      double quality = serving.qualityWeight() == 0 ? 1.0
          : Math.pow(Math.max(0.1, ad.reviewScore()) / 10.0, serving.qualityWeight());
      out.offer(def, ad, counts.impressions(), counts.clicks(), campaignImpressions, campaignClicks, quality);
    }
    return offered;
  }

  /**
   * Why campaign {@code e} (of advertiser {@code adv}, null if unknown) cannot bid for reasons other
   * than its budget; null when none.
   */
  private static NoBidReason targeting(CampaignEntry e, AdvertiserEntry adv, BidQuery q, long reserve) {
    CampaignDef def = e.def();
    if (e.paused()) {
      return NoBidReason.CAMPAIGN_PAUSED;
    }
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
    return null;
  }

  /** Why a campaign with ledger {@code l} (null: none on this node) cannot pay its largest charge; null when it can. */
  private NoBidReason budget(CampaignDef def, CampaignLedger l) {
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
