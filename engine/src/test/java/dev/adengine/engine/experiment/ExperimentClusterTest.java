package dev.adengine.engine.experiment;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adengine.api.v1.ArmParamsSpec;
import dev.adengine.api.v1.ArmReportView;
import dev.adengine.api.v1.ArmSpec;
import dev.adengine.api.v1.CreateExperimentRequest;
import dev.adengine.api.v1.ExperimentConfigView;
import dev.adengine.api.v1.ExperimentReportRequest;
import dev.adengine.api.v1.ExperimentReportView;
import dev.adengine.api.v1.RampExperimentRequest;
import dev.adengine.api.v1.StartExperimentRequest;
import dev.adengine.engine.EngineNode;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.experiments.Assigner;
import dev.adengine.experiments.Assignment;
import dev.adengine.experiments.LayerAssignment;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three engine nodes (three ActorSystems in this JVM, one Cassandra keyspace, each with its own
 * gRPC server) form a cluster: experiment changes made through any one node's admin API reach
 * every node within a second, every node assigns every user alike, and the report made on any
 * node sums every node's stats.
 */
class ExperimentClusterTest {
  private static final int USERS = 100_000;
  private static final List<EngineNode> nodes = new ArrayList<>();
  private static final List<Clients> apis = new ArrayList<>();
  private static ActorSystem<Void> client;

