package dev.adengine.engine.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.models.features.RequestFeatures;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.persistence.FeatureLogRepository.LoggedRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The writer's bounds and retries, with a store in this JVM standing in for Cassandra (the
 * Cassandra path itself runs in DriftTest and LifecycleEndToEndTest): a failed write is retried
 * within the retry window and counted only when that runs out or the retry backlog is full, a full
 * queue drops and counts, the rate cap counts what it leaves out, and labels wait in their queue
 * rather than being lost.
 */
class FeatureLogWriterTest {
  private static final CtrModel MODEL = load();

  private static CtrModel load() {
    try {
      return ModelHolder.load("");
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static FeatureLogWriter.Capture capture(String requestId) {
    return new FeatureLogWriter.Capture(requestId, System.currentTimeMillis(), "", "", MODEL, null,
        new FeatureLogCodec.Context("paris", 2, 1, -1, 20_000, 2, "", 3, 0, 100_000_000), RequestFeatures.of(2, 1, -1, 2,
            ""), List.of(), List.of(), List.of());
  }

  private static FeatureLogWriter.Settings settings(int queue, int inFlight, int maxRate) {
    return settings(queue, inFlight, maxRate, Duration.ofMinutes(1));
  }

  private static FeatureLogWriter.Settings settings(int queue, int inFlight, int maxRate, Duration retryFor) {
    return new FeatureLogWriter.Settings(true, queue, inFlight, inFlight, 1.0, maxRate,
        FeatureLogWriter.Candidates.AUCTION, retryFor);
  }

  /** A store whose every write, record or label, fails while it is down, and succeeds once it is up. */
  private static class OutageStore implements FeatureLogWriter.Store {
    volatile boolean down = true;
    final ConcurrentHashMap<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    final AtomicInteger labelAttempts = new AtomicInteger();

    @Override
    public CompletionStage<Void> write(LoggedRequest r) {
      attempts.computeIfAbsent(r.requestId(), k -> new AtomicInteger()).incrementAndGet();
      return answer();
    }

    @Override
    public CompletionStage<Void> markImpression(String requestId, String adId, long servedAtMs, long atMs) {
      labelAttempts.incrementAndGet();
      return answer();
    }

    @Override
    public CompletionStage<Void> markClick(String requestId, String adId, long servedAtMs, long atMs) {
      labelAttempts.incrementAndGet();
      return answer();
    }

    private CompletionStage<Void> answer() {
      return down ? CompletableFuture.failedFuture(new IllegalStateException("Cassandra timed out"))
          : CompletableFuture.completedFuture(null);
    }
  }

  /** Waits (at most 10 s) until {@code condition} holds. */
  private static void await(java.util.function.BooleanSupplier condition, java.util.function.Supplier<String> what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, what.get());
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** A store whose record writes fail {@code failures} times per request before they succeed. */
  private static class FlakyStore implements FeatureLogWriter.Store {
    final int failures;
    final ConcurrentHashMap<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    final AtomicInteger labels = new AtomicInteger();

    FlakyStore(int failures) {
      this.failures = failures;
    }

    @Override
    public CompletionStage<Void> write(LoggedRequest r) {
      int n = attempts.computeIfAbsent(r.requestId(), k -> new AtomicInteger()).incrementAndGet();
      return n <= failures ? CompletableFuture.failedFuture(new IllegalStateException("write timeout " + n))
          : CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> markImpression(String requestId, String adId, long servedAtMs, long atMs) {
      labels.incrementAndGet();
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> markClick(String requestId, String adId, long servedAtMs, long atMs) {
      labels.incrementAndGet();
      return CompletableFuture.completedFuture(null);
    }
  }

  private static FeatureLogWriter.Stats settle(FeatureLogWriter w, long expected) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      FeatureLogWriter.Stats s = w.stats();
      if (s.written() + s.failed() + s.droppedQueueFull() >= expected && s.queued() == 0) {
        return s;
      }
      assertTrue(System.nanoTime() < deadline, "writer did not settle: " + s);
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @Test
  void shouldWriteEveryRecordWhoseWriteSucceedsWithinTheRetryWindow() {
    // writes that fail four times each: retried 0.2, 0.4, 0.8 and 1.6 s after their failures
    FlakyStore store = new FlakyStore(4);
    try (FeatureLogWriter w = new FeatureLogWriter(settings(100, 4, 0), store, "n1", null, null)) {
      for (int i = 0; i < 20; i++) {
        w.offer(capture("r" + i));
      }
      FeatureLogWriter.Stats s = settle(w, 20);
      assertEquals(20, s.written(), s.toString());
      assertEquals(0, s.dropped(), s.toString());
      assertEquals(5, store.attempts.get("r7").get());
    }
  }

  @Test
  void shouldBackOffExponentiallyUpToTheLongestDelay() {
    assertEquals(List.of(200L, 400L, 800L, 1600L, 3200L, 5000L, 5000L, 5000L), java.util.stream.IntStream.range(1, 9)
        .mapToObj(a -> FeatureLogWriter.retryDelayNanos(a) / 1_000_000).toList());
  }

  @Test
  void shouldCountARecordAsFailedWhenItsNextRetryWouldFallOutsideTheRetryWindow() {
    // a window of 1 s: attempts at 0, 0.2 and 0.6 s; the next would be at 1.4 s
    FlakyStore store = new FlakyStore(Integer.MAX_VALUE);
    try (FeatureLogWriter w = new FeatureLogWriter(settings(100, 4, 0, Duration.ofSeconds(1)), store, "n1", null,
        null)) {
      for (int i = 0; i < 5; i++) {
        w.offer(capture("r" + i));
      }
      FeatureLogWriter.Stats s = settle(w, 5);
      assertEquals(5, s.failed(), s.toString());
      assertEquals(5, s.dropped());
      assertEquals(3, store.attempts.get("r3").get());
    }
  }

  @Test
  void shouldKeepRetryingRecordsAndLabelsThroughAnOutageShorterThanTheRetryWindow() {
    // given a store that is down
    OutageStore store = new OutageStore();
    try (FeatureLogWriter w = new FeatureLogWriter(settings(100, 4, 0), store, "n1", null, null)) {
      // when records and labels are written while it stays down for six attempts of each (6.2 s),
      // well within the retry window of 1 minute
      for (int i = 0; i < 5; i++) {
        w.offer(capture("r" + i));
        w.label(i == 0, "r" + i, "ad", 1L, 2L);
      }
      await(() -> store.attempts.values().stream().allMatch(a -> a.get() >= 6) && store.attempts.size() == 5,
          () -> "six attempts of every record: " + store.attempts);
      await(() -> store.labelAttempts.get() >= 30, () -> "six attempts of every label: " + store.labelAttempts);
      assertEquals(0, w.stats().failed() + w.stats().labelsFailed(), w.stats().toString());

      // then once it is back, every record and label is written, none counted as lost
      store.down = false;
      FeatureLogWriter.Stats s = settle(w, 5);
      await(() -> w.stats().labelsWritten() == 5, () -> w.stats().toString());
      assertEquals(5, s.written(), s.toString());
      assertEquals(0, s.dropped() + w.stats().labelsDropped() + w.stats().labelsFailed(), w.stats().toString());
    }
  }

  @Test
  void shouldHoldAtMostQueueCapacityRecordsAndFourTimesAsManyLabelsForRetry() {
    // given a writer with a queue of 2 (so 2 records and 8 labels may wait for a retry) and a store that is down
    OutageStore store = new OutageStore();
    try (FeatureLogWriter w = new FeatureLogWriter(settings(2, 1, 0), store, "n1", null, null)) {
      // when 5 records and 12 labels fail, one after another
      for (int i = 0; i < 5; i++) {
        int n = i + 1;
        w.offer(capture("r" + i));
        await(() -> store.attempts.size() == n, () -> "record " + n + " tried: " + w.stats());
      }
      for (int i = 0; i < 12; i++) {
        int n = i + 1;
        w.label(false, "r" + i, "ad", 1L, 2L);
        await(() -> w.stats().labelsFailed() + Math.min(n, 8) >= n && store.labelAttempts.get() >= n,
            () -> "label " + n + " tried: " + w.stats());
      }

      // then those beyond the bound count as failed at once, the others wait for their retry
      await(() -> w.stats().failed() == 3 && w.stats().labelsFailed() == 4, () -> w.stats().toString());

      // and once the store is back, the waiting ones are written
      store.down = false;
      await(() -> w.stats().written() == 2 && w.stats().labelsWritten() == 8, () -> w.stats().toString());
      FeatureLogWriter.Stats s = w.stats();
      assertEquals(5, s.captured(), s.toString());
      assertEquals(3, s.failed(), s.toString());
      assertEquals(4, s.labelsFailed(), s.toString());
      assertEquals(0, s.droppedQueueFull() + s.labelsDropped(), s.toString());
    }
  }

  @Test
  void shouldDropAndCountWhenTheQueueIsFullAndNeverBlockTheCaller() {
    // a store that never answers: one write in flight, the writer waits, the queue fills
    FeatureLogWriter.Store stuck = new FlakyStore(0) {
      @Override
      public CompletionStage<Void> write(LoggedRequest r) {
        return new CompletableFuture<>();
      }
    };
    try (FeatureLogWriter w = new FeatureLogWriter(settings(4, 1, 0), stuck, "n1", null, null)) {
      long t0 = System.nanoTime();
      for (int i = 0; i < 100; i++) {
        w.offer(capture("r" + i));
      }
      long micros = (System.nanoTime() - t0) / 1_000;
      FeatureLogWriter.Stats s = w.stats();
      assertEquals(100, s.captured());
      // at most: 1 in flight, 1 taken by the waiting writer, 4 queued; nothing written, nothing lost uncounted
      assertEquals(0, s.written(), s.toString());
      assertTrue(s.droppedQueueFull() >= 94 && s.droppedQueueFull() + s.queued() >= 98, s.toString());
      System.out.println("100 offers to a full writer took " + micros + " us");
    }
  }

  @Test
  void shouldCountWhatTheRateCapLeavesOut() {
    FlakyStore store = new FlakyStore(0);
    try (FeatureLogWriter w = new FeatureLogWriter(settings(1_000, 8, 10), store, "n1", null, null)) {
      long second = System.nanoTime() / 1_000_000_000L;
      for (int i = 0; i < 100; i++) {
        w.offer(capture("r" + i));
      }
      boolean sameSecond = System.nanoTime() / 1_000_000_000L == second;
      FeatureLogWriter.Stats s = settle(w, 10);
      assertEquals(100, s.captured() + s.rateLimited(), s.toString());
      if (sameSecond) {
        assertEquals(10, s.captured(), s.toString());
        assertEquals(90, s.rateLimited(), s.toString());
      } else {
        assertTrue(s.captured() >= 10 && s.captured() <= 20, s.toString()); // the loop crossed a second's edge
      }
    }
  }

  @Test
  void shouldWriteEveryLabelWhenTheyArriveFasterThanTheirBound() {
    FlakyStore store = new FlakyStore(0);
    try (FeatureLogWriter w = new FeatureLogWriter(settings(1_000, 2, 0), store, "n1", null, null)) {
      for (int i = 0; i < 1_000; i++) {
        w.label(i % 10 == 0, "r" + i, "ad", 1L, 2L);
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (w.stats().labelsWritten() < 1_000 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      FeatureLogWriter.Stats s = w.stats();
      assertEquals(1_000, s.labelsWritten(), s.toString());
      assertEquals(0, s.labelsDropped() + s.labelsFailed(), s.toString());
      assertEquals(1_000, store.labels.get());
    }
  }
}
