package dev.adengine.engine.sim;

import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.Campaign;
import dev.adengine.engine.auction.BidQuery;
import dev.adengine.engine.catalog.AdDef;
import dev.adengine.engine.catalog.AdvertiserEntry;
import dev.adengine.engine.catalog.CampaignDef;
import dev.adengine.engine.catalog.CampaignEntry;
import dev.adengine.engine.catalog.CatalogCodec;
import dev.adengine.engine.catalog.CatalogSnapshot;
import dev.adengine.engine.grpc.Validation;
import dev.adengine.engine.ranking.RankingFeatures;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.features.RequestFeatures;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Labelled impressions for training and evaluating pCTR models, generated offline from the
 * simulator: requests from {@link RequestGenerator}, eligible campaigns from a {@link
 * CatalogSnapshot} of the market (the bid path's own index and targeting checks), and clicks drawn
 * from {@link GroundTruthClickModel}. Features come from {@link RankingFeatures}, the bid path's
 * extraction, with the position the ad was shown at.
 *
 * <p>The logging policy is exploration traffic: each request shows {@code slots} eligible
 * campaigns in a uniformly random order (one random ad each), so position and ad quality are not
 * confounded and the logs cover ads a trained ranker would rarely show. Every row keeps its true
 * click probability, which gives the oracle's AUC and log loss on the same rows.
 *
 * <p>Online features (ad and campaign impressions and clicks) accumulate as the log is generated,
 * as they would on a serving node. Rows are assigned to a split by request: a request's
 * impressions never straddle training and test.
 */
public final class ClickLogGenerator {

  /** Which split a row belongs to: 60% train, 15% calibration, 25% test, by request. */
  public enum Split {
    TRAIN,
    CALIBRATION,
    TEST;

    static Split of(long requestSequence) {
      int r = (int) (requestSequence % 20);
      return r < 12 ? TRAIN : r < 15 ? CALIBRATION : TEST;
    }
  }

  /** Labelled rows of one split; {@code truth[i]} is the oracle's click probability of row {@code i}. */
  public record Rows(double[][] x, int[] y, double[] truth) {
    public int size() {
      return y.length;
    }
  }

  /** The three splits of one generated log. */
  public record Log(Rows train, Rows calibration, Rows test, long requests) {}

  private final Market market;
  private final CatalogSnapshot catalog;
  private final GroundTruthClickModel truth;
  private final RequestGenerator requests;
  private final SplittableRandom random;
  private final LocalDate today;
  private final Map<String, double[]> adCounts = new HashMap<>();
  private final Map<String, double[]> campaignCounts = new HashMap<>();

  public ClickLogGenerator(Market market, long seed, LocalDate today) {
    this.market = market;
    this.catalog = snapshot(market);
    this.truth = GroundTruthClickModel.forMarket(market);
    this.requests = new RequestGenerator(market.destinations(), seed, today, "log");
    this.random = new SplittableRandom(seed * 31 + 7);
    this.today = today;
  }

  /** The market as the engine's catalog replica would hold it, every campaign active. */
  public static CatalogSnapshot snapshot(Market market) {
    Map<String, String> zones = new HashMap<>();
    Map<String, AdvertiserEntry> advertisers = new HashMap<>();
    for (Advertiser a : market.advertisers()) {
      zones.put(a.getAdvertiserId(), a.getTimeZone());
      advertisers.put(a.getAdvertiserId(),
          new AdvertiserEntry(a.getAdvertiserId(), a.getName(), a.getDailyBudgetMicros(), a.getTimeZone(), false, 1));
    }
    Map<String, CampaignEntry> campaigns = new HashMap<>();
    for (Campaign c : market.campaigns()) {
      campaigns.put(c.getCampaignId(),
          new CampaignEntry(CatalogCodec.toDef(c, zones.get(c.getAdvertiserId())), false, 1));
    }
    return new CatalogSnapshot(campaigns, advertisers, 0L);
  }

  /** Generates the impressions of {@code requestCount} requests. */
  public Log generate(int requestCount) {
    Builder train = new Builder();
    Builder cal = new Builder();
    Builder test = new Builder();
    List<CampaignEntry> eligible = new ArrayList<>();
    for (int n = 0; n < requestCount; n++) {
      SimRequest sim = requests.next();
      BidQuery q = Validation.bid(sim.request(), Integer.MAX_VALUE);
      eligible.clear();
      collect(catalog.forDestination(q.destination()), q, eligible);
      collect(catalog.anyDestination(), q, eligible);
      int shown = Math.min(q.slots(), eligible.size());
      // partial Fisher-Yates: the first `shown` entries become a uniform random ordered sample
      for (int i = 0; i < shown; i++) {
        int j = i + random.nextInt(eligible.size() - i);
        CampaignEntry t = eligible.get(i);
        eligible.set(i, eligible.get(j));
        eligible.set(j, t);
      }
      RequestFeatures rf = RankingFeatures.request(q, today);
      long median = catalog.medianPriceMicros(q.destination());
      Builder out = switch (Split.of(sim.sequence())) {
        case TRAIN -> train;
        case CALIBRATION -> cal;
        case TEST -> test;
      };
      String[] shownAds = new String[shown];
      boolean[] clicked = new boolean[shown];
      for (int i = 0; i < shown; i++) {
        CampaignDef def = eligible.get(i).def();
        AdDef ad = def.ads().get(random.nextInt(def.ads().size()));
        int position = i + 1;
        double[] a = adCounts.getOrDefault(ad.adId(), NONE);
        double[] c = campaignCounts.getOrDefault(def.campaignId(), NONE);
        double[] x = new double[FeatureExtractor.SIZE];
        RankingFeatures.fill(x, rf, q.destination(), median, ad, position, a[0], a[1], c[0], c[1]);
        double p = truth.clickProbability(market.listing(ad.adId()).orElseThrow().ad(), sim.destination(),
            sim.context(), position);
        boolean click = random.nextDouble() < p;
        out.add(x, click ? 1 : 0, p);
        shownAds[i] = ad.adId();
        clicked[i] = click;
      }
      // the serving node learns of impressions and clicks after the response
      for (int i = 0; i < shown; i++) {
        double[] a = adCounts.computeIfAbsent(shownAds[i], k -> new double[2]);
        double[] c = campaignCounts.computeIfAbsent(eligible.get(i).def().campaignId(), k -> new double[2]);
        a[0]++;
        c[0]++;
        if (clicked[i]) {
          a[1]++;
          c[1]++;
        }
      }
    }
    return new Log(train.build(), cal.build(), test.build(), requestCount);
  }

  private static final double[] NONE = new double[2];

  private static void collect(CampaignEntry[] entries, BidQuery q, List<CampaignEntry> out) {
    for (CampaignEntry e : entries) {
      CampaignDef def = e.def();
      if (def.targetsDevice(q.device()) && def.targetsPlacement(q.placement()) && def.targetsCheckin(q.checkin())
          && def.bidMicros() >= q.floorMicros() && !def.ads().isEmpty()) {
        out.add(e);
      }
    }
  }

  private static final class Builder {
    private final List<double[]> x = new ArrayList<>();
    private final List<Integer> y = new ArrayList<>();
    private final List<Double> p = new ArrayList<>();

    void add(double[] row, int label, double truth) {
      x.add(row);
      y.add(label);
      p.add(truth);
    }

    Rows build() {
      int n = y.size();
      int[] ys = new int[n];
      double[] ps = new double[n];
      for (int i = 0; i < n; i++) {
        ys[i] = y.get(i);
        ps[i] = p.get(i);
      }
      return new Rows(x.toArray(new double[0][]), ys, ps);
    }
  }
}
