package dev.adengine.engine.cli;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adengine.engine.EngineNode;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;

/** {@code adsctl cluster leave|down} on a real cluster of engine nodes, through a member's management endpoint. */
class ClusterOpsTest {

  private static AdsCtlOpsTest.Run adsctl(EngineNode via, String... args) {
    List<String> all = new ArrayList<>(List.of("--target", "127.0.0.1:" + via.grpcPort(),
        "--mgmt", "127.0.0.1:" + via.managementPort()));
    all.addAll(List.of(args));
    return AdsCtlOpsTest.run(all.toArray(String[]::new));
  }

  private static void awaitUp(EngineNode node, int members) {
    awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(200), () -> {
      long up = 0;
      for (org.apache.pekko.cluster.Member m : Cluster.get(node.system()).state().getMembers()) {
        up += m.status() == MemberStatus.up() ? 1 : 0;
      }
      assertEquals(members, up);
    });
  }

  private static List<String> members(EngineNode node) {
    List<String> out = new ArrayList<>();
    Cluster.get(node.system()).state().getMembers().forEach(m -> out.add(m.address().toString()));
    return out;
  }

  @Test
  void shouldRemoveAMemberWhenToldToLeaveOrDownThroughTheManagementEndpoint() {
    String keyspace = CassandraTestNode.uniqueKeyspaceName("cluster_ops");
    List<EngineNode> nodes = new ArrayList<>();
    try {
      // given a 2-node cluster
      EngineNode a = startNode(keyspace);
      nodes.add(a);
      String seed = a.system().address().toString();
      EngineNode b = startNode(keyspace, Map.of("adengine.seed-nodes", seed));
      nodes.add(b);
      awaitUp(a, 2);
      awaitUp(b, 2);
      String bAddress = b.system().address().toString();
      String bHostPort = bAddress.substring(bAddress.indexOf('@') + 1);
      AdsCtlOpsTest.Run listed = adsctl(a, "cluster", "members");
      assertEquals(0, listed.exit(), listed.err());
      assertTrue(listed.out().lines().anyMatch(l -> l.matches("L?\\s+" + java.util.regex.Pattern.quote(bAddress)
          + "\\s+Up\\s+.*")), listed.out());

      // when b is told to leave, named by host:port, through a's management endpoint
      AdsCtlOpsTest.Run leave = adsctl(a, "cluster", "leave", bHostPort);
      assertEquals(0, leave.exit(), leave.err());
      assertEquals("Leaving " + bAddress, leave.out().strip());

      // then it leaves the cluster: a sees only itself, and so does adsctl
      awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(200), () -> assertEquals(List.of(seed), members(a)));
      awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(200), () -> {
        AdsCtlOpsTest.Run after = adsctl(a, "cluster", "members", "--json");
        assertEquals(0, after.exit(), after.err());
        assertFalse(after.out().contains(bAddress), after.out());
      });
      awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(200),
          () -> assertTrue(b.system().whenTerminated().isCompleted(), "a node that left shuts down"));

      // given a third node joining
      EngineNode c = startNode(keyspace, Map.of("adengine.seed-nodes", seed));
      nodes.add(c);
      awaitUp(a, 2);
      String cAddress = c.system().address().toString();

      // when it is downed by its full address (JSON answer)
      AdsCtlOpsTest.Run down = adsctl(a, "cluster", "down", cAddress, "--json");
      assertEquals(0, down.exit(), down.err());
      assertTrue(down.out().contains("\"member\":\"" + cAddress + "\"") && down.out().contains("\"operation\":"
          + "\"Down\""), down.out());

      // then it is removed at once
      awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(200), () -> assertEquals(List.of(seed), members(a)));

      // and a member that is gone cannot be named any more
      AdsCtlOpsTest.Run again = adsctl(a, "cluster", "down", cAddress);
      assertEquals(1, again.exit());
      assertTrue(again.err().startsWith("adsctl: NOT_FOUND: no member " + cAddress), again.err());
    } finally {
      for (int i = nodes.size() - 1; i >= 0; i--) {
        stop(nodes.get(i));
      }
      dropKeyspace(keyspace);
    }
  }
}
