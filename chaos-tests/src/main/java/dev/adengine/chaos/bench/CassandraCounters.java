package dev.adengine.chaos.bench;

import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * What a server's writes made the Cassandra node do: counters read over Cassandra's local JMX port
 * (the node {@code bin/cassandra} runs binds it to localhost) at the start and end of a step, so that
 * a step can say per request how many CQL requests the node served, how many writes and reads each of
 * the keyspace's tables took, how many bytes it compacted and how long it collected garbage. With
 * Cassandra's CPU per request beside them, they say which writes its CPU goes to.
 *
 * <p>Counter names (keys of {@link #read}): {@code cql requests} (the native transport's completed
 * tasks), {@code writes <table>}, {@code reads <table>} (point and range reads) for the tables of the
 * keyspace, {@code compacted KB}, {@code gc ms}.
 */
final class CassandraCounters implements AutoCloseable {
  private final JMXConnector connector;
  private final MBeanServerConnection server;

  private CassandraCounters(JMXConnector connector) throws IOException {
    this.connector = connector;
    this.server = connector.getMBeanServerConnection();
  }

  /** Connects to the node's JMX on 127.0.0.1:{@code port}. */
  static CassandraCounters connect(int port) throws IOException {
    JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
    return new CassandraCounters(JMXConnectorFactory.connect(url));
  }

  /**
   * The counters now, cumulative since the node started; the table counters only for the tables of
   * {@code keyspace}, none when it is null.
   */
  Map<String, Long> read(String keyspace) throws Exception {
    Map<String, Long> out = new TreeMap<>();
    for (String kind : keyspace == null ? new String[0] : new String[] {"WriteLatency", "ReadLatency", "RangeLatency"}) {
      String key = kind.equals("WriteLatency") ? "writes " : "reads ";
      ObjectName pattern = new ObjectName("org.apache.cassandra.metrics:type=Table,keyspace=" + keyspace
          + ",name=" + kind + ",*");
      for (ObjectName n : server.queryNames(pattern, null)) {
        long count = ((Number) server.getAttribute(n, "Count")).longValue();
        out.merge(key + n.getKeyProperty("scope"), count, Long::sum);
      }
    }
    for (ObjectName n : server.queryNames(new ObjectName(
        "org.apache.cassandra.metrics:type=ThreadPools,scope=Native-Transport-Requests,name=CompletedTasks,*"), null)) {
      out.merge("cql requests", ((Number) server.getAttribute(n, "Value")).longValue(), Long::sum);
    }
    ObjectName compacted = new ObjectName("org.apache.cassandra.metrics:type=Compaction,name=BytesCompacted");
    if (server.isRegistered(compacted)) {
      out.put("compacted KB", ((Number) server.getAttribute(compacted, "Count")).longValue() / 1024);
    }
    long gc = 0;
    for (ObjectName n : server.queryNames(new ObjectName("java.lang:type=GarbageCollector,*"), null)) {
      gc += ((Number) server.getAttribute(n, "CollectionTime")).longValue();
    }
    out.put("gc ms", gc);
    return out;
  }

  /**
   * Each counter's growth from {@code start} to {@code end} over {@code requests}: what one request
   * cost, on average. Counters that did not grow are left out.
   */
  static Map<String, Double> perRequest(Map<String, Long> start, Map<String, Long> end, long requests) {
    Map<String, Double> out = new TreeMap<>();
    if (requests <= 0) {
      return out;
    }
    for (Map.Entry<String, Long> e : end.entrySet()) {
      long grew = e.getValue() - start.getOrDefault(e.getKey(), 0L);
      if (grew > 0) {
        out.put(e.getKey(), (double) grew / requests);
      }
    }
    return out;
  }

  @Override
  public void close() throws IOException {
    connector.close();
  }
}
