package dev.adengine.engine.slo;

import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.grpc.GrpcServiceException;
import org.junit.jupiter.api.Test;

/** The tracker's arithmetic on a fake clock: buckets, rollover, windows, burn rates and alerts. */
class SloTrackerTest {
  private static final long MINUTE = 60_000;
  private static final Duration M5 = Duration.ofMinutes(5);
  private static final Duration M30 = Duration.ofMinutes(30);
  private static final Duration H1 = Duration.ofHours(1);
  private static final Duration H6 = Duration.ofHours(6);
  private static final Duration D3 = Duration.ofDays(3);
  private static final long FAST = Duration.ofMillis(10).toNanos();
  private static final long SLOW = Duration.ofMillis(150).toNanos();

  private static SloSettings settings() {
    return new SloSettings(0.999, 0.99, Duration.ofMillis(100), Duration.ofDays(30), List.of(M5, M30, H1, H6, D3),
        List.of(new SloSettings.Alert("page", 14.4, H1, M5), new SloSettings.Alert("page", 6, H6, M30),
            new SloSettings.Alert("ticket", 1, D3, H6)),
        Duration.ofMinutes(1), Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofMinutes(10));
  }

  private final AtomicLong now = new AtomicLong(1_000 * MINUTE);
  private final SloTracker tracker = SloTracker.of(settings(), now::get);

  private void record(int n, Status.Code code, long latencyNanos) {
    for (int i = 0; i < n; i++) {
      tracker.record(code, latencyNanos);
    }
  }

  @Test
  void shouldCountEachOutcomeForTheRightSliWhenRecorded() {
    // given OK fast, OK slow, an internal error, a resource-exhausted refusal and a client's mistake
    record(100, Status.Code.OK, FAST);
    record(7, Status.Code.OK, SLOW);
    record(2, Status.Code.INTERNAL, FAST);
    record(1, Status.Code.RESOURCE_EXHAUSTED, FAST);
    record(5, Status.Code.INVALID_ARGUMENT, FAST);

    // then availability counts the non-OK answers, latency also the slow OK ones; INVALID_ARGUMENT neither
    SloTracker.Counts c = tracker.counts(M5);
    assertEquals(110, c.total());
    assertEquals(3, c.availabilityBad());
    assertEquals(10, c.latencyBad());
    assertEquals(5, c.excluded());
  }

  @Test
  void shouldKeepEachRequestInTheWindowsThatCoverItsBucketWhenTimePasses() {
    // given 10 requests now, 20 four minutes later and 30 at +40 minutes
    record(10, Status.Code.INTERNAL, FAST);
    now.addAndGet(4 * MINUTE);
    record(20, Status.Code.OK, FAST);
    now.addAndGet(36 * MINUTE);
    record(30, Status.Code.OK, FAST);

    // then 5m holds only the newest, 30m too (the first two are 40 and 36 minutes old), 1h all
    assertEquals(30, tracker.counts(M5).total());
    assertEquals(30, tracker.counts(M30).total());
    assertEquals(60, tracker.counts(H1).total());
    assertEquals(10, tracker.counts(H1).availabilityBad());

    // when 21 more minutes pass, the first bucket leaves the hour (it is 61 minutes old)
    now.addAndGet(21 * MINUTE);
    assertEquals(50, tracker.counts(H1).total());
    assertEquals(0, tracker.counts(H1).availabilityBad());
    assertEquals(60, tracker.counts(H6).total());
  }

  @Test
  void shouldCountAtLeastTheWholeWindowWhenNowIsInsideABucket() {
    // a bucket counts while it ends after now - window: the window is covered in full, plus the
    // part of the oldest bucket before it
    record(1, Status.Code.OK, FAST);            // bucket [1000, 1001) minutes
    now.addAndGet(5 * MINUTE + 30_000);         // now 1005.5: 5m starts at 1000.5, inside that bucket
    assertEquals(1, tracker.counts(M5).total());
    now.addAndGet(30_000);                      // now 1006.0: the bucket ended at the window's start
    assertEquals(0, tracker.counts(M5).total());
  }

  @Test
  void shouldResetAReusedBucketWhenTheRingWrapsAround() {
    // given traffic in one bucket, then 3 days and 2 minutes later (the ring's length) in the same slot
    record(40, Status.Code.INTERNAL, FAST);
    now.addAndGet(D3.toMillis() + 2 * MINUTE);
    record(3, Status.Code.OK, FAST);

    // then the old counts are gone, not added to the new bucket's
    SloTracker.Counts c = tracker.counts(D3);
    assertEquals(3, c.total());
    assertEquals(0, c.availabilityBad());
  }

  @Test
  void shouldReportCoverageOfTheWindowsWhenTheNodeStartedRecently() {
    now.addAndGet(15 * MINUTE);
    assertEquals(1.0, tracker.counts(M5).coverage());
    assertEquals(0.5, tracker.counts(M30).coverage(), 1e-9);
    assertEquals(0.25, tracker.counts(H1).coverage(), 1e-9);
  }

