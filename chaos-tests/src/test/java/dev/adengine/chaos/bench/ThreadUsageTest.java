package dev.adengine.chaos.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's table of CPU and allocation by thread pool: the arithmetic over two snapshots, and
 * the snapshots themselves read from another JVM through {@link JvmProbe#threads()}.
 */
class ThreadUsageTest {

  @Test
  void shouldGroupThreadsByPoolAndCountOnlyTheWindow() {
    // given: two workers of one pool, one seen at both ends, one started in the window; a thread that ended
    Map<Long, ThreadUsage.Sample> start = Map.of(
        1L, new ThreadUsage.Sample(1, "pool-worker-1", 1_000_000, 10_000),
        3L, new ThreadUsage.Sample(3, "ended-1", 5_000_000, 50_000),
        4L, new ThreadUsage.Sample(4, "io", 0, 0));
    Map<Long, ThreadUsage.Sample> end = Map.of(
        1L, new ThreadUsage.Sample(1, "pool-worker-1", 3_000_000, 30_000),
        2L, new ThreadUsage.Sample(2, "pool-worker-2", 1_000_000, 20_000),
        4L, new ThreadUsage.Sample(4, "io", 500_000, -1));

    // when: 100 requests in the window
    List<ThreadUsage.Share> shares = ThreadUsage.between(start, end, 100);

    // then: the pool counts its first worker's window only and its new worker's whole life; the ended thread
    // is in no group; a -1 counter counts as nothing
    assertEquals(List.of(new ThreadUsage.Share("pool-worker", 2, 30.0, 400.0), new ThreadUsage.Share("io", 1, 5.0, 0.0)),
        shares);
    ThreadUsage.Share rest = ThreadUsage.rest(shares, 50.0, 600.0);
    assertEquals(15.0, rest.cpuMicrosPerRequest(), 1e-9);
    assertEquals(200.0, rest.allocBytesPerRequest(), 1e-9);
    assertTrue(Double.isNaN(ThreadUsage.rest(shares, null, null).cpuMicrosPerRequest()));
    assertEquals(List.of(), ThreadUsage.between(start, end, 0));
  }

  @Test
  void shouldAddTheJvmsOwnThreadsInCpuOrder() {
    // given: the pools of a window of 100 requests, and the collector's and compilers' ticks (10 ms each)
    List<ThreadUsage.Share> pools = List.of(new ThreadUsage.Share("pool-worker", 2, 30.0, 400.0),
        new ThreadUsage.Share("io", 1, 5.0, 0.0));

    // when: the collector ran 2 ticks in the window, the compilers 1, the VM thread none
    List<ThreadUsage.Share> all = ThreadUsage.withJvmInternal(pools,
        Map.of(ProcCpu.JVM_GC, 10L, ProcCpu.JVM_JIT, 50L),
        Map.of(ProcCpu.JVM_GC, 12L, ProcCpu.JVM_JIT, 51L, ProcCpu.JVM_VM, 0L), 10.0, 100);

    // then: 20 ms and 10 ms over 100 requests, sorted in with the pools
    assertEquals(List.of(new ThreadUsage.Share("pool-worker", 2, 30.0, 400.0),
        new ThreadUsage.Share(ProcCpu.JVM_GC, 0, 200.0, 0), new ThreadUsage.Share(ProcCpu.JVM_JIT, 0, 100.0, 0),
        new ThreadUsage.Share("io", 1, 5.0, 0.0), new ThreadUsage.Share(ProcCpu.JVM_VM, 0, 0.0, 0)).stream()
        .sorted(java.util.Comparator.comparingDouble(ThreadUsage.Share::cpuMicrosPerRequest).reversed()).toList(),
        all);
  }

  @Test
  void shouldClassifyTheJvmsOwnThreadsByTheirLinuxNames() {
    assertEquals(ProcCpu.JVM_GC, ProcCpu.jvmInternalClass("GC Thread#1"));
    assertEquals(ProcCpu.JVM_GC, ProcCpu.jvmInternalClass("G1 Conc#0"));
    assertEquals(ProcCpu.JVM_JIT, ProcCpu.jvmInternalClass("C2 CompilerThre"));
    assertEquals(ProcCpu.JVM_JIT, ProcCpu.jvmInternalClass("C1 CompilerThre"));
    assertEquals(ProcCpu.JVM_VM, ProcCpu.jvmInternalClass("VM Thread"));
    assertEquals(null, ProcCpu.jvmInternalClass("adengine-pekko."));
    assertEquals(null, ProcCpu.jvmInternalClass("java"));
  }

  @Test
  void shouldReadAnotherJvmsThreadsThroughJmx() throws Exception {
    // given: a JVM whose thread "busy-worker-7" allocates 64 MB, then waits
    Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-cp", System.getProperty("java.class.path"), Busy.class.getName())
        .redirectErrorStream(true).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        JvmProbe probe = attachWhenReady(child, out)) {
      // when
      Map<Long, ThreadUsage.Sample> threads = probe.threads();

      // then: the worker is there with what it allocated and some CPU; the main thread too
      ThreadUsage.Sample busy = threads.values().stream().filter(t -> t.name().equals("busy-worker-7")).findFirst()
          .orElseThrow(() -> new AssertionError("no busy-worker-7 in " + threads.values()));
      assertTrue(busy.allocatedBytes() >= 64L << 20, "allocated " + busy.allocatedBytes());
      assertTrue(busy.cpuNanos() > 0, "cpu " + busy.cpuNanos());
      assertTrue(threads.values().stream().anyMatch(t -> t.name().equals("main")));
      List<ThreadUsage.Share> shares = ThreadUsage.between(Map.of(), threads, 1);
      assertTrue(shares.stream().anyMatch(s -> s.group().equals("busy-worker") && s.threads() == 1
          && s.allocBytesPerRequest() >= 64L << 20), shares.toString());
      // and its own threads are found in /proc by their names: the collector and both compilers
      Map<String, Long> internal = ProcCpu.fromGetconf().jvmInternalTicks(child.pid());
      assertEquals(java.util.Set.of(ProcCpu.JVM_GC, ProcCpu.JVM_JIT, ProcCpu.JVM_VM), internal.keySet(),
          internal.toString());
    } finally {
      child.destroyForcibly();
      child.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static JvmProbe attachWhenReady(Process child, BufferedReader out) throws Exception {
    String line = out.readLine();
    assertEquals("ready", line, "the child JVM's first line");
    return JvmProbe.attach(child.pid());
  }

  /** The child JVM: a named thread allocates 64 MB in 1 MB arrays, then the JVM waits to be killed. */
  public static final class Busy {
    static volatile Object sink;

    public static void main(String[] args) throws Exception {
      Thread worker = new Thread(() -> {
        for (int i = 0; i < 64; i++) {
          sink = new byte[1 << 20];
        }
        System.out.println("ready");
        System.out.flush();
        try {
          Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "busy-worker-7");
      worker.start();
      worker.join();
    }
  }
}
