package dev.adengine.engine.bench;

import com.typesafe.config.ConfigFactory;
import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.Placement;
import dev.adengine.api.v1.Winner;
import dev.adengine.engine.metrics.EngineMetrics;
import dev.adengine.engine.metrics.MeteredServices;
import dev.adengine.engine.metrics.MetricsRuntime;
import dev.adengine.engine.slo.SloTracker;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What issue 9's observability adds to each Bid call, around the bid path itself: the Kamon
 * latency timer and gRPC-code counter and the SLO tracker's one-minute buckets, fed from the one
 * completion callback of {@link MeteredServices#auction}, as the engine wires them. The wrapped service
 * answers a prebuilt response at once, so the figures are the additions alone: compare {@code
 * bare} with {@code metered}. Kamon runs without its agent here (no actor instrumentation: the
 * bid call runs on no actor).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MetricsBench {
  @Param({"bare", "metered"})
  public String mode;

  private AuctionService service;
  private BidRequest request;

  @Setup
  public void setUp() {
    MetricsRuntime.start(ConfigFactory.parseString("kamon.init.attach-instrumentation = no")
        .withFallback(ConfigFactory.load()));
    BidResponse response = BidResponse.newBuilder().setRequestId("r-1").addWinners(Winner.newBuilder()
        .setAdId("ad-1").setCampaignId("c-1").setPriceMicros(420_000).setPosition(1)).build();
    CompletableFuture<BidResponse> answer = CompletableFuture.completedFuture(response);
    AuctionService inner = new AuctionService() {
      @Override
      public CompletionStage<BidResponse> bid(BidRequest in) {
        return answer;
      }
    };
    request = BidRequest.newBuilder().setRequestId("r-1").setUserId("u-1").setDestination("paris")
        .setPlacement(Placement.SEARCH_RESULTS).setSlots(3).setTmaxMs(100).build();
    if (mode.equals("bare")) {
      service = inner;
    } else {
      SloTracker slo = new SloTracker(Duration.ofMinutes(1), Duration.ofDays(3), Duration.ofMillis(100),
          System::currentTimeMillis);
      service = MeteredServices.auction(inner, new EngineMetrics("bench-node"), slo);
    }
  }

  @Benchmark
  public CompletionStage<BidResponse> bid() {
    return service.bid(request);
  }
}
