package dev.adengine.engine.ranking;

import dev.adengine.engine.auction.Auction;
import dev.adengine.engine.catalog.AdDef;
import dev.adengine.engine.catalog.CampaignDef;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.features.RequestFeatures;
import dev.adengine.models.scoring.CtrModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import scala.concurrent.ExecutionContext;

/**
 * Two-stage ranking with a fixed pool of {@link RankingWorker}s.
 *
 * <p>Stage 1 runs on the request's own thread: the calibrated logistic regression scores every
 * candidate (about 0.1 us each), each campaign keeps its best ad, and the best {@code max(top-k,
 * slots)} campaigns go on. Stage 2, the boosted trees (about 1 us per candidate), re-scores them:
 * split into batches across the workers, which run on their own dispatcher, then merged by a
 * {@link RankingJob}. Below {@code fan-out-min} candidates stage 2 runs inline, because on this
 * 2-core machine a hop between threads costs more than scoring a handful of rows (measured in
 * {@code docs/benchmarks/ranking.md}).
 *
 * <p>Deadline: the job answers with what it has at {@code deadlineNanos}; the timer runs on the
 * scheduler (10 ms resolution by default), so the reply margin below {@code tmax} must cover it.
 */
public final class RankingPool {
  public record Settings(int workers, int topK, int batchSize, int fanOutMin, double alpha) {
    public Settings {
      if (workers < 0 || topK < 1 || batchSize < 1 || fanOutMin < 0) {
        throw new IllegalArgumentException("bad ranking settings " + workers + "/" + topK + "/" + batchSize + "/"
            + fanOutMin);
      }
    }
  }

  /**
   * The ranking of one request: {@code top} in rank order with final scores (these enter the
   * auction), the campaigns' best ads that did not make the stage-1 top K, and whether the
   * deadline cut stage 2 short.
   */
  public record Ranking(List<RankedCandidate> top, List<RankedCandidate> belowTopK, boolean partial,
      int unscored, String modelVersion) {}

  public static final String DISPATCHER = "adengine.ranking.dispatcher";

  /** Rank order: score descending, then campaign id, then ad id (deterministic ties). */
  public static final Comparator<RankedCandidate> RANK = Comparator.comparingDouble(RankedCandidate::score)
      .reversed()
      .thenComparing(c -> c.campaign.campaignId())
      .thenComparing(c -> c.ad.adId());

  private static final AtomicInteger POOLS = new AtomicInteger();
  /** Per request-thread buffers (gRPC threads, the inline path): a feature row and the trees' scratch. */
  private static final ThreadLocal<double[]> ROW = ThreadLocal.withInitial(() -> new double[FeatureExtractor.SIZE]);
  private static final ThreadLocal<RankingWorker.Scratch> SCRATCH = ThreadLocal.withInitial(RankingWorker.Scratch::new);

  private final ActorRef<RankingWorker.Score>[] workers;
  private final AtomicInteger next = new AtomicInteger();
  private final org.apache.pekko.actor.typed.Scheduler scheduler;
  private final ExecutionContext timeoutContext;
  private final ModelHolder models;
  private final Settings settings;
  private final LongSupplier nanoClock;
  private final RankingMetrics metrics = new RankingMetrics();

  @SuppressWarnings("unchecked")
  private RankingPool(ActorSystem<?> system, Settings settings, ModelHolder models, LongSupplier nanoClock) {
    this.settings = settings;
    this.models = models;
    this.nanoClock = nanoClock;
    this.scheduler = system == null ? null : system.scheduler();
    this.timeoutContext = system == null ? null : system.executionContext();
    this.workers = new ActorRef[settings.workers()];
    POOLS.incrementAndGet();
    for (int i = 0; i < workers.length; i++) {
      workers[i] = system.systemActorOf(RankingWorker.create(), "ranking-worker-" + POOLS.get() + "-" + i,
          DispatcherSelector.fromConfig(DISPATCHER));
    }
  }

  /** Starts {@code settings.workers()} workers on the ranking dispatcher of {@code system}. */
  public static RankingPool start(ActorSystem<?> system, Settings settings, ModelHolder models) {
    return new RankingPool(system, settings, models, System::nanoTime);
  }

