package dev.adengine.chaos.harness;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.chaos.NodeProcess;
import dev.adengine.chaos.harness.ChaosRun.Scenario;
import dev.adengine.persistence.CassandraSessions;
import dev.adengine.persistence.CassandraSettings;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The chaos suite ({@code bin/chaos}): each scenario on a fresh three-node cluster and keyspace,
 * against the Cassandra node named by {@code ADENGINE_CASSANDRA_HOST/PORT} (which bin/chaos starts
 * for the suite alone, since one scenario stops it); writes {@code README.md} and one PNG per
 * scenario into {@code --out}. Exits 1 when an invariant was violated.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
    description = "Runs the chaos scenarios against engine node processes and writes the report.")
public final class ChaosSuite implements Callable<Integer> {

  @Option(names = "--scenarios", split = ",", defaultValue = "kill,freeze,rolling,cassandra,aeron-kill",
      description = "kill, freeze, rolling, cassandra, aeron-kill (default: all)")
  List<String> scenarios;

  @Option(names = "--nodes", defaultValue = "3")
  int nodes;

  @Option(names = "--rate", defaultValue = "50", description = "load-generator bids per second")
  double rate;

  @Option(names = "--duration", defaultValue = "60", description = "measured seconds per scenario, at least: the load"
      + " runs until --after seconds after the recovery when that is later")
  int durationSeconds;

  @Option(names = "--after", defaultValue = "15", description = "measured seconds after the recovery, at least (the"
      + " phase after the fault)")
  int afterSeconds;

  @Option(names = "--warmup", defaultValue = "20")
  int warmupSeconds;

  @Option(names = "--fault-at", defaultValue = "15", description = "second of the measured schedule the fault starts")
  int faultAtSeconds;

  @Option(names = "--campaigns", defaultValue = "100")
  int campaigns;

  @Option(names = "--billing-rate", defaultValue = "10", description = "billing-traffic bids per second")
  int billingRate;

  @Option(names = "--tmax-ms", defaultValue = "100", description = "every bid's deadline")
  int tmaxMs;

  @Option(names = "--vector-stage2", defaultValue = "off", description = "the nodes' compiled stage 2"
      + " (adengine.ranking.vector-stage2): off by default, because the scenarios are about faults, and three"
      + " co-located nodes each building and warming the generated vector code (minutes of JIT work on 2 loaded"
      + " cores) starve the cluster they test")
  String vectorStage2;

  @Option(names = "--jit", defaultValue = "c1", description = "the nodes' JIT: c1 (-XX:TieredStopAtLevel=1, the"
      + " default) or tiered (the JVM's default, C1 then C2). Three co-located nodes compiling with C2 took 14%% of a"
      + " core each for minutes after every start on this machine; at tens of bids/s per node C1 code is fast enough")
  String jit;

  @Option(names = "--out", defaultValue = "docs/chaos")
  Path out;

  @Option(names = "--cassandra-script", defaultValue = "bin/cassandra")
  Path cassandraScript;

