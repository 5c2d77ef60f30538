package dev.adengine.chaos;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.chaos.harness.ChaosCluster;
import dev.adengine.chaos.harness.ChaosReport;
import dev.adengine.chaos.harness.ChaosRun;
import dev.adengine.chaos.harness.ChaosRun.Scenario;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.persistence.CassandraSettings;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * The chaos suite's kill scenario, shortened for CI: three engine processes under open-loop bids
 * and billing traffic, one killed (SIGKILL) and restarted on its address. Asserts the invariants
 * and the share of OK answers only; the latency per phase is printed, not asserted (bin/chaos
 * records it in docs/chaos/README.md).
 */
class KillRestartChaosTest {
  /**
   * Short money timings so that the dead incarnation's grant is settled within the test. The grace
   * is 5 s, not ThreeNodeBudgetTest's 1 s: a click accepted just inside its window must be durable
   * before the entity settles the dead node's grant from the charge log, and stalls of 3-5 s of
   * every JVM were seen here (with 1 s, one run ended with spend below the stored charges).
   */
  static final Map<String, String> MONEY_TIMINGS = Map.of(
      "ADENGINE_LEASE", "2s",
      "ADENGINE_CLICK_WINDOW", "20s",
      "ADENGINE_CLICK_GRACE", "5s",
      "ADENGINE_SETTLE_INTERVAL", "1s");

  /**
   * The nodes run as bin/chaos runs them: the scalar stage 2 and C1 only. With the defaults (the
   * compiled stage 2 built before ready, C2), the three nodes kept both cores busy through the whole
   * run (a local run: 88 s to form and be ready, the restarted node serving 123 s after the kill),
   * and this test is about faults and money, not about ranking speed.
   */
  static final Map<String, String> NODE_ENV = java.util.stream.Stream.concat(MONEY_TIMINGS.entrySet().stream(),
      Map.of("ADENGINE_VECTOR_STAGE2", "off").entrySet().stream())
      .collect(java.util.stream.Collectors.toUnmodifiableMap(Map.Entry::getKey, Map.Entry::getValue));

  /**
   * How long the cluster may take to have all members Up and the restarted node serving. The check
   * is that it recovers; how fast goes in the report (bin/chaos). On a loaded machine (a JVM
   * starting on two cores shared with two nodes under load, Cassandra and the generator) a CI run
   * took 95.7 s, 90 s being the bound then, and a local run 182.4 s, of which the restarted node's
   * compiled stage 2 took 148 s (javac skipped: its warm-up), the node reporting ready only after it.
   */
  static final Duration RECOVERY_MAX = Duration.ofSeconds(300);

  @Test
  void shouldAnswerBidsAndChargeEveryEventOnceWhenANodeIsKilledAndRestarted() throws Exception {
    CassandraSettings cassandra = CassandraTestNode.ensureRunning();
    String keyspace = CassandraTestNode.uniqueKeyspaceName("chaos_kill");
    ActorSystem<Void> client = EngineTestSupport.clientSystem("chaos-kill-client");
    ChaosCluster.Options options = new ChaosCluster.Options(3, keyspace, cassandra.host(), cassandra.port(), "tcp",
        NODE_ENV, NodeProcess.logDir("chaos-kill"), "/dev/shm/adengine-test-aeron-", NodeProcess.C1_NODE_FLAGS);
    try (ChaosCluster cluster = new ChaosCluster(options, client); CqlSession cql = CassandraTestNode.connect()) {
      // given three node processes in one cluster
      Duration formed = cluster.startAll(Duration.ofSeconds(180));
      System.out.println("[chaos] 3 nodes Up and ready in " + formed.toMillis() + " ms");

      // when 50 bids/s and billing traffic run and node 3 is killed, then restarted 5 s later. tmax is
      // 1 s (the engine's cap), not the 100 ms target: three nodes, Cassandra and the generator share
      // two cores here (heartbeats delayed by 2 s on every node were seen, and at tmax 100 ms or
      // 500 ms 2-18% of bids ran out of time with no fault at all), so the OK ratio checks
      // availability, and the latency per phase is printed for the report, not asserted
      // (the load runs at least 10 s past the recovery, so the phase after the fault is measured too)
      ChaosRun.Settings settings = new ChaosRun.Settings(Scenario.KILL_RESTART, 50, Duration.ofSeconds(40),
          Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(5), 100, 10, 1000, 0.999,
          RECOVERY_MAX, Duration.ofSeconds(10));
      ChaosRun.Result result = new ChaosRun(cluster, settings, cql, keyspace, "tcp", null, System.out).run();

      // then every invariant held: OK ratio, budgets, exactly-once charges, recovery
      assertTrue(result.passed(), ChaosReport.summary(result));
    } finally {
      client.terminate();
    }
  }
}
