package dev.adengine.chaos.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A server's CPU time and heap allocation over a measured window, thread pool by thread pool: exact
 * counters ({@code ThreadMXBean.getThreadCpuTime} and {@code getThreadAllocatedBytes} of every live
 * Java thread, read through JMX at both ends of the window), not samples.
 *
 * <p>Threads are grouped by their name without its numbers ({@link JfrSummary#threadGroup}). A thread
 * that started during the window counts from zero; a thread that ended during it is not seen at the
 * end, so what it did in the window is not in any group. The JVM's own threads (garbage collectors,
 * JIT compilers, the VM thread) are not Java threads and have no such counters: their CPU comes from
 * {@code /proc/<pid>/task} ({@link ProcCpu#jvmInternalTicks}, {@link #withJvmInternal}). The process's
 * CPU (from {@code /proc/<pid>/stat}) and allocation minus all of these is {@link #rest}: threads that
 * ended in the window, and the few milliseconds between the reads.
 */
public final class ThreadUsage {
  /** One live thread's counters at one moment. */
  public record Sample(long id, String name, long cpuNanos, long allocatedBytes) {}

  /**
   * One pool over a window, per request.
   *
   * @param group thread name without its numbers
   * @param threads how many of its threads were alive at the end of the window
   * @param cpuMicrosPerRequest their CPU time in the window over the requests sent
   * @param allocBytesPerRequest their heap allocation in the window over the requests sent
   */
  public record Share(String group, int threads, double cpuMicrosPerRequest, double allocBytesPerRequest) {
    String json() {
      return String.format(Locale.ROOT, "{\"group\":\"%s\",\"threads\":%d,\"cpuMicrosPerRequest\":%.3f,"
          + "\"allocBytesPerRequest\":%.1f}", group.replace("\\", "\\\\").replace("\"", "\\\""), threads,
          cpuMicrosPerRequest, allocBytesPerRequest);
    }
  }

  /** The name of the row {@link #rest} returns. */
  public static final String REST = "(rest: threads ended in the window, time between the reads)";

  private ThreadUsage() {}

  /**
   * The pools' shares between two snapshots, largest CPU first. {@code -1} counters (a thread that
   * ended between listing and reading, or measurement off) count as nothing.
   */
  public static List<Share> between(Map<Long, Sample> start, Map<Long, Sample> end, long requests) {
    if (requests <= 0) {
      return List.of();
    }
    Map<String, long[]> groups = new LinkedHashMap<>();
    for (Sample s : end.values()) {
      Sample before = start.get(s.id());
      long cpu = delta(s.cpuNanos(), before == null ? 0 : before.cpuNanos());
      long alloc = delta(s.allocatedBytes(), before == null ? 0 : before.allocatedBytes());
      long[] g = groups.computeIfAbsent(JfrSummary.threadGroup(s.name()), k -> new long[3]);
      g[0]++;
      g[1] += cpu;
      g[2] += alloc;
    }
    List<Share> shares = new ArrayList<>();
    groups.forEach((name, g) -> shares.add(new Share(name, (int) g[0], g[1] / 1e3 / requests,
        (double) g[2] / requests)));
    shares.sort(Comparator.comparingDouble(Share::cpuMicrosPerRequest).reversed()
        .thenComparing(Comparator.comparingDouble(Share::allocBytesPerRequest).reversed())
        .thenComparing(Share::group));
    return List.copyOf(shares);
  }

  /**
   * {@code shares} with the JVM's own threads added, from their CPU ticks by class at both ends of the
   * window (no allocation: they allocate no Java heap), largest CPU first.
   */
  public static List<Share> withJvmInternal(List<Share> shares, Map<String, Long> startTicks,
      Map<String, Long> endTicks, double millisPerTick, long requests) {
    if (requests <= 0) {
      return shares;
    }
    List<Share> all = new ArrayList<>(shares);
    endTicks.forEach((kind, ticks) -> {
      long delta = Math.max(0, ticks - startTicks.getOrDefault(kind, 0L));
      all.add(new Share(kind, 0, delta * millisPerTick * 1000 / requests, 0));
    });
    all.sort(Comparator.comparingDouble(Share::cpuMicrosPerRequest).reversed()
        .thenComparing(Comparator.comparingDouble(Share::allocBytesPerRequest).reversed())
        .thenComparing(Share::group));
    return List.copyOf(all);
  }

  /**
   * What the groups do not account for, per request: the process's CPU and allocation measured as a
   * whole, minus the groups' sums. Null fields stay null (not measured).
   */
  public static Share rest(List<Share> shares, Double processCpuMicrosPerRequest, Double allocBytesPerRequest) {
    double cpu = shares.stream().mapToDouble(Share::cpuMicrosPerRequest).sum();
    double alloc = shares.stream().mapToDouble(Share::allocBytesPerRequest).sum();
    return new Share(REST, 0,
        processCpuMicrosPerRequest == null ? Double.NaN : processCpuMicrosPerRequest - cpu,
        allocBytesPerRequest == null ? Double.NaN : allocBytesPerRequest - alloc);
  }

  static String json(List<Share> shares) {
    StringJoiner j = new StringJoiner(",", "[", "]");
    shares.forEach(s -> j.add(s.json()));
    return j.toString();
  }

  private static long delta(long now, long before) {
    if (now < 0) {
      return 0;
    }
    return Math.max(0, now - Math.max(0, before));
  }
}
