package dev.adengine.chaos.bench;

import com.sun.tools.attach.VirtualMachine;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.JMX;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import jdk.management.jfr.FlightRecorderMXBean;

/**
 * Another JVM seen through JMX, for the benchmark: attaches to the process
 * ({@code VirtualMachine.attach(pid).startLocalManagementAgent()}) and connects to its local agent.
 *
 * <ul>
 *   <li>{@link #allocatedBytes()}: {@code TotalThreadAllocatedBytes} of
 *       {@code java.lang:type=Threading} (JDK 14+, terminated threads included). Read before and after
 *       a window, the difference over its requests is the server's allocation per request, which drives
 *       its GC cost. The JMX reads themselves allocate a few kilobytes in the server, negligible
 *       against thousands of requests.
 *   <li>{@link #threads()}: every live Java thread's name, CPU time and allocated bytes
 *       ({@code com.sun.management.ThreadMXBean}), for {@link ThreadUsage}'s table by pool.
 *   <li>{@link #memory()}: heap in use as found, then after a full collection (what the server
 *       really retains), and the process's resident set from {@code /proc/<pid>/status}.
 *   <li>{@link #startRecording()} / {@link #stopRecording(long, Path)}: a JFR recording with the JDK's
 *       "profile" settings (execution samples every 10 ms per thread, allocation samples), through
 *       {@code FlightRecorderMXBean}; JFR's overhead with these settings is about 1-2% of CPU.
 * </ul>
 */
public final class JvmProbe implements AutoCloseable {
  private static final ObjectName THREADING = name("java.lang:type=Threading");
  private static final ObjectName FLIGHT_RECORDER = name("jdk.management.jfr:type=FlightRecorder");
  private final long pid;
  private final JMXConnector connector;
  private final MBeanServerConnection mbeans;

  /** Memory of the server at one moment; bytes. */
  public record Memory(long heapUsed, long heapCommitted, long heapUsedAfterGc, long nonHeapUsed, long rss,
      long rssPeak) {}

  private JvmProbe(long pid, JMXConnector connector) throws java.io.IOException {
    this.pid = pid;
    this.connector = connector;
    this.mbeans = connector.getMBeanServerConnection();
  }

  /** Attaches to {@code pid}; throws with the reason when the JVM refuses or JMX cannot connect. */
  public static JvmProbe attach(long pid) throws Exception {
    VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
    String address;
    try {
      address = vm.startLocalManagementAgent();
    } finally {
      vm.detach();
    }
    return new JvmProbe(pid, JMXConnectorFactory.connect(new JMXServiceURL(address)));
  }

  /** The server's total allocated bytes now; fails when the JVM does not measure it (-1). */
  public long allocatedBytes() throws Exception {
    long bytes = (Long) mbeans.getAttribute(THREADING, "TotalThreadAllocatedBytes");
    if (bytes < 0) {
      throw new IllegalStateException("TotalThreadAllocatedBytes is -1: thread allocation measurement is off");
    }
    return bytes;
  }

  /**
   * Every live Java thread's counters now, by thread id. Three JMX calls (ids, then names, then CPU
   * and allocation of those ids): a thread that ends in between reads as {@code -1} and a thread that
   * starts in between is missed, both rare against a window of seconds.
   */
  public java.util.Map<Long, ThreadUsage.Sample> threads() throws Exception {
    com.sun.management.ThreadMXBean threads = ManagementFactory.newPlatformMXBeanProxy(mbeans,
        ManagementFactory.THREAD_MXBEAN_NAME, com.sun.management.ThreadMXBean.class);
    long[] ids = threads.getAllThreadIds();
    java.lang.management.ThreadInfo[] infos = threads.getThreadInfo(ids);
    long[] cpu = threads.getThreadCpuTime(ids);
    long[] alloc = threads.getThreadAllocatedBytes(ids);
    java.util.Map<Long, ThreadUsage.Sample> out = new java.util.HashMap<>();
    for (int i = 0; i < ids.length; i++) {
      if (infos[i] != null) {
        out.put(ids[i], new ThreadUsage.Sample(ids[i], infos[i].getThreadName(), cpu[i], alloc[i]));
      }
    }
    return out;
  }

  /**
   * Heap and RSS now, then a full GC ({@code MemoryMXBean.gc()}) and the heap in use after it. The
   * collection pauses the server: take it outside any measured window. The RSS is read before the
   * collection (a collection can only shrink the live heap, not the pages the process holds).
   */
  public Memory memory() throws Exception {
    MemoryMXBean memory = ManagementFactory.newPlatformMXBeanProxy(mbeans, ManagementFactory.MEMORY_MXBEAN_NAME,
        MemoryMXBean.class);
    MemoryUsage before = memory.getHeapMemoryUsage();
    long nonHeap = memory.getNonHeapMemoryUsage().getUsed();
    long rss = procStatusKb("VmRSS:") * 1024;
    long peak = procStatusKb("VmHWM:") * 1024;
    memory.gc();
    MemoryUsage after = memory.getHeapMemoryUsage();
    return new Memory(before.getUsed(), before.getCommitted(), after.getUsed(), nonHeap, rss, peak);
  }

  private long procStatusKb(String field) throws java.io.IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
      }
    }
    throw new IllegalStateException(field + " not in /proc/" + pid + "/status");
  }

  /** Starts a JFR recording with the "profile" settings; returns its id. */
  public long startRecording() {
    FlightRecorderMXBean jfr = JMX.newMXBeanProxy(mbeans, FLIGHT_RECORDER, FlightRecorderMXBean.class);
    long id = jfr.newRecording();
    jfr.setPredefinedConfiguration(id, "profile");
    jfr.startRecording(id);
    return id;
  }

  /** Stops recording {@code id} and has the server write it to {@code file} (same machine). */
  public void stopRecording(long id, Path file) throws java.io.IOException {
    FlightRecorderMXBean jfr = JMX.newMXBeanProxy(mbeans, FLIGHT_RECORDER, FlightRecorderMXBean.class);
    jfr.stopRecording(id);
    Files.createDirectories(file.toAbsolutePath().getParent());
    jfr.copyTo(id, file.toAbsolutePath().toString());
    jfr.closeRecording(id);
  }

  @Override
  public void close() throws Exception {
    connector.close();
  }

  private static ObjectName name(String name) {
    try {
      return new ObjectName(name);
    } catch (javax.management.MalformedObjectNameException e) {
      throw new IllegalStateException(e);
    }
  }
}
