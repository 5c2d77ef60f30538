package dev.adengine.engine.ranking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Pricing;
import dev.adengine.engine.catalog.AdDef;
import dev.adengine.engine.catalog.CampaignDef;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.features.RequestFeatures;
import dev.adengine.models.scoring.CtrModel;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two-stage ranking on real worker actors, with the model shipped in the engine jar. */
class RankingPoolTest {
  static ActorTestKit testKit;
  static CtrModel model;

  static final RequestFeatures REQUEST = RequestFeatures.of(RequestFeatures.MOBILE, RequestFeatures.SEARCH_RESULTS,
      12, 3, "family hotel near the beach");
  static final String DESTINATION = "paris";
  static final long MEDIAN = 150_000_000L;

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create("ranking", ConfigFactory.parseString("""
        adengine.ranking.dispatcher {
          type = Dispatcher
          executor = "thread-pool-executor"
          thread-pool-executor.fixed-pool-size = 2
        }"""));
    model = ModelHolder.load("");
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldRescoreTheStageOneTopKWithTheTreesAndKeepOneAdPerCampaign() throws Exception {
    // given: 30 campaigns of 3 ads each; the top 5 campaigns go to stage 2, in batches of 2
    RankingPool pool = RankingPool.start(testKit.system(), new RankingPool.Settings(2, 5, 2, 0, 1.0),
        new ModelHolder(model));
    List<RankedCandidate> candidates = candidates(30, 3);

    // when
    RankingPool.Ranking r = pool.rank(candidates, REQUEST, DESTINATION, MEDIAN, 3, far()).get(5, TimeUnit.SECONDS);

    // then
    assertEquals(5, r.top().size());
    assertEquals(25, r.belowTopK().size());
    assertFalse(r.partial());
    assertEquals(model.version(), r.modelVersion());
    Set<String> campaigns = new HashSet<>();
    double[] x = new double[FeatureExtractor.SIZE];
    for (RankedCandidate c : r.top()) {
      assertTrue(campaigns.add(c.campaign().campaignId()), "one ad per campaign");
      assertTrue(c.rescored());
      RankingFeatures.fill(x, REQUEST, DESTINATION, MEDIAN, c.ad(), 1, c.adImpressions, c.adClicks,
          c.campaignImpressions, c.campaignClicks);
      assertEquals(model.stage2(x), c.pctr(), 0.0, "stage-2 pCTR of " + c.ad().adId());
      assertEquals(model.stage1(x), c.stage1(), 0.0);
      assertEquals(c.campaign().bidMicros() * c.pctr(), c.score(), 1e-6);
    }
    for (int i = 1; i < r.top().size(); i++) {
      assertTrue(RankingPool.RANK.compare(r.top().get(i - 1), r.top().get(i)) < 0, "top in rank order");
    }
    // every campaign outside the top K is one whose best stage-1 score is below the top K's lowest
    double lowestTopStage1 = r.top().stream().mapToDouble(c -> c.campaign().bidMicros() * c.stage1()).min()
        .orElseThrow();
    for (RankedCandidate c : r.belowTopK()) {
      assertFalse(c.rescored());
      assertTrue(c.score() <= lowestTopStage1, "stage-1 top K holds the best campaigns");
      assertFalse(campaigns.contains(c.campaign().campaignId()));
    }
  }

  @Test
  void shouldRankTheSameInlineAndFannedOut() throws Exception {
    // given
    ModelHolder models = new ModelHolder(model);
    RankingPool fanned = RankingPool.start(testKit.system(), new RankingPool.Settings(2, 12, 3, 0, 1.0), models);
    RankingPool inline = RankingPool.inline(new RankingPool.Settings(0, 12, 3, 0, 1.0), models);

    // when
    RankingPool.Ranking a = fanned.rank(candidates(40, 2), REQUEST, DESTINATION, MEDIAN, 4, far())
        .get(5, TimeUnit.SECONDS);
    RankingPool.Ranking b = inline.rank(candidates(40, 2), REQUEST, DESTINATION, MEDIAN, 4, far())
        .get(5, TimeUnit.SECONDS);

    // then
    assertEquals(describe(b.top()), describe(a.top()));
    assertEquals(1, inline.metrics().inline());
    assertEquals(0, fanned.metrics().inline());
  }