  @BeforeAll
  static void start() {
    String keyspace = CassandraTestNode.uniqueKeyspaceName("expcluster");
    Map<String, Object> fast = Map.of("adengine.experiments.stats-interval", "200ms");
    EngineNode first = startNode(keyspace, fast);
    nodes.add(first);
    String seed = first.system().address().toString();
    for (int i = 0; i < 2; i++) {
      nodes.add(startNode(keyspace, Map.of("adengine.seed-nodes", seed, "adengine.experiments.stats-interval",
          "200ms")));
    }
    awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(200), () -> {
      for (EngineNode n : nodes) {
        long up = 0;
        for (org.apache.pekko.cluster.Member m : Cluster.get(n.system()).state().getMembers()) {
          up += m.status() == MemberStatus.up() ? 1 : 0;
        }
        assertEquals(3, up, "members up seen by " + n.nodeId());
      }
    });
    client = clientSystem("expcluster-client");
    for (EngineNode n : nodes) {
      apis.add(Clients.of(client, n.grpcPort()));
    }
  }

  @AfterAll
  static void stop() {
    apis.forEach(Clients::close);
    if (client != null) {
      client.terminate();
    }
    // the joiners first, the seed last
    for (int i = nodes.size() - 1; i >= 0; i--) {
      EngineTestSupport.stop(nodes.get(i));
    }
  }

  private static ArmSpec arm(String name, int bp, boolean control, ArmParamsSpec params) {
    return ArmSpec.newBuilder().setName(name).setBasisPoints(bp).setControl(control).setParams(params).build();
  }

  /**
   * Runs a change through one node's admin API and waits, polling every node's served version
   * each millisecond, until all three serve the version it saved; returns the milliseconds from
   * the call's reply to the last node serving it (printed with the time from the call's start).
   */
  private static long change(String what, Supplier<CompletionStage<ExperimentConfigView>> call) {
    long sent = System.nanoTime();
    ExperimentConfigView saved = await(call.get());
    long replied = System.nanoTime();
    long deadline = replied + Duration.ofSeconds(5).toNanos();
    while (true) {
      boolean all = true;
      for (EngineNode n : nodes) {
        all &= n.experiments().version() >= saved.getVersion();
      }
      long now = System.nanoTime();
      if (all) {
        long fromReply = (now - replied) / 1_000_000;
        System.out.printf("%s: v%d on all 3 nodes %d ms after the admin reply (%d ms after the call)%n", what,
            saved.getVersion(), fromReply, (now - sent) / 1_000_000);
        return fromReply;
      }
      assertTrue(now < deadline, what + ": v" + saved.getVersion() + " not on every node within 5 s of the reply");
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  @Test
  void shouldAgreeOnEveryUsersArmAndPropagateChangesWhenMadeThroughAnyNode() {
    // given an experiment created on node 1 and started on node 2, on half of its layer
    long[] propagation = new long[6];
    propagation[0] = change("create via node 1", () -> apis.get(0).admin().createExperiment(
        CreateExperimentRequest.newBuilder().setActor("cluster-test").setExperimentId("split").setLayerId("ranking")
            .setAllocationBasisPoints(5_000)
            .addArms(arm("control", 5_000, true, ArmParamsSpec.getDefaultInstance()))
            .addArms(arm("top-k-1", 5_000, false, ArmParamsSpec.newBuilder().setTopK(1).build()))
            .build()));
    propagation[1] = change("start via node 2", () -> apis.get(1).admin().startExperiment(
        StartExperimentRequest.newBuilder().setActor("cluster-test").setExperimentId("split").build()));

    // then the three nodes put each of 100,000 users in the same place
    Assignment[] before = assignments(nodes.get(0).experiments().assigner());
    for (int n = 1; n < 3; n++) {
      assertArrayEquals(before, assignments(nodes.get(n).experiments().assigner()), "node " + (n + 1));
    }
    int[] counts = armCounts(before, nodes.get(0).experiments().assigner().layerIndex("ranking"));
    System.out.println("users by arm (none, control, top-k-1) at 50%: " + Arrays.toString(counts));
    // a 50% allocation split 50/50: each arm ~25,000 users (+-1,000 is ~7 standard deviations)
    assertEquals(USERS / 4.0, counts[1], 1_000);
    assertEquals(USERS / 4.0, counts[2], 1_000);

    // when ramps are made through each node in turn
    int[] ramps = {7_000, 9_000, 10_000, 8_000};
    for (int i = 0; i < ramps.length; i++) {
      int to = ramps[i];
      int via = i % 3;
      propagation[2 + i] = change("ramp to " + to + " via node " + (via + 1), () -> apis.get(via).admin()
          .rampExperiment(RampExperimentRequest.newBuilder().setActor("cluster-test").setExperimentId("split")
              .setAllocationBasisPoints(to).build()));
    }

    // then each change reached every node (change() fails beyond 5 s, a bound generous for a
    // loaded 2-core machine; the target is under a second, and the figures are printed)
    System.out.println("propagation ms after the admin reply: " + Arrays.toString(propagation));
    // and the nodes still agree, every user who was in an arm at 50% is in the same arm at 80%
    int layer = nodes.get(0).experiments().assigner().layerIndex("ranking");
    Assignment[] after = assignments(nodes.get(0).experiments().assigner());
    for (int n = 1; n < 3; n++) {
      assertArrayEquals(after, assignments(nodes.get(n).experiments().assigner()), "node " + (n + 1));
    }
    for (int u = 0; u < USERS; u++) {
      LayerAssignment b = before[u].layer(layer);
      if (b.inExperiment()) {
        assertEquals(b.arm(), after[u].layer(layer).arm(), "user " + u + " kept its arm");
      }
    }
    int[] rampedCounts = armCounts(after, layer);
    assertEquals(USERS * 0.4, rampedCounts[1], 1_000);
    assertEquals(USERS * 0.4, rampedCounts[2], 1_000);
  }

  @Test
  void shouldSumEveryNodesStatsWhenAReportIsAskedOfAnyNode() {
    // given an experiment, and 100, 200 and 300 requests recorded on nodes 1, 2 and 3
    change("create sums", () -> apis.get(0).admin().createExperiment(CreateExperimentRequest.newBuilder()
        .setActor("cluster-test").setExperimentId("sums").setLayerId("sums-layer").setAllocationBasisPoints(10_000)
        .addArms(arm("control", 5_000, true, ArmParamsSpec.getDefaultInstance()))
        .addArms(arm("fp", 5_000, false, ArmParamsSpec.newBuilder()
            .setAuctionType(dev.adengine.api.v1.ArmAuctionType.ARM_AUCTION_FIRST_PRICE).build()))
        .build()));
    for (int n = 0; n < 3; n++) {
      for (int i = 0; i < 100 * (n + 1); i++) {
        nodes.get(n).experiments().recorder("sums", "control").recordRequest("n" + n + "-u" + i, i % 2 == 0, 1_000);
        nodes.get(n).experiments().recorder("sums", "fp").recordRequest("n" + n + "-v" + i, true, 1_000);
      }
    }
    // when node 3 reports, then it counts all 600 requests of each arm (published by every node)
    ExperimentReportView report = awaitValue(Duration.ofSeconds(10), () -> {
      ExperimentReportView r = await(apis.get(2).admin().getExperimentReport(ExperimentReportRequest.newBuilder()
          .setExperimentId("sums").build()));
      assertEquals(600, arm(r, "control").getRequests());
      assertEquals(600, arm(r, "fp").getRequests());
      return r;
    });
    assertEquals(300, arm(report, "control").getFilledRequests());
    assertEquals(600, arm(report, "fp").getFilledRequests());
    assertTrue(arm(report, "fp").getFillRate().getSignificant());
  }

  private static ArmReportView arm(ExperimentReportView r, String name) {
    return r.getArmsList().stream().filter(a -> a.getArm().equals(name)).findFirst().orElseThrow();
  }

  private static Assignment[] assignments(Assigner assigner) {
    Assignment[] out = new Assignment[USERS];
    for (int u = 0; u < USERS; u++) {
      out[u] = assigner.assign("user-" + u);
    }
    return out;
  }

  /** Users in no experiment of layer "ranking", in control, in top-k-1. */
  private static int[] armCounts(Assignment[] assignments, int layer) {
    int[] counts = new int[3];
    for (Assignment a : assignments) {
      LayerAssignment l = a.layer(layer);
      counts[!l.inExperiment() ? 0 : l.arm().equals("control") ? 1 : 2]++;
    }
    return counts;
  }
}
