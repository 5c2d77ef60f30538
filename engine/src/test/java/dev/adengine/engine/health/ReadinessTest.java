package dev.adengine.engine.health;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adengine.api.v1.ClusterStatusRequest;
import dev.adengine.api.v1.ClusterStatusResponse;
import dev.adengine.engine.EngineNode;
import dev.adengine.engine.cli.AdsCtl;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** A node whose Cassandra probe fails is alive but not ready, and says which check fails and why. */
class ReadinessTest {

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void shouldNotBeReadyAndNameTheCassandraCheckWhenTheProbeFails() throws Exception {
    String keyspace = CassandraTestNode.uniqueKeyspaceName("readiness");
    // given a node whose probe query fails (as it would with Cassandra unreachable: the driver errs),
    // with its stage 2 compiled at start
    EngineNode node = startNode(keyspace, Map.of("adengine.health.cassandra-probe.query",
        "SELECT release_version FROM system.no_such_table", "adengine.ranking.vector-stage2", "on"));
    ActorSystem<Void> client = clientSystem("readiness-client");
    Clients api = Clients.of(client, node.grpcPort());
    try {
      // then /ready answers 500 naming the check and the driver's reason, once the replica is loaded
      awaitAssert(Duration.ofSeconds(20), () -> assertTrue(node.catalog().loaded()));
      HttpResponse<String> ready = awaitValue(Duration.ofSeconds(20), () -> {
        try {
          HttpResponse<String> r = get(node.managementPort(), "/ready");
          assertTrue(r.body().contains("cassandra: the last probe failed"), r.body());
          return r;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      assertEquals(500, ready.statusCode());
      assertTrue(ready.body().contains("no_such_table") || ready.body().contains("InvalidQueryException"),
          ready.body());
      // while the node is alive
      assertEquals(200, get(node.managementPort(), "/alive").statusCode());

      // and the model check passes once the compiled stage 2 is built (it fails while it is being
      // built), and then says which stage-2 path serves
      awaitAssert(Duration.ofSeconds(90), () -> {
        ClusterStatusResponse now = await(api.admin().clusterStatus(ClusterStatusRequest.getDefaultInstance()));
        String detail = now.getReadinessChecks(1).getDetail();
        assertTrue(now.getReadinessChecks(1).getOk(), detail);
        assertTrue(detail.matches("serving \\S+, stage 2 compiled \\(rank: \\d+ rows per batch.*"), detail);
      });

      // and the admin API shows each check: replica and model pass, Cassandra fails
      ClusterStatusResponse s = await(api.admin().clusterStatus(ClusterStatusRequest.getDefaultInstance()));
      assertFalse(s.getReady());
      assertEquals("replica", s.getReadinessChecks(0).getName());
      assertTrue(s.getReadinessChecks(0).getOk());
      assertEquals("model", s.getReadinessChecks(1).getName());
      assertTrue(s.getReadinessChecks(1).getOk());
      assertEquals("cassandra", s.getReadinessChecks(2).getName());
      assertFalse(s.getReadinessChecks(2).getOk());
      assertFalse(NodeState.get(node.system()).ready(), "the metric's view agrees");

      // and adsctl health exits 1 with the reason
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CommandLine cl = AdsCtl.commandLine();
      cl.setOut(new PrintWriter(out, true));
      cl.setErr(new PrintWriter(err, true));
      int exit = cl.execute("--target", "127.0.0.1:" + node.grpcPort(), "--mgmt", "127.0.0.1:" + node.managementPort(),
          "health");
      assertEquals(1, exit);
      assertEquals("adsctl: UNAVAILABLE: 127.0.0.1:" + node.managementPort() + " not ready", err.toString().strip());
      assertTrue(out.toString().lines().anyMatch(l -> l.matches("127\\.0\\.0\\.1:\\d+\\s+NO\\s+yes\\s+cassandra: the"
          + " last probe failed.*")), out.toString());
      assertTrue(out.toString().lines().anyMatch(l -> l.matches("  cassandra\\s+FAIL\\s+the last probe failed.*")),
          out.toString());
    } finally {
      api.close();
      client.terminate();
      stop(node);
      dropKeyspace(keyspace);
    }
  }
}
