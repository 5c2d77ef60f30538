package dev.adengine.experiments.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class ArmStatsTest {

  @Test
  void shouldCountEverythingOnceWhenManyThreadsRecord() throws Exception {
    // given one recorder and four threads, each recording 50,000 requests
    ArmStats.Recorder recorder = ArmStats.recorder();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<CompletableFuture<Void>> done = new ArrayList<>();
    try {
      for (int t = 0; t < 4; t++) {
        done.add(CompletableFuture.runAsync(() -> {
          for (int i = 0; i < 50_000; i++) {
            recorder.recordRequest("user-" + (i % 5000), i % 4 != 0, 1 + i % 1000);
            recorder.recordImpressions(i % 4 != 0 ? 2 : 0);
            if (i % 20 == 0) {
              recorder.recordClicks(1);
              recorder.recordRequestRevenue(300_000);
              recorder.recordSpend(300_000);
            }
            if (i % 10_000 == 0) {
              recorder.snapshot(); // snapshots while recording change nothing
            }
          }
        }, pool));
      }
      CompletableFuture.allOf(done.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
    } finally {
      pool.shutdown();
    }

    // when
    ArmStats s = recorder.snapshot();

    // then
    assertEquals(200_000, s.requests());
    assertEquals(150_000, s.filledRequests());
    assertEquals(300_000, s.impressions());
    assertEquals(10_000, s.clicks());
    assertEquals(3_000_000_000L, s.revenueMicros());
    assertEquals(10_000 * 9e10, s.revenueSquares(), 1);
    assertEquals(3_000_000_000L, s.spendMicros());
    assertEquals(200_000, s.latencyCount());
    assertEquals(5_000, s.users().size()); // distinct users, exact under the sample's capacity
    assertEquals(990, s.latencyP99Micros(), 10); // uniform 1..1000 us, two significant digits
    assertEquals(0.75, s.fillRate(), 1e-12);
    assertEquals(1.0 / 30, s.ctr(), 1e-12);
    assertEquals(15_000, s.revenuePerRequestMicros(), 1e-9);
    // variance of a 5 % Bernoulli times 300,000: 0.05 * 0.95 * 300000^2 * n/(n-1)
    assertEquals(0.05 * 0.95 * 9e10 * 200_000 / 199_999, s.revenueMoments().variance(), 1e-3);
  }

  @Test
  void shouldTakeTheClusterPercentileWhenNodesAreMerged() {
    // given node A answered 9,800 requests in 100 us and node B 200 in 5 ms
    Histogram a = ArmStats.newHistogram();
    a.recordValueWithCount(100, 9_800);
    Histogram b = ArmStats.newHistogram();
    b.recordValueWithCount(5_000, 200);
    ArmStats nodeA = ArmStats.of(9_800, 9_000, 9_000, 450, 1_000_000, 2e11, 900_000, a);
    ArmStats nodeB = ArmStats.of(200, 100, 100, 5, 20_000, 4e9, 20_000, b);

    // when
    ArmStats cluster = nodeA.plus(nodeB);

    // then every counter is the sum, and p99 is the cluster's (2 % of requests took 5 ms), not a mean of p99s
    assertEquals(10_000, cluster.requests());
    assertEquals(9_100, cluster.filledRequests());
    assertEquals(455, cluster.clicks());
    assertEquals(1_020_000, cluster.revenueMicros());
    assertEquals(2.04e11, cluster.revenueSquares(), 1);
    assertEquals(100, nodeA.latencyP99Micros(), 1);
    assertEquals(5_000, cluster.latencyP99Micros(), 50);
    assertEquals(cluster, nodeB.plus(nodeA));
    assertEquals(cluster, ArmStats.empty().plus(nodeA).plus(nodeB));
  }

  @Test
  void shouldReadBackTheSameStatsWhenEncodedAndDecoded() {
    ArmStats.Recorder r = ArmStats.recorder();
    for (int i = 0; i < 1000; i++) {
      r.recordRequest("u" + i, i % 3 == 0, 500 + i * 37L);
      r.recordRequestRevenue(i * 1000L);
    }
    r.recordImpressions(400);
    r.recordClicks(12);
    r.recordSpend(7_777);
    r.recordRequest(null, true, 3_600_000_000L); // an hour: recorded as the maximum
    ArmStats s = r.snapshot();

    ArmStats decoded = ArmStats.decode(s.encode());

    assertEquals(s, decoded);
    assertEquals(s.latencyP99Micros(), decoded.latencyP99Micros());
    assertEquals(ArmStats.LATENCY_MAX_MICROS, decoded.latencyPercentileMicros(100), ArmStats.LATENCY_MAX_MICROS / 100);
    assertThrows(IllegalArgumentException.class, () -> ArmStats.decode(new byte[] {1, 2, 3, 4, 5}));
    byte[] bytes = s.encode();
    assertThrows(IllegalArgumentException.class, () -> ArmStats.decode(java.util.Arrays.copyOf(bytes, 30)));
  }

  @Test
  void shouldRefuseWhenCountersContradictEachOther() {
    assertThrows(IllegalArgumentException.class, () -> ArmStats.of(5, 6, 0, 0, 0, 0, 0, null));
    assertThrows(IllegalArgumentException.class, () -> ArmStats.of(5, 1, -1, 0, 0, 0, 0, null));
  }
}