  @Test
  void shouldComputeBurnRatesAndFireOnlyAlertsWhoseWindowsBothBurnWhenReported() {
    // given an hour of steady traffic with 0.5% errors, then a 5-minute burst at 2% errors
    for (int minute = 0; minute < 60; minute++) {
      record(1000, Status.Code.OK, FAST);
      record(5, Status.Code.UNAVAILABLE, FAST);
      now.addAndGet(MINUTE);
    }
    for (int minute = 0; minute < 5; minute++) {
      record(980, Status.Code.OK, FAST);
      record(20, Status.Code.INTERNAL, FAST);
      now.addAndGet(MINUTE);
    }
    SloReport r = SloReport.of(settings(), Map.of("n1", tracker.snapshot(settings().windows())), now.get());

    // then 5m: the burst's buckets only (the window's oldest bucket ended at its start): 2% / 0.1% = 20x
    SloReport.Window m5 = r.slis().get(0).window(M5);
    assertEquals(5_000, m5.total());
    assertEquals(100, m5.bad());
    assertEquals(0.02, m5.errorRatio(), 1e-12);
    assertEquals(20.0, m5.burnRate(), 1e-9);
    // 1h: 55 steady minutes and the burst: (275 + 100) / (55 * 1005 + 5000)
    SloReport.Window h1 = r.slis().get(0).window(H1);
    assertEquals(55 * 1005 + 5_000, h1.total());
    assertEquals(55 * 5 + 100, h1.bad());
    assertEquals((375.0 / 60_275) / 0.001, h1.burnRate(), 1e-9);
    // the latency SLI burns too (errors are not OK in time), at 1 - 0.99 = 1% budget
    assertEquals(2.0, r.slis().get(1).window(M5).burnRate(), 1e-9);

    // and the page at 14.4x needs both 1h (6.2x) and 5m (20x): not firing; 6x over 6h and 30m:
    // 30m = 25 steady minutes + burst = (125 + 100) / (25 * 1005 + 5000) = 7.45x, 6h = 6.22x: firing
    SloReport.AlertState fast = r.alerts().get(0);
    assertEquals("availability", fast.sli());
    assertFalse(fast.firing());
    assertEquals(20.0, fast.shortBurnRate(), 1e-9);
    SloReport.AlertState slow = r.alerts().get(1);
    assertTrue(slow.firing(), slow.toString());
    assertEquals((225.0 / 30_125) / 0.001, slow.shortBurnRate(), 1e-9);
    // the ticket (1x over 3d and 6h) fires too; the latency SLI's alerts do not (2x < 6x)
    assertTrue(r.alerts().get(2).firing());
    assertFalse(r.alerts().get(4).firing());
  }

  @Test
  void shouldSumFreshNodesAndLeaveOutNodesThatStoppedPublishingWhenReported() {
    record(100, Status.Code.OK, FAST);
    record(10, Status.Code.INTERNAL, FAST);
    NodeSlo a = tracker.snapshot(settings().windows());
    NodeSlo gone = new NodeSlo(now.get() - 60_000, 0, a.windowMillis(), a.total(), a.availabilityBad(),
        a.latencyBad(), a.excluded(), a.coverage());
    SloReport r = SloReport.of(settings(), Map.of("a", a, "b", a, "c", gone), now.get() + 1_000);
    assertEquals(List.of("a", "b"), r.nodes());
    assertEquals(List.of("c"), r.staleNodes());
    assertEquals(220, r.slis().get(0).window(M5).total());
    assertEquals(20, r.slis().get(0).window(M5).bad());
    // no traffic: ratio and burn 0, no alert
    SloReport empty = SloReport.of(settings(), Map.of(), now.get());
    assertEquals(0.0, empty.slis().get(0).window(H1).burnRate());
    assertTrue(empty.alerts().stream().noneMatch(SloReport.AlertState::firing));
  }

  @Test
  void shouldRecordTheRepliesStatusWhenTracked() {
    // OK, a converted gRPC error (as the bid path fails), a wrapped one and an invalid request
    tracker.track(System.nanoTime(), CompletableFuture.completedFuture("ok"));
    tracker.track(System.nanoTime(), CompletableFuture.failedFuture(
        new GrpcServiceException(io.grpc.Status.RESOURCE_EXHAUSTED)));
    tracker.track(System.nanoTime(), CompletableFuture.failedFuture(new java.util.concurrent.CompletionException(
        new GrpcServiceException(io.grpc.Status.INTERNAL))));
    tracker.track(System.nanoTime(), CompletableFuture.failedFuture(
        new GrpcServiceException(io.grpc.Status.INVALID_ARGUMENT)));
    CompletableFuture<String> pending = new CompletableFuture<>();
    assertSame(pending, tracker.track(System.nanoTime(), pending), "the caller's stage is returned untouched");
    SloTracker.Counts before = tracker.counts(M5);
    assertEquals(3, before.total());
    assertEquals(2, before.availabilityBad());
    assertEquals(1, before.excluded());
    pending.complete("late");
    assertEquals(4, tracker.counts(M5).total());
  }

  @Test
  void shouldLoseNoCountWhenThreadsRecordConcurrentlyAcrossARollover() throws Exception {
    // given 4 threads recording while the clock crosses bucket boundaries
    int threads = 4;
    int perThread = 200_000;
    List<Thread> all = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread th = new Thread(() -> {
        for (int i = 0; i < perThread; i++) {
          tracker.record(i % 100 == 0 ? Status.Code.INTERNAL : Status.Code.OK, FAST);
          if (i % 50_000 == 0) {
            now.addAndGet(MINUTE / 4);
          }
        }
      });
      all.add(th);
      th.start();
    }
    for (Thread th : all) {
      th.join();
    }
    // then every request is counted exactly once
    SloTracker.Counts c = tracker.counts(H1);
    assertEquals((long) threads * perThread, c.total());
    assertEquals((long) threads * perThread / 100, c.availabilityBad());
  }
}