  /** A pool without workers: stage 2 always inline (benchmarks, tools); needs no actor system. */
  public static RankingPool inline(Settings settings, ModelHolder models) {
    return new RankingPool(null, new Settings(0, settings.topK(), settings.batchSize(), Integer.MAX_VALUE,
        settings.alpha()), models, System::nanoTime);
  }

  public RankingMetrics metrics() {
    return metrics;
  }

  public ModelHolder models() {
    return models;
  }

  /** The configured stage-2 top K (the default of experiment arms that do not set theirs). */
  public int topK() {
    return settings.topK();
  }

  /** Rank score of a candidate at its current pCTR (expected micros per impression). */
  static double score(RankedCandidate c, double alpha) {
    return Auction.score(c.campaign.pricing(), c.campaign.bidMicros(), c.pctr, c.quality, alpha);
  }

  /**
   * Stage 1 of one request, fed ad by ad as retrieval finds them (the ads of one campaign in a
   * row): scores each ad with the calibrated logistic regression and keeps only each campaign's
   * best ad, so that a request allocates per campaign, not per ad. The model is taken once here
   * and serves both stages. Not thread-safe: one per request, used on the request's thread, then
   * handed to {@link #rank(Stage1, int, long)}.
   */
  public final class Stage1 {
    private final RequestFeatures request;
    private final String destination;
    private final long medianPriceMicros;
    private final CtrModel model;
    private final double[] x = ROW.get();
    private final List<RankedCandidate> best = new ArrayList<>();
    private int offered;
    // the best ad so far of the campaign being offered
    private CampaignDef campaign;
    private AdDef ad;
    private double adImpressions;
    private double adClicks;
    private double campaignImpressions;
    private double campaignClicks;
    private double quality;
    private double logOdds;
    private double pctr;
    private double score;

    private Stage1(RequestFeatures request, String destination, long medianPriceMicros, CtrModel model) {
      this.request = request;
      this.destination = destination;
      this.medianPriceMicros = medianPriceMicros;
      this.model = model;
    }

    /** Scores one ad; the ads of a campaign must be offered one after another. */
    public void offer(CampaignDef def, AdDef offeredAd, double adImps, double adClks, double campaignImps,
        double campaignClks, double adQuality) {
      offered++;
      RankingFeatures.fill(x, request, destination, medianPriceMicros, offeredAd, 1, adImps, adClks, campaignImps,
          campaignClks);
      double z = model.stage1LogOdds(x);
      double p = model.stage1FromLogOdds(z);
      double sc = Auction.score(def.pricing(), def.bidMicros(), p, adQuality, settings.alpha());
      if (def == campaign) {
        // within a campaign: the higher score, then the smaller ad id (as RANK orders them)
        if (!(sc > score || (sc == score && offeredAd.adId().compareTo(ad.adId()) < 0))) {
          return;
        }
      } else {
        flush();
        campaign = def;
      }
      ad = offeredAd;
      adImpressions = adImps;
      adClicks = adClks;
      campaignImpressions = campaignImps;
      campaignClicks = campaignClks;
      quality = adQuality;
      logOdds = z;
      pctr = p;
      score = sc;
    }

    /** Ads offered so far (the request's candidates). */
    public int offered() {
      return offered;
    }

    private void flush() {
      if (campaign != null) {
        RankedCandidate c = new RankedCandidate(campaign, ad, adImpressions, adClicks, campaignImpressions,
            campaignClicks, quality);
        c.stage1LogOdds = logOdds;
        c.stage1 = pctr;
        c.pctr = pctr;
        c.score = score;
        best.add(c);
        campaign = null;
      }
    }
  }

  /** Starts ranking a request: stage 1 takes its ads through {@link Stage1#offer}. */
  public Stage1 stage1(RequestFeatures request, String destination, long medianPriceMicros) {
    return stage1(request, destination, medianPriceMicros, models.current());
  }

  /** As {@link #stage1(RequestFeatures, String, long)}, ranking with {@code model} (an experiment arm's). */
  public Stage1 stage1(RequestFeatures request, String destination, long medianPriceMicros, CtrModel model) {
    metrics.requests.increment();
    return new Stage1(request, destination, medianPriceMicros, model);
  }

