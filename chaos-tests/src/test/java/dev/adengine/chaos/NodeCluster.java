package dev.adengine.chaos;

import static dev.adengine.engine.testing.EngineTestSupport.await;
import static dev.adengine.engine.testing.EngineTestSupport.awaitAssert;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.adengine.api.v1.AdminServiceClient;
import dev.adengine.api.v1.AuctionServiceClient;
import dev.adengine.api.v1.ClusterStatusRequest;
import dev.adengine.api.v1.ClusterStatusResponse;
import dev.adengine.api.v1.EventServiceClient;
import dev.adengine.chaos.harness.BillingTraffic;
import dev.adengine.chaos.harness.ChaosCluster;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.persistence.CassandraSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.GrpcClientSettings;

/**
 * The engine node processes of one test, all on one keyspace and joining one seed, with the
 * test's gRPC clients for each. A node is <em>live</em> while the test sends it traffic. Every
 * process started here is stopped by {@link #close()}, and killed by a JVM shutdown hook should
 * the test JVM exit first.
 */
final class NodeCluster implements AutoCloseable {
  private static final Duration READY = Duration.ofSeconds(120);
  private static final Duration CALL_DEADLINE = Duration.ofSeconds(3);

  private final String keyspace;
  private final CassandraSettings cassandra;
  private final Map<String, String> env;
  private final Path logDir;
  private final ActorSystem<Void> clientSystem;
  private final List<Node> started = new CopyOnWriteArrayList<>();
  private final List<Node> live = new CopyOnWriteArrayList<>();
  private final Thread killOnExit = new Thread(this::killAll, "kill-node-processes");

  /** One node process and the test's clients for it. */
  record Node(String name, NodeProcess process, Clients api) implements BillingTraffic.Target {
    @Override
    public AuctionServiceClient auction() {
      return api.auction();
    }

    @Override
    public EventServiceClient events() {
      return api.events();
    }
  }

  NodeCluster(String keyspace, CassandraSettings cassandra, Map<String, String> env, Path logDir,
      ActorSystem<Void> clientSystem) {
    this.keyspace = keyspace;
    this.cassandra = cassandra;
    this.env = env;
    this.logDir = logDir;
    this.clientSystem = clientSystem;
    Runtime.getRuntime().addShutdownHook(killOnExit);
  }

  /**
   * Starts nodes with the given names, the first one's remoting address as the seed of all (so a
   * new cluster forms when the first name's node is its own seed), waits until each is ready and
   * sees {@code expectedUp} Up members, and makes them live.
   */
  List<Node> startJoined(List<String> names, String seed, int expectedUp) {
    List<NodeProcess.Ports> ports = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      ports.add(NodeProcess.freePorts());
    }
    String seedAddress = seed != null ? seed : address(ports.get(0));
    List<NodeProcess> processes = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      Map<String, String> nodeEnv = new HashMap<>(env);
      nodeEnv.put("ADENGINE_CASSANDRA_HOST", cassandra.host());
      nodeEnv.put("ADENGINE_CASSANDRA_PORT", Integer.toString(cassandra.port()));
      nodeEnv.put("ADENGINE_SEED_NODES", seedAddress);
      if ("aeron-udp".equals(env.get("ADENGINE_TRANSPORT"))) {
        nodeEnv.put("ADENGINE_AERON_DIR", aeronDir(ports.get(i)).toString());
      }
      NodeProcess p = NodeProcess.start(names.get(i), keyspace, ports.get(i), nodeEnv, logDir);
      started.add(new Node(names.get(i), p, null));
      processes.add(p);
    }
    List<Node> nodes = new ArrayList<>();
    for (NodeProcess p : processes) {
      p.awaitReady(READY);
      Node node = new Node(p.name(), p, clients(p.grpcPort()));
      started.replaceAll(n -> n.process() == p ? node : n);
      nodes.add(node);
    }
    for (Node n : nodes) {
      awaitUpMembers(n, expectedUp, Duration.ofSeconds(60));
    }
    live.addAll(nodes);
    return nodes;
  }

  /**
   * The Aeron directory of a node on the Aeron transport: one per node, under the prefix that
   * {@code bin/test} cleans, and deleted by {@link #close()}.
   */
  static Path aeronDir(NodeProcess.Ports ports) {
    return Path.of("/dev/shm", "adengine-test-aeron-" + ports.remote());
  }

  /** The remoting address a node with these ports joins or forms the cluster on. */
  static String address(NodeProcess.Ports ports) {
    return "pekko://adengine@127.0.0.1:" + ports.remote();
  }

  /** The seed address of the cluster's first node. */
  String seedOf(Node first) {
    return "pekko://adengine@127.0.0.1:" + first.process().remotePort();
  }

  /** Waits until {@code node} sees exactly {@code count} members, all Up. */
  void awaitUpMembers(Node node, int count, Duration max) {
    awaitAssert(max, () -> {
      ClusterStatusResponse s = await(node.api().admin().clusterStatus(ClusterStatusRequest.getDefaultInstance()));
      long up = s.getMembersList().stream().filter(m -> m.getStatus().equals("Up")).count();
      assertEquals(count, up, node.name() + " sees " + s.getMembersList());
      assertEquals(count, s.getMembersCount(), node.name() + " sees " + s.getMembersList());
    });
  }

  /** The nodes the test sends traffic to now. */
  List<Node> live() {
    return live;
  }

  /**
   * SIGKILL; traffic keeps going to the node until the test notices it is dead, {@code noticedAfter}
   * later (as a publisher's health check would), so that some calls fail against a dead node.
   */
  void kill(Node node, Duration noticedAfter) {
    node.process().kill();
    try {
      Thread.sleep(noticedAfter.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      live.remove(node);
    }
  }

  /** SIGTERM to every live node, waiting for each to exit. */
  void stopLive() {
    List<Node> nodes = List.copyOf(live);
    live.clear();
    for (Node n : nodes) {
      n.process().stop(Duration.ofSeconds(30));
    }
  }

  @Override
  public void close() {
    live.clear();
    for (Node n : started) {
      if (n.api() != null) {
        try {
          n.api().close();
        } catch (RuntimeException e) {
          System.out.println("closing clients of " + n.name() + ": " + e);
        }
      }
      if (n.process().alive()) {
        n.process().stop(Duration.ofSeconds(30));
      }
      ChaosCluster.deleteTree(Path.of("/dev/shm", "adengine-test-aeron-" + n.process().remotePort()));
    }
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down: the hook runs
    }
  }

  private void killAll() {
    for (Node n : started) {
      if (n.process().alive()) {
        n.process().kill();
      }
    }
  }

  private Clients clients(int port) {
    GrpcClientSettings s = EngineTestSupport.clientSettings(clientSystem, port).withDeadline(CALL_DEADLINE);
    return new Clients(AuctionServiceClient.create(s, clientSystem), EventServiceClient.create(s, clientSystem),
        AdminServiceClient.create(s, clientSystem));
  }
}
