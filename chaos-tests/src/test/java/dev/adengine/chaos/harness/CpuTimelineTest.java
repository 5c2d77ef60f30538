package dev.adengine.chaos.harness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class CpuTimelineTest {

  @Test
  void machineTicksAreTheFirstEightFieldsWithIdleAndIowaitNotBusy() {
    // user nice system idle iowait irq softirq steal guest guest_nice
    String stat = "cpu  100 5 50 800 20 3 2 1 40 0\ncpu0 50 2 25 400 10 1 1 0 20 0\nintr 12345\n";
    // total = 100+5+50+800+20+3+2+1 = 981 (guest is already in user); busy = 981 - 800 - 20
    assertArrayEquals(new long[] {161, 981}, CpuTimeline.machineTicks(stat));
    assertThrows(IllegalArgumentException.class, () -> CpuTimeline.machineTicks("intr 1 2 3\n"));
  }

  @Test
  void aPhaseTakesTheIntervalsThatEndedInItsWindow() {
    List<CpuTimeline.Interval> intervals = List.of(
        new CpuTimeline.Interval(1_000, 1, 0.5, 0.3, 0.1),
        new CpuTimeline.Interval(2_000, 1, 1.2, 0.8, 0.2),
        new CpuTimeline.Interval(3_000, 1, 1.95, 1.1, 0.3),
        new CpuTimeline.Interval(4_000, 1, 2.0, 1.4, 0.1));
    CpuTimeline.PhaseCpu p = CpuTimeline.phase(intervals, 2, 2_000, 4_000);
    assertEquals(2, p.intervals());
    assertEquals((1.2 + 1.95) / 2, p.busyMean(), 1e-9);
    assertEquals(1.95, p.busyMax(), 1e-9);
    assertEquals(1, p.saturated()); // 1.95 of 2 cores is at least 95% busy, 1.2 is not
    assertEquals((0.8 + 1.1) / 2, p.nodesMean(), 1e-9);
    assertEquals(0.25, p.harnessMean(), 1e-9);
    assertEquals(0, CpuTimeline.phase(intervals, 2, 10_000, 20_000).intervals());
  }

  @Test
  void aBusyNodeProcessShowsInTheSamples() throws Exception {
    long self = ProcessHandle.current().pid();
    // this JVM stands in for a node: a thread spinning for ~2.5 s must show as node CPU
    Thread spin = new Thread(() -> {
      long end = System.nanoTime() + 2_500_000_000L;
      long x = 0;
      while (System.nanoTime() < end) {
        x += System.nanoTime() & 1;
      }
      if (x == 42) {
        System.out.print("");
      }
    });
    try (CpuTimeline t = CpuTimeline.start(() -> List.of(self))) {
      spin.start();
      spin.join();
      Thread.sleep(1_200);
      List<CpuTimeline.Interval> intervals = t.intervals();
      assertTrue(intervals.size() >= 2, "intervals: " + intervals);
      double nodeSeconds = intervals.stream().mapToDouble(i -> i.nodeCores() * i.seconds()).sum();
      assertTrue(nodeSeconds > 0.3, "a spinning thread for 2.5 s counted only " + nodeSeconds + " CPU-s: " + intervals);
      for (CpuTimeline.Interval i : intervals) {
        assertTrue(i.busyCores() >= 0 && i.busyCores() <= t.cores() + 1e-9, "busy cores out of range: " + i);
        // this JVM is both the node and the harness here
        assertEquals(i.nodeCores(), i.harnessCores(), 0.05, "same process, same ticks: " + i);
      }
    }
  }
}
