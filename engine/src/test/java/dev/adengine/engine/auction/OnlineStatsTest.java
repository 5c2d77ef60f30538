package dev.adengine.engine.auction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class OnlineStatsTest {

  @Test
  void shouldCountEveryEventWhenThreadsCountTheSameAdsAtOnce() throws Exception {
    // given the counts object a bid path holds, and four threads counting into two ads at once
    OnlineStats stats = new OnlineStats();
    OnlineStats.Counts held = stats.counts("a1");
    int threads = 4;
    int perThread = 20_000;
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> running = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread thread = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        for (int i = 0; i < perThread; i++) {
          stats.impression("a1");
          stats.impression("a2");
          if (i % 4 == 0) {
            stats.click("a1");
          }
        }
      });
      thread.start();
      running.add(thread);
    }
    // when they are done
    start.countDown();
    for (Thread thread : running) {
      thread.join();
    }
    // then no event is lost, and they landed in the object held before they started
    assertSame(held, stats.of("a1"));
    assertEquals((long) threads * perThread, held.impressions());
    assertEquals((long) threads * perThread / 4, held.clicks());
    assertEquals((long) threads * perThread, stats.of("a2").impressions());
    assertEquals(0, stats.of("a2").clicks());
  }

  @Test
  void shouldReadZeroForAnAdWithoutEventsAndMakeNothingForIt() {
    OnlineStats stats = new OnlineStats();
    assertEquals(0, stats.of("none").impressions());
    assertEquals(0, stats.of("none").clicks());
    assertNull(stats.find("none"));
  }
}
