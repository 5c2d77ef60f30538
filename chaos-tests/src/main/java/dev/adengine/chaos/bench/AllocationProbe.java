package dev.adengine.chaos.bench;

import com.sun.tools.attach.VirtualMachine;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Bytes allocated on the heap by all threads of another JVM, read through JMX: attaches to the
 * process ({@code VirtualMachine.attach(pid).startLocalManagementAgent()}), connects to the local
 * agent and reads {@code TotalThreadAllocatedBytes} of {@code java.lang:type=Threading} (JDK 14+,
 * terminated threads included). Read before and after a window, the difference over its requests
 * is the server's allocation per request, which drives its GC cost. The JMX reads themselves
 * allocate a few kilobytes in the server, negligible against thousands of requests.
 */
public final class AllocationProbe implements AutoCloseable {
  private static final ObjectName THREADING = threading();
  private final JMXConnector connector;
  private final MBeanServerConnection mbeans;

  private AllocationProbe(JMXConnector connector) throws java.io.IOException {
    this.connector = connector;
    this.mbeans = connector.getMBeanServerConnection();
  }

  /** Attaches to {@code pid}; throws with the reason when the JVM refuses or JMX cannot connect. */
  public static AllocationProbe attach(long pid) throws Exception {
    VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
    String address;
    try {
      address = vm.startLocalManagementAgent();
    } finally {
      vm.detach();
    }
    return new AllocationProbe(JMXConnectorFactory.connect(new JMXServiceURL(address)));
  }

  /** The server's total allocated bytes now; fails when the JVM does not measure it (-1). */
  public long allocatedBytes() throws Exception {
    long bytes = (Long) mbeans.getAttribute(THREADING, "TotalThreadAllocatedBytes");
    if (bytes < 0) {
      throw new IllegalStateException("TotalThreadAllocatedBytes is -1: thread allocation measurement is off");
    }
    return bytes;
  }

  @Override
  public void close() throws Exception {
    connector.close();
  }

  private static ObjectName threading() {
    try {
      return new ObjectName("java.lang:type=Threading");
    } catch (javax.management.MalformedObjectNameException e) {
      throw new IllegalStateException(e);
    }
  }
}