  @Test
  void shouldAnswerWithStageOneScoresWhenTheWorkersMissTheDeadline() throws Exception {
    // given: both ranking threads are stuck, as on an overloaded node
    RankingPool pool = RankingPool.start(testKit.system(), new RankingPool.Settings(2, 8, 4, 0, 1.0),
        new ModelHolder(model));
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch stuck = new CountDownLatch(2);
    Executor dispatcher = testKit.system().dispatchers().lookup(DispatcherSelector.fromConfig(RankingPool.DISPATCHER));
    for (int i = 0; i < 2; i++) {
      dispatcher.execute(() -> {
        stuck.countDown();
        long until = System.nanoTime() + 10_000_000_000L;
        while (release.getCount() > 0 && System.nanoTime() < until) {
          try {
            release.await(10, TimeUnit.MILLISECONDS);
          } catch (InterruptedException e) {
            // keep the thread stuck until released: that is the point of this task
          }
        }
      });
    }
    assertTrue(stuck.await(5, TimeUnit.SECONDS), "both ranking threads are stuck");
    long start = System.nanoTime();

    // when
    RankingPool.Ranking r;
    try {
      r = pool.rank(candidates(20, 1), REQUEST, DESTINATION, MEDIAN, 3, start + 80_000_000L)
          .get(5, TimeUnit.SECONDS);
    } finally {
      release.countDown();
    }
    long tookMillis = (System.nanoTime() - start) / 1_000_000;

    // then: answered near the deadline (the scheduler ticks every 10 ms), with stage-1 scores
    assertTrue(tookMillis >= 70 && tookMillis < 1_000, "answered after " + tookMillis + " ms");
    assertTrue(r.partial());
    assertEquals(8, r.unscored());
    assertEquals(8, r.top().size());
    for (RankedCandidate c : r.top()) {
      assertFalse(c.rescored());
      assertEquals(c.stage1(), c.pctr(), 0.0);
    }
    assertEquals(1, pool.metrics().partialAnswers());
    // the stuck batches are skipped, not scored, once the workers get to them
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (pool.metrics().lateBatches() < 2 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(2, pool.metrics().lateBatches());
  }

  @Test
  void shouldAnswerAtOnceWithStageOneScoresWhenNoTimeIsLeft() throws Exception {
    // given
    RankingPool pool = RankingPool.start(testKit.system(), new RankingPool.Settings(2, 8, 4, 0, 1.0),
        new ModelHolder(model));

    // when
    RankingPool.Ranking r = pool.rank(candidates(20, 1), REQUEST, DESTINATION, MEDIAN, 3, System.nanoTime() - 1)
        .get(1, TimeUnit.SECONDS);

    // then
    assertTrue(r.partial());
    assertEquals(8, r.unscored());
  }

  @Test
  void shouldSkipStageTwoInlineWhenTheRequestIsAlreadyOutOfTime() throws Exception {
    // given: a pool that scores stage 2 inline, and a request whose deadline has passed
    RankingPool pool = RankingPool.inline(new RankingPool.Settings(0, 8, 4, 0, 1.0), new ModelHolder(model));

    // when
    RankingPool.Ranking r = pool.rank(candidates(20, 1), REQUEST, DESTINATION, MEDIAN, 3, System.nanoTime() - 1)
        .get(1, TimeUnit.SECONDS);

    // then: stage-1 scores, flagged and counted
    assertTrue(r.partial());
    assertEquals(8, r.unscored());
    assertTrue(r.top().stream().noneMatch(RankedCandidate::rescored));
    assertEquals(1, pool.metrics().partialAnswers());
  }

  @Test
  void shouldPreferTheHotelInTheSearchedDestinationWhenAllElseIsEqual() throws Exception {
    // given: the same hotel attributes, one located in the searched destination, one elsewhere
    RankingPool pool = RankingPool.inline(new RankingPool.Settings(0, 10, 4, 0, 1.0), new ModelHolder(model));
    CampaignDef here = campaign("here", 1_000_000, List.of(new AdDef("ad-here", "t", "h1", 4, 8.5, MEDIAN, DESTINATION)));
    CampaignDef away = campaign("away", 1_000_000, List.of(new AdDef("ad-away", "t", "h2", 4, 8.5, MEDIAN, "rome")));
    List<RankedCandidate> list = List.of(new RankedCandidate(here, here.ads().get(0), 0, 0, 0, 0, 1.0),
        new RankedCandidate(away, away.ads().get(0), 0, 0, 0, 0, 1.0));

    // when
    RankingPool.Ranking r = pool.rank(list, REQUEST, DESTINATION, MEDIAN, 2, far()).get(1, TimeUnit.SECONDS);

    // then
    assertEquals("here", r.top().get(0).campaign().campaignId());
    assertTrue(r.top().get(0).pctr() > 1.5 * r.top().get(1).pctr(),
        "in-destination " + r.top().get(0).pctr() + " vs elsewhere " + r.top().get(1).pctr());
    assertNotEquals(r.top().get(0).pctr(), r.top().get(0).stage1());
  }

  // ---- helpers ----

  static long far() {
    return System.nanoTime() + 10_000_000_000L;
  }

  static List<RankedCandidate> candidates(int campaigns, int adsEach) {
    List<RankedCandidate> list = new ArrayList<>();
    for (int c = 0; c < campaigns; c++) {
      List<AdDef> ads = new ArrayList<>();
      for (int a = 0; a < adsEach; a++) {
        int stars = 1 + (c * 7 + a * 3) % 5;
        double review = 6 + ((c * 13 + a * 5) % 40) / 10.0;
        long price = MEDIAN / 2 + (long) ((c * 31 + a * 17) % 100) * MEDIAN / 50;
        ads.add(new AdDef("ad-" + c + "-" + a, "Hotel " + c + "/" + a, "h" + c + a, stars, review, price,
            (c + a) % 3 == 0 ? "rome" : DESTINATION));
      }
      CampaignDef def = campaign(String.format("c%03d", c), 500_000 + (c % 7) * 250_000L, ads);
      for (AdDef ad : ads) {
        list.add(new RankedCandidate(def, ad, c * 10, c % 3, c * 100, c % 5, 1.0));
      }
    }
    return list;
  }

  static CampaignDef campaign(String id, long bid, List<AdDef> ads) {
    return new CampaignDef(id, "adv", id, Pricing.CPC, bid, 100_000_000, Set.of(DESTINATION), CampaignDef.ALL,
        CampaignDef.ALL, ads, Pacing.EVEN, null, null, ZoneId.of("UTC"));
  }

  static List<String> describe(List<RankedCandidate> top) {
    return top.stream().map(c -> c.ad().adId() + "@" + c.pctr()).toList();
  }
}
