package dev.adengine.chaos.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.adengine.api.v1.AdminServiceClient;
import dev.adengine.api.v1.AuctionServiceClient;
import dev.adengine.api.v1.EventServiceClient;
import dev.adengine.chaos.NodeProcess;
import dev.adengine.chaos.loadgen.LoadOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.GrpcClientSettings;

/**
 * N engine nodes as separate JVM processes ({@link NodeProcess}) on one keyspace, each on fixed
 * ports for the whole run, so that a node restarted after a fault comes back at the same address
 * (a new incarnation of the same member) and the load generator's target list stays valid. The
 * first two nodes are the seeds. Faults: {@link #kill} (SIGKILL), {@link #freeze}/{@link #thaw}
 * (SIGSTOP/SIGCONT), {@link #restart} and a graceful {@link #stop}.
 *
 * <p>On the Aeron transport every node gets its own Aeron directory under {@code aeronDirPrefix};
 * the harness deletes it after a kill (a crashed driver leaves it behind) and on {@link #close()}.
 * Every process started here is stopped by {@link #close()}, and killed by a JVM shutdown hook if
 * the harness's JVM exits first.
 */
public final class ChaosCluster implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CALL_DEADLINE = Duration.ofSeconds(3);

  /** How to start the nodes. {@code env} is added to every node's environment (timings, transport). */
  /** {@code jvmFlags}: the node processes' JVM flags ({@link NodeProcess#TEST_NODE_FLAGS} in the tests). */
  public record Options(int nodes, String keyspace, String cassandraHost, int cassandraPort, String transport,
      Map<String, String> env, Path logDir, String aeronDirPrefix, List<String> jvmFlags) {
    public Options(int nodes, String keyspace, String cassandraHost, int cassandraPort, String transport,
        Map<String, String> env, Path logDir, String aeronDirPrefix) {
      this(nodes, keyspace, cassandraHost, cassandraPort, transport, env, logDir, aeronDirPrefix,
          NodeProcess.TEST_NODE_FLAGS);
    }

    public boolean aeron() {
      return "aeron-udp".equals(transport);
    }
  }

  /**
   * One node position: its fixed ports and its current process. {@code incarnation} counts starts,
   * from 1; later incarnations log to {@code <name>-<incarnation>.log} and serve as
   * {@code <name>-<incarnation>} in allowances and charges.
   */
  public final class Node implements BillingTraffic.Target {
    private final String name;
    private final NodeProcess.Ports ports;
    private volatile NodeProcess process;
    private volatile int incarnation;
    private final AuctionServiceClient auction;
    private final EventServiceClient events;
    private final AdminServiceClient admin;

    private Node(String name, NodeProcess.Ports ports) {
      this.name = name;
      this.ports = ports;
      GrpcClientSettings s = GrpcClientSettings.connectToServiceAt("127.0.0.1", ports.grpc(), clientSystem)
          .withTls(false).withDeadline(CALL_DEADLINE);
      this.auction = AuctionServiceClient.create(s, clientSystem);
      this.events = EventServiceClient.create(s, clientSystem);
      this.admin = AdminServiceClient.create(s, clientSystem);
    }

    /** The node's current incarnation's name (as in its charges and allowances, before the {@code #}). */
    @Override
    public String name() {
      return incarnation <= 1 ? name : name + "-" + incarnation;
    }

    /** The position's name, the same for every incarnation. */
    public String slot() {
      return name;
    }

    @Override
    public AuctionServiceClient auction() {
      return auction;
    }

    @Override
    public EventServiceClient events() {
      return events;
    }

    public AdminServiceClient admin() {
      return admin;
    }

    public NodeProcess process() {
      return process;
    }

    public NodeProcess.Ports ports() {
      return ports;
    }

    public LoadOptions.Target target() {
      return new LoadOptions.Target("127.0.0.1", ports.grpc());
    }

    public String address() {
      return "pekko://adengine@127.0.0.1:" + ports.remote();
    }

    Path aeronDir() {
      return Path.of(options.aeronDirPrefix() + ports.remote());
    }
  }

  private final Options options;
  private final ActorSystem<?> clientSystem;
  private final List<Node> nodes = new ArrayList<>();
  private final List<NodeProcess> started = new CopyOnWriteArrayList<>();
  private final Thread killOnExit = new Thread(this::killAll, "kill-chaos-nodes");

  public ChaosCluster(Options options, ActorSystem<?> clientSystem) {
    this.options = options;
    this.clientSystem = clientSystem;
    for (int i = 1; i <= options.nodes(); i++) {
      nodes.add(new Node("n" + i, NodeProcess.freePorts()));
    }
    Runtime.getRuntime().addShutdownHook(killOnExit);
  }

  public List<Node> nodes() {
    return List.copyOf(nodes);
  }

  public Node node(int index) {
    return nodes.get(index);
  }

  /** The nodes whose process is alive (a frozen one included). */
  public List<Node> alive() {
    return nodes.stream().filter(n -> n.process != null && n.process.alive()).toList();
  }

  /** The process ids of the nodes alive now. */
  public List<Long> alivePids() {
    return alive().stream().map(n -> n.process.pid()).toList();
  }

  /** An admin client for the node with its own deadline (market set-up); the caller closes it. */
  public AdminServiceClient admin(Node n, Duration deadline) {
    return AdminServiceClient.create(GrpcClientSettings.connectToServiceAt("127.0.0.1", n.ports.grpc(), clientSystem)
        .withTls(false).withDeadline(deadline), clientSystem);
  }

  /** Every node's gRPC endpoint, for the load generator. */
  public List<LoadOptions.Target> targets() {
    return nodes.stream().map(Node::target).toList();
  }

  /** Starts every node (all at once) and waits until each is ready and all see every member Up. */
  public Duration startAll(Duration max) {
    long t0 = System.nanoTime();
    for (Node n : nodes) {
      launch(n);
    }
    awaitConverged(max);
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  /** SIGKILL: no chance to leave the cluster; its Aeron directory is deleted as an operator would. */
  public void kill(Node n) {
    n.process.kill();
    if (options.aeron()) {
      deleteTree(n.aeronDir());
    }
  }

  public void freeze(Node n) {
    n.process.freeze();
  }

  public void thaw(Node n) {
    n.process.thaw();
  }

  /** SIGTERM and wait for the node to leave and exit. */
  public int stop(Node n) {
    return n.process.stop(Duration.ofSeconds(30));
  }

  /** Starts the node's next incarnation on the same ports (its previous process must be gone). */
  public void restart(Node n) {
    if (n.process != null && n.process.alive()) {
      throw new IllegalStateException(n.name() + " is still running");
    }
    launch(n);
  }

  private void launch(Node n) {
    n.incarnation++;
    Map<String, String> env = new HashMap<>(options.env());
    env.put("ADENGINE_CASSANDRA_HOST", options.cassandraHost());
    env.put("ADENGINE_CASSANDRA_PORT", Integer.toString(options.cassandraPort()));
    env.put("ADENGINE_SEED_NODES", nodes.get(0).address() + (nodes.size() > 1 ? "," + nodes.get(1).address() : ""));
    env.put("ADENGINE_TRANSPORT", options.transport());
    if (options.aeron()) {
      deleteTree(n.aeronDir());
      env.put("ADENGINE_AERON_DIR", n.aeronDir().toString());
    }
    NodeProcess p = NodeProcess.start(n.name(), options.keyspace(), n.ports, env, options.logDir(),
        options.jvmFlags());
    started.add(p);
    n.process = p;
  }

  /**
   * Waits until every node process is alive and ready and every one sees exactly all nodes as Up
   * members with none unreachable; fails with what each node saw otherwise.
   */
  public void awaitConverged(Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      for (Node n : nodes) {
        if (n.process != null && !n.process.alive()) {
          throw new IllegalStateException(n.name() + " exited while the cluster converged:\n" + n.process.tail(30));
        }
      }
      last = convergence();
      if (last.isEmpty()) {
        return;
      }
      pause(250);
    }
    throw new IllegalStateException("cluster not converged after " + max + ": " + last);
  }

  /** Empty when converged, or what is missing. */
  public String convergence() {
    StringBuilder problems = new StringBuilder();
    for (Node n : nodes) {
      if (n.process == null || !n.process.alive()) {
        problems.append(n.name()).append(" not running; ");
        continue;
      }
      if (!n.process.ready()) {
        problems.append(n.name()).append(" not ready; ");
        continue;
      }
      JsonNode m = members(n);
      if (m == null) {
        problems.append(n.name()).append(" no /cluster/members; ");
        continue;
      }
      long up = 0;
      for (JsonNode member : m.path("members")) {
        if ("Up".equals(member.path("status").asText())) {
          up++;
        }
      }
      int all = m.path("members").size();
      int unreachable = m.path("unreachable").size();
      if (up != nodes.size() || all != nodes.size() || unreachable > 0) {
        problems.append(n.name()).append(" sees ").append(up).append(" Up of ").append(all)
            .append(", unreachable ").append(unreachable).append("; ");
      }
    }
    return problems.toString();
  }

  /** The node's {@code /cluster/members} answer, or null. */
  public static JsonNode members(Node n) {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + n.ports.mgmt() + "/cluster/members")
          .toURL().openConnection();
      c.setConnectTimeout(500);
      c.setReadTimeout(1500);
      try (InputStream in = c.getInputStream()) {
        return c.getResponseCode() == 200 ? JSON.readTree(in) : null;
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public void close() {
    for (Node n : nodes) {
      if (n.process != null && n.process.alive()) {
        n.process.thaw();
        n.process.stop(Duration.ofSeconds(30));
      }
      if (options.aeron()) {
        deleteTree(n.aeronDir());
      }
      n.auction.close();
      n.events.close();
      n.admin.close();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down: the hook runs
    }
  }

  private void killAll() {
    for (NodeProcess p : started) {
      if (p.alive()) {
        p.kill();
      }
    }
  }

  /** Deletes a folder and everything in it; says so on stdout when it cannot (best effort, for tests and runs). */
  public static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.out.println("could not delete " + dir + ": " + e);
    }
  }

  static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
