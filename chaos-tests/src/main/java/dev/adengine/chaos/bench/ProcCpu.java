package dev.adengine.chaos.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time of a process as Linux accounts it: {@code utime + stime} from {@code /proc/<pid>/stat},
 * in clock ticks ({@code getconf CLK_TCK}, usually 100 a second). Read before and after a measured
 * window, the difference over the requests of that window is the process's CPU per request, all of
 * its threads included (JIT, GC, I/O), which is what a server costs on a shared machine.
 */
public final class ProcCpu {
  private final long ticksPerSecond;

  private ProcCpu(long ticksPerSecond) {
    this.ticksPerSecond = ticksPerSecond;
  }

  /** Asks {@code getconf CLK_TCK} for the clock-tick rate. */
  public static ProcCpu fromGetconf() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
      if (p.waitFor() != 0) {
        throw new IllegalStateException("getconf CLK_TCK failed: " + out);
      }
      return new ProcCpu(Long.parseLong(out));
    } catch (IOException e) {
      throw new UncheckedIOException("getconf CLK_TCK", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public long ticksPerSecond() {
    return ticksPerSecond;
  }

  /** utime + stime of process {@code pid} now, in clock ticks. */
  public long ticks(long pid) {
    return ticks("/proc/" + pid + "/stat");
  }

  /** utime + stime of this JVM now, in clock ticks. */
  public long selfTicks() {
    return ticks("/proc/self/stat");
  }

  private static long ticks(String file) {
    try {
      return parseTicks(Files.readString(Path.of(file), StandardCharsets.US_ASCII));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /**
   * The JVM's own threads of process {@code pid}, which are not Java threads and have no
   * {@code ThreadMXBean} counters: utime + stime in ticks, summed by {@link #jvmInternalClass} of their
   * names ({@code /proc/<pid>/task/<tid>/stat}). Threads of other names are left out; a thread that
   * ends while this reads is skipped.
   */
  public java.util.Map<String, Long> jvmInternalTicks(long pid) {
    java.util.Map<String, Long> out = new java.util.TreeMap<>();
    try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"), StandardCharsets.US_ASCII);
        } catch (IOException e) {
          continue; // ended meanwhile
        }
        String kind = jvmInternalClass(stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
        if (kind != null) {
          out.merge(kind, parseTicks(stat), Long::sum);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the threads of " + pid, e);
    }
    return out;
  }

  /** Class name of the JVM's garbage-collector threads. */
  public static final String JVM_GC = "JVM: garbage collector";
  /** Class name of the JIT compiler threads (and the code cache sweeper). */
  public static final String JVM_JIT = "JVM: JIT compilers";
  /** Class name of the VM thread (safepoints) and the JVM's other service threads. */
  public static final String JVM_VM = "JVM: VM thread and services";

  /**
   * Which of the JVM's own threads a Linux thread name ({@code comm}, at most 15 characters) is, or
   * null for any other thread (Java threads carry their Java name, cut to 15 characters).
   */
  public static String jvmInternalClass(String comm) {
    if (comm.startsWith("GC Thread") || comm.startsWith("G1 ") || comm.startsWith("ParGC")
        || comm.startsWith("PSYoung") || comm.startsWith("ZWorker") || comm.startsWith("Shenandoah")) {
      return JVM_GC;
    }
    if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre") || comm.equals("Sweeper thread")) {
      return JVM_JIT;
    }
    if (comm.equals("VM Thread") || comm.equals("VM Periodic Tas") || comm.equals("Service Thread")
        || comm.equals("Monitor Deflati")) {
      return JVM_VM;
    }
    return null;
  }

  /** Ticks to milliseconds. */
  public double millis(long ticks) {
    return ticks * 1000.0 / ticksPerSecond;
  }

  /**
   * utime + stime (fields 14 and 15) of one {@code /proc/<pid>/stat} line. The command name (field
   * 2) is in parentheses and may itself hold spaces and parentheses, so fields are counted from the
   * last {@code ')'}: after it come the state (field 3), then ppid, ... utime is the 12th token.
   */
  public static long parseTicks(String stat) {
    int close = stat.lastIndexOf(')');
    if (close < 0) {
      throw new IllegalArgumentException("not a /proc/<pid>/stat line: " + stat);
    }
    String[] rest = stat.substring(close + 1).trim().split("\\s+");
    if (rest.length < 13) {
      throw new IllegalArgumentException("too few fields in /proc/<pid>/stat line: " + stat);
    }
    return Long.parseLong(rest[11]) + Long.parseLong(rest[12]);
  }
}
