package dev.adengine.chaos.harness;

import dev.adengine.chaos.bench.ProcCpu;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * How busy the machine was during a chaos run, second by second: every core's busy share from
 * {@code /proc/stat} (all processes: the nodes, Cassandra, this harness and anything else), and of
 * that the engine nodes' share ({@code /proc/<pid>/stat} of each live node) and this harness's own.
 * The nodes, Cassandra and the load generator share one machine, so a second in which its cores
 * were all busy is a second in which any of them, the generator included, may have waited for a
 * core: the phase table puts the misses beside it.
 *
 * <p>Sampled once a second on a daemon thread of its own. A node's first sample counts the CPU it
 * used since it was started (a restarted node's start-up lands in the second it was first seen);
 * a node that died since the previous sample is left out of the interval.
 */
public final class CpuTimeline implements AutoCloseable {
  /** A busy second: at least this share of every core busy. */
  static final double SATURATED = 0.95;

  /** One sampling interval, ending at {@code endEpochMs}; CPU use in cores (a core busy all along = 1). */
  public record Interval(long endEpochMs, double seconds, double busyCores, double nodeCores, double harnessCores) {}

  /**
   * A phase's CPU: the machine's busy cores on average and in its busiest interval, how many of
   * its intervals had every core at least {@link #SATURATED} busy, and the nodes' and harness's
   * average cores. {@code intervals} 0: nothing sampled in the phase.
   */
  public record PhaseCpu(int cores, int intervals, double busyMean, double busyMax, int saturated, double nodesMean,
      double harnessMean) {
    static final PhaseCpu NONE = new PhaseCpu(0, 0, 0, 0, 0, 0, 0);
  }

  private final ProcCpu proc = ProcCpu.fromGetconf();
  private final Supplier<List<Long>> nodePids;
  private final int cores = Runtime.getRuntime().availableProcessors();
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "chaos-cpu-timeline");
    t.setDaemon(true);
    return t;
  });
  // sampling thread only, until close
  private final Map<Long, Long> lastNodeTicks = new HashMap<>();
  private long[] lastMachine;
  private long lastSelf;
  private long lastNanos;
  // guarded by this
  private final List<Interval> intervals = new ArrayList<>();

  private CpuTimeline(Supplier<List<Long>> nodePids) {
    this.nodePids = nodePids;
  }

  /** Starts sampling every second; {@code nodePids} gives the engine nodes' processes alive now. */
  public static CpuTimeline start(Supplier<List<Long>> nodePids) {
    CpuTimeline t = new CpuTimeline(nodePids);
    t.thread.execute(t::first);
    t.thread.scheduleAtFixedRate(t::sample, 1, 1, TimeUnit.SECONDS);
    return t;
  }

  public int cores() {
    return cores;
  }

  /** Intervals sampled so far, oldest first. */
  public synchronized List<Interval> intervals() {
    return List.copyOf(intervals);
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }

  private void first() {
    lastMachine = machineTicks(readStat());
    lastSelf = proc.selfTicks();
    lastNanos = System.nanoTime();
    for (long pid : nodePids.get()) {
      Long ticks = nodeTicks(pid);
      if (ticks != null) {
        lastNodeTicks.put(pid, ticks);
      }
    }
  }

  private void sample() {
    try {
      long[] machine = machineTicks(readStat());
      long self = proc.selfTicks();
      long now = System.nanoTime();
      long nodes = 0;
      Map<Long, Long> seen = new HashMap<>();
      for (long pid : nodePids.get()) {
        Long ticks = nodeTicks(pid);
        if (ticks == null) {
          continue;
        }
        seen.put(pid, ticks);
        nodes += ticks - lastNodeTicks.getOrDefault(pid, 0L);
      }
      double seconds = (now - lastNanos) / 1e9;
      long total = machine[1] - lastMachine[1];
      double busyCores = total <= 0 ? 0 : cores * (double) (machine[0] - lastMachine[0]) / total;
      Interval i = new Interval(System.currentTimeMillis(), seconds, busyCores,
          proc.millis(nodes) / 1000.0 / seconds, proc.millis(self - lastSelf) / 1000.0 / seconds);
      synchronized (this) {
        intervals.add(i);
      }
      lastMachine = machine;
      lastSelf = self;
      lastNanos = now;
      lastNodeTicks.clear();
      lastNodeTicks.putAll(seen);
    } catch (RuntimeException e) {
      // a sample that cannot be read is skipped; the next interval is then longer
    }
  }

  private Long nodeTicks(long pid) {
    try {
      return proc.ticks(pid);
    } catch (UncheckedIOException e) {
      return null; // ended meanwhile
    }
  }

  private static String readStat() {
    try {
      return Files.readString(Path.of("/proc/stat"), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read /proc/stat", e);
    }
  }

  /**
   * Busy and total ticks of all cores from {@code /proc/stat}'s first line ({@code cpu user nice
   * system idle iowait irq softirq steal ...}): total is the first eight (guest time is already in
   * user), busy is total less idle and iowait.
   */
  static long[] machineTicks(String procStat) {
    String line = procStat.lines().findFirst().orElse("");
    String[] f = line.trim().split("\\s+");
    if (f.length < 9 || !f[0].equals("cpu")) {
      throw new IllegalArgumentException("not the first line of /proc/stat: " + line);
    }
    long total = 0;
    for (int i = 1; i <= 8; i++) {
      total += Long.parseLong(f[i]);
    }
    long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
    return new long[] {total - idle, total};
  }

  /** The CPU of the intervals that ended in {@code [fromEpochMs, toEpochMs)}. */
  public static PhaseCpu phase(List<Interval> intervals, int cores, long fromEpochMs, long toEpochMs) {
    int n = 0;
    int saturated = 0;
    double busy = 0;
    double max = 0;
    double nodes = 0;
    double harness = 0;
    for (Interval i : intervals) {
      if (i.endEpochMs() < fromEpochMs || i.endEpochMs() >= toEpochMs) {
        continue;
      }
      n++;
      busy += i.busyCores();
      max = Math.max(max, i.busyCores());
      nodes += i.nodeCores();
      harness += i.harnessCores();
      if (i.busyCores() >= SATURATED * cores) {
        saturated++;
      }
    }
    return n == 0 ? PhaseCpu.NONE : new PhaseCpu(cores, n, busy / n, max, saturated, nodes / n, harness / n);
  }
}
