package dev.adengine.engine.bench;

import com.typesafe.config.ConfigFactory;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Pricing;
import dev.adengine.engine.catalog.AdDef;
import dev.adengine.engine.catalog.CampaignDef;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.engine.ranking.RankedCandidate;
import dev.adengine.engine.ranking.RankingPool;
import dev.adengine.models.features.RequestFeatures;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * When does fanning stage 2 out to the ranking workers pay on this machine? Ranks 200 candidates
 * (200 campaigns, one ad each) with {@code topK} of them re-scored by the trees, either inline on
 * the caller's thread or split in batches of {@code batch} across 2 worker actors; the score is
 * the caller's wall time per request (it waits for the answer), which is what fan-out can shorten.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FanOutBench {
  @Param({"inline", "workers"})
  public String mode;

  @Param({"16", "50", "100", "200"})
  public int topK;

  @Param({"16"})
  public int batch;

  private ActorSystem<Void> system;
  private RankingPool pool;
  private List<RankedCandidate> candidates;
  private final RequestFeatures request =
      RequestFeatures.of(RequestFeatures.MOBILE, RequestFeatures.SEARCH_RESULTS, 14, 2, "family beach");

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    ModelHolder models = new ModelHolder(ModelHolder.load(""));
    RankingPool.Settings s = new RankingPool.Settings(2, topK, batch, 0, 1.0);
    if (mode.equals("inline")) {
      pool = RankingPool.inline(s, models);
    } else {
      system = ActorSystem.create(Behaviors.empty(), "fanout", ConfigFactory.parseString("""
          adengine.ranking.dispatcher {
            type = Dispatcher
            executor = "thread-pool-executor"
            thread-pool-executor.fixed-pool-size = 2
            throughput = 8
          }""").withFallback(ConfigFactory.defaultReference()));
      pool = RankingPool.start(system, s, models);
    }
    SplittableRandom r = new SplittableRandom(5);
    candidates = new ArrayList<>();
    for (int c = 0; c < 200; c++) {
      AdDef ad = new AdDef("ad" + c, "t", "h" + c, 1 + r.nextInt(5), 6 + r.nextDouble() * 4,
          80_000_000L + r.nextInt(150_000_000), r.nextInt(3) == 0 ? "rome" : "paris");
      CampaignDef def = new CampaignDef("c" + c, "a", "c", Pricing.CPC, 200_000 + r.nextInt(2_000_000), 1_000_000_000L,
          Set.of("paris"), CampaignDef.ALL, CampaignDef.ALL, List.of(ad), Pacing.EVEN, null, null, ZoneId.of("UTC"));
      candidates.add(new RankedCandidate(def, ad, r.nextInt(5_000), r.nextInt(50), r.nextInt(50_000), r.nextInt(500),
          1.0));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (system != null) {
      system.terminate();
    }
  }

  @Benchmark
  public RankingPool.Ranking rank() {
    return pool.rank(candidates, request, "paris", 120_000_000L, 5, System.nanoTime() + 100_000_000L).join();
  }
}