  /** Whether the nodes map a class-data-sharing archive ({@link NodeProcess#CLASS_ARCHIVE_PROPERTY}). */
  private boolean classArchive;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ChaosSuite()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    CassandraSettings cassandra = CassandraSettings.fromEnv("chaos");
    ActorSystem<Void> client = ActorSystem.create(Behaviors.empty(), "chaos-client",
        dev.adengine.engine.sim.TrafficSimulator.clientSystemConfig());
    List<ChaosRun.Result> results = new ArrayList<>();
    List<String> pngs = new ArrayList<>();
    List<String> aborted = new ArrayList<>();
    Files.createDirectories(out);
    if (NodeProcess.classArchive() != null) {
      System.out.println("[chaos] class-data-sharing archive for the nodes: " + NodeProcess.classArchive()
          + (Files.isRegularFile(NodeProcess.classArchive()) ? " (kept from an earlier run of this build)"
              : " (recording it: one node started until ready, then stopped)"));
      String keyspace = "chaos_class_archive_" + Instant.now().truncatedTo(ChronoUnit.SECONDS).toString()
          .replaceAll("[^0-9]", "");
      try {
        classArchive = NodeProcess.recordClassArchive(keyspace, nodeEnv(), Path.of("var/chaos/logs/class-archive"),
            nodeFlags());
      } catch (RuntimeException e) {
        System.out.println("[chaos] recording the class archive failed: " + e);
      }
      if (!classArchive) {
        System.out.println("[chaos] no class archive was written (see var/chaos/logs/class-archive): the nodes"
            + " start without one");
      }
    }
    try {
      for (String name : scenarios) {
        ChaosRun.Result r;
        try {
          r = runOne(name.trim(), cassandra, client);
        } catch (CommandLine.ParameterException e) {
          throw e;
        } catch (Exception e) {
          // One scenario that could not run to its end (a cluster that did not form, a fault that
          // could not be injected) fails, is named in the report, and the suite goes on.
          System.out.println("[chaos] " + name.trim() + " aborted: " + e);
          e.printStackTrace(System.out);
          aborted.add(name.trim() + ": " + e);
          Files.writeString(out.resolve("README.md"), ChaosReport.page(results, pngs, aborted, how()));
          continue;
        }
        String png = name.trim() + ".png";
        ChaosReport.chart(r, out.resolve(png));
        results.add(r);
        pngs.add(png);
        Files.writeString(out.resolve("README.md"), ChaosReport.page(results, pngs, aborted, how()));
      }
    } finally {
      client.terminate();
    }
    return aborted.isEmpty() && results.stream().allMatch(ChaosRun.Result::passed) ? 0 : 1;
  }

  private ChaosRun.Result runOne(String name, CassandraSettings cassandra, ActorSystem<Void> client) throws Exception {
    Scenario scenario;
    String transport = "tcp";
    Duration downFor;
    switch (name) {
      case "kill" -> { scenario = Scenario.KILL_RESTART; downFor = Duration.ofSeconds(5); }
      case "aeron-kill" -> { scenario = Scenario.KILL_RESTART; downFor = Duration.ofSeconds(5); transport = "aeron-udp"; }
      case "freeze" -> { scenario = Scenario.FREEZE; downFor = Duration.ofSeconds(10); }
      case "rolling" -> { scenario = Scenario.ROLLING_RESTART; downFor = Duration.ZERO; }
      case "cassandra" -> { scenario = Scenario.CASSANDRA_STOP; downFor = Duration.ofSeconds(20); }
      default -> throw new CommandLine.ParameterException(new CommandLine(this), "unknown scenario " + name);
    }
    String keyspace = "chaos_" + name.replace('-', '_') + "_" + Instant.now().truncatedTo(ChronoUnit.SECONDS)
        .toString().replaceAll("[^0-9]", "");
    ChaosCluster.Options options = new ChaosCluster.Options(nodes, keyspace, cassandra.host(), cassandra.port(),
        transport, nodeEnv(), Path.of("var/chaos/logs", name), "/dev/shm/adengine-chaos-aeron-",
        nodeFlags());
    ChaosRun.Settings settings = new ChaosRun.Settings(scenario, rate, Duration.ofSeconds(durationSeconds),
        Duration.ofSeconds(warmupSeconds), Duration.ofSeconds(faultAtSeconds), downFor, campaigns, billingRate, tmaxMs, 0.999,
        Duration.ofSeconds(120), Duration.ofSeconds(afterSeconds));
    System.out.println("[chaos] " + name + ": starting " + nodes + " nodes over " + transport + ", keyspace " + keyspace);
    try (ChaosCluster cluster = new ChaosCluster(options, client);
        CqlSession cql = CassandraSessions.connect(cassandra, Duration.ofSeconds(30))) {
      Duration formed = cluster.startAll(Duration.ofSeconds(180));
      System.out.println("[chaos] cluster formed in " + formed.toMillis() + " ms");
      return new ChaosRun(cluster, settings, cql, keyspace, transport, cassandraControl(), System.out).run();
    }
  }

  private ChaosRun.CassandraControl cassandraControl() {
    return new ChaosRun.CassandraControl() {
      @Override
      public void stop() {
        script("stop");
      }

      @Override
      public void start() {
        script("start");
      }
    };
  }

  private void script(String command) {
    try {
      Process p = new ProcessBuilder(cassandraScript.toString(), command).inheritIO().start();
      if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(cassandraScript + " " + command + " failed");
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The node processes' settings: short leases and click windows, so that a dead node's grant settles within a run. */
  private Map<String, String> nodeEnv() {
    return Map.of("ADENGINE_LEASE", "2s", "ADENGINE_CLICK_WINDOW", "20s", "ADENGINE_CLICK_GRACE", "5s",
        "ADENGINE_SETTLE_INTERVAL", "1s", "ADENGINE_VECTOR_STAGE2", vectorStage2);
  }

  /** The node processes' JVM flags: the tests' own, with C2 off for {@code --jit c1}. */
  private List<String> nodeFlags() {
    switch (jit) {
      case "c1" -> {
        return NodeProcess.C1_NODE_FLAGS;
      }
      case "tiered" -> {
        return NodeProcess.TEST_NODE_FLAGS;
      }
      default -> throw new CommandLine.ParameterException(new CommandLine(this), "--jit: c1 or tiered, not " + jit);
    }
  }

  private String how() {
    return String.format(Locale.ROOT, "Written by `bin/chaos` (`dev.adengine.chaos.harness.ChaosSuite`) on %s: %d engine "
            + "node processes per scenario on a fresh keyspace, a Cassandra node of the suite's own, the open-loop load "
            + "generator at %.0f bids/s against every node plus billing traffic, on the 2-core development machine "
            + "(shared with other work: latencies are noisy and are reported, not asserted; the target is p99 < 100 ms "
            + "in every phase). Phases: before the fault; during it, until every member is Up again and the touched "
            + "node serves; after. Each phase also shows how busy the machine was (`/proc/stat`, sampled every second:"
            + " all processes; a second with every core at least 95%% busy counts as all cores busy), and of that the"
            + " engine nodes' and the harness's CPU: they share the machine with Cassandra, so in a busy second any of"
            + " them, the load generator included, may wait for a core. Node JVM flags: `%s`. The nodes rank with `adengine.ranking.vector-stage2 = %s`%s.",
        Instant.now().truncatedTo(ChronoUnit.SECONDS), nodes, rate, String.join(" ", nodeFlags()), vectorStage2,
        "off".equals(vectorStage2)
            ? " (the scalar stage 2: on this machine each of three co-located nodes was still warming up its compiled"
                + " one 400 s after its start, 30 s of CPU taken from serving; `--vector-stage2 on` runs it)"
            : "")
        + ("c1".equals(jit) ? " They run C1 only (`--jit c1`): on this machine three co-located nodes compiling with"
            + " C2 took about 14% of a core each for minutes after every start (a single node at 17 bids/s used 27% of"
            + " a core 100 s after its load began with C2, 15% with C1 only); `--jit tiered` runs the JVM's default." : "")
        + (classArchive ? " The nodes map a class-data-sharing archive of the classes a node loads until it is"
            + " ready (`-XX:SharedArchiveFile`, recorded once per build by starting one node): on this machine a"
            + " node then started with about a third less CPU." : "")
        + " The harness (load generator, billing traffic) runs in a JVM of its own with `"
        + ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(a -> !a.startsWith("-Dadengine.node.")) // the nodes' class path and archive, not the harness's
            .collect(Collectors.joining(" ")) + "`"
        + (collector().isEmpty() ? "." : ", collector " + collector() + ".");
  }

  /** The names of this JVM's garbage collectors, comma-separated (its pauses count as the nodes' latency). */
  private static String collector() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName)
        .collect(Collectors.joining(", "));
  }
}