  /**
   * Ranks {@code candidates} (the ads of one campaign must be contiguous, as retrieval adds them):
   * {@link #stage1} with every candidate offered, then {@link #rank(Stage1, int, long)}. The
   * ranking holds new candidate objects, one per campaign.
   */
  public CompletableFuture<Ranking> rank(List<RankedCandidate> candidates, RequestFeatures request,
      String destination, long medianPriceMicros, int slots, long deadlineNanos) {
    Stage1 s1 = stage1(request, destination, medianPriceMicros);
    for (RankedCandidate c : candidates) {
      s1.offer(c.campaign, c.ad, c.adImpressions, c.adClicks, c.campaignImpressions, c.campaignClicks, c.quality);
    }
    return rank(s1, slots, deadlineNanos);
  }

  /**
   * Finishes ranking a request whose ads were offered to {@code s1}: the best {@code max(top-k,
   * slots)} campaigns go to stage 2. The returned future completes when stage 2 is done or at
   * {@code deadlineNanos} (on {@link System#nanoTime()}'s scale), whichever is first.
   */
  public CompletableFuture<Ranking> rank(Stage1 s1, int slots, long deadlineNanos) {
    return rank(s1, slots, deadlineNanos, settings.topK());
  }

  /** As {@link #rank(Stage1, int, long)} with stage 2 rescoring the best {@code max(topK, slots)} (an arm's top K). */
  public CompletableFuture<Ranking> rank(Stage1 s1, int slots, long deadlineNanos, int topK) {
    s1.flush();
    CtrModel model = s1.model;
    RequestFeatures request = s1.request;
    String destination = s1.destination;
    long medianPriceMicros = s1.medianPriceMicros;
    double alpha = settings.alpha();
    List<RankedCandidate> best = s1.best;
    best.sort(RANK);
    int k = Math.min(best.size(), Math.max(topK, slots));
    List<RankedCandidate> top = best.subList(0, k);
    List<RankedCandidate> below = best.subList(k, best.size());
    String version = model.version();

    boolean inline = workers.length == 0 || top.isEmpty() || top.size() < settings.fanOutMin();
    if (inline && !top.isEmpty() && nanoClock.getAsLong() >= deadlineNanos) {
      // Out of time already (the request waited in a queue): answer on stage 1 alone.
      metrics.partialAnswers.increment();
      return CompletableFuture.completedFuture(new Ranking(top, below, true, top.size(), version));
    }
    if (inline) {
      metrics.inline.increment();
      RankingWorker.Scratch scratch = SCRATCH.get();
      double[] trees = scratch.forSize(model.scratchSize());
      int n = top.size();
      double[][] rows = scratch.rows(n);
      double[] logOdds = scratch.logOdds(n);
      double[] out = scratch.out(n);
      for (int i = 0; i < n; i++) {
        RankedCandidate c = top.get(i);
        RankingFeatures.fill(rows[i], request, destination, medianPriceMicros, c.ad, 1, c.adImpressions,
            c.adClicks, c.campaignImpressions, c.campaignClicks);
        logOdds[i] = c.stage1LogOdds;
      }
      model.stage2(rows, n, logOdds, out, trees); // the whole top K at once (vectorized when compiled)
      for (int i = 0; i < n; i++) {
        RankedCandidate c = top.get(i);
        c.pctr = out[i];
        c.rescored = true;
        c.score = score(c, alpha);
      }
      top.sort(RANK);
      return CompletableFuture.completedFuture(new Ranking(top, below, false, 0, version));
    }

    RankingJob job = new RankingJob(top, request, destination, medianPriceMicros, model, alpha,
        settings.batchSize(), deadlineNanos, nanoClock, metrics);
    long remaining = deadlineNanos - nanoClock.getAsLong();
    if (remaining <= 0) {
      job.complete();
    } else {
      Cancellable timer = scheduler.scheduleOnce(Duration.ofNanos(remaining), job::complete, timeoutContext);
      job.future.whenComplete((o, e) -> timer.cancel());
      for (int b = 0; b < job.batches(); b++) {
        workers[Math.floorMod(next.getAndIncrement(), workers.length)].tell(new RankingWorker.Score(job, b));
      }
    }
    return job.future.thenApply(o -> {
      List<RankedCandidate> ranked = new ArrayList<>(o.top());
      ranked.sort(RANK);
      return new Ranking(ranked, below, o.partial(), o.unscored(), version);
    });
  }
}
