package dev.adengine.engine.cli;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.engine.EngineNode;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.persistence.testing.CassandraTestNode;
import io.grpc.Status;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code adsctl campaign|cluster|health|slo ...} against a live node: tables, JSON, one-line errors,
 * exit codes, help at every level.
 */
class AdsCtlOpsTest {
  private static final String KEYSPACE = CassandraTestNode.uniqueKeyspaceName("adsctl_ops");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static EngineNode node;
  private static ActorSystem<Void> client;
  private static Clients api;

  @BeforeAll
  static void start() {
    node = startNode(KEYSPACE);
    client = clientSystem("adsctl-ops-client");
    api = Clients.of(client, node.grpcPort());
    await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
        .setAdvertiser(advertiser("adv-ops", 1_000_000_000L)).build()));
    await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
        .setAdvertiser(advertiser("adv-other", 1_000_000_000L)).build()));
    await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder().setCampaign(
        campaign("c-paris", "adv-other", Pricing.CPC, 500_000, 50_000_000, "ad-paris-1")
            .addDestinations("paris")).build()));
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
    if (client != null) {
      client.terminate();
    }
    EngineTestSupport.stop(node);
    dropKeyspace(KEYSPACE);
  }

  record Run(int exit, String out, String err) {}

  /** adsctl aimed at the test node (gRPC and management). */
  private static Run adsctl(String... args) {
    List<String> all = new ArrayList<>(List.of("--target", "127.0.0.1:" + node.grpcPort(),
        "--mgmt", "127.0.0.1:" + node.managementPort()));
    all.addAll(List.of(args));
    return run(all.toArray(String[]::new));
  }

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = AdsCtl.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  private static JsonNode json(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--json");
    Run r = adsctl(all.toArray(String[]::new));
    assertEquals(0, r.exit(), r.err());
    return tree(r.out());
  }

  private static JsonNode tree(String json) {
    try {
      return JSON.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("not JSON: " + json, e);
    }
  }

  @Test
  void shouldCreateListShowPauseAndBudgetCampaignsWhenGivenValidCommands(@TempDir Path dir) throws Exception {
    // when a campaign is created from options (money in currency units) and another from a JSON file
    Run created = adsctl("campaign", "create", "c-opt", "--advertiser", "adv-ops", "--pricing", "CPC",
        "--bid", "0.45", "--budget", "120.5", "--pacing", "ASAP", "--destination", "rome,milan",
        "--ad", "ad-opt-1:Hotel Roma", "--ad", "ad-opt-2");
    assertEquals(0, created.exit(), created.err());
    assertTrue(created.out().matches("campaign c-opt: saved, revision \\d+\\n"), created.out());
    Path file = dir.resolve("c-file.json");
    Files.writeString(file, """
        {"campaign_id": "c-file", "advertiser_id": "adv-ops", "name": "From a file", "pricing": "CPM",
         "bid_micros": 2000000, "dailyBudgetMicros": "75000000", "pacing": "ASAP",
         "ads": [{"ad_id": "ad-file-1", "title": "Hotel Lyon", "star_rating": 4}]}
        """);
    Run fromFile = adsctl("campaign", "create", "--file", file.toString());
    assertEquals(0, fromFile.exit(), fromFile.err());
    assertTrue(fromFile.out().startsWith("campaign c-file: saved, revision "), fromFile.out());

    // then list (from the node's replica, which follows the entities) shows them as a table and as JSON
    awaitAssert(Duration.ofSeconds(20), () -> assertEquals(3, node.catalog().current().campaignCount()));
    Run list = adsctl("campaign", "list", "--advertiser", "adv-ops");
    assertEquals(0, list.exit(), list.err());
    List<String> lines = list.out().lines().toList();
    assertTrue(lines.get(0).matches("CAMPAIGN\\s+ADVERTISER\\s+STATUS\\s+PAY\\s+BID\\s+DAILY BUDGET\\s+ADS"),
        lines.get(0));
    assertTrue(lines.get(1).matches("c-file\\s+adv-ops\\s+ACTIVE\\s+CPM\\s+2\\.000000\\s+75\\.000000\\s+1"),
        lines.get(1));
    assertTrue(lines.get(2).matches("c-opt\\s+adv-ops\\s+ACTIVE\\s+CPC\\s+0\\.450000\\s+120\\.500000\\s+2"),
        lines.get(2));
    assertEquals(3, lines.size(), list.out());
    JsonNode all = json("campaign", "list");
    assertEquals(3, all.get("matched").asInt());
    assertEquals("c-file", all.get("campaigns").get(0).get("campaign_id").asText());
    assertEquals(120_500_000L, all.get("campaigns").get(1).get("daily_budget_micros").asLong());
    JsonNode limited = json("campaign", "list", "--limit", "1");
    assertEquals(1, limited.get("campaigns").size());
    assertEquals(3, limited.get("matched").asInt());

    // pause: the entity answers at once, the replica follows; the status filter sees it
    Run paused = adsctl("campaign", "pause", "c-opt");
    assertEquals(0, paused.exit(), paused.err());
    assertEquals("campaign c-opt: PAUSED, daily budget 120.500000, revision", paused.out().replaceAll(" \\d+\\n$", ""));
    awaitAssert(Duration.ofSeconds(20), () -> {
      JsonNode p = json("campaign", "list", "--status", "PAUSED");
      assertEquals(1, p.get("campaigns").size());
      assertEquals("c-opt", p.get("campaigns").get(0).get("campaign_id").asText());
    });
    Run resumed = adsctl("campaign", "resume", "c-opt");
    assertEquals(0, resumed.exit(), resumed.err());
    assertTrue(resumed.out().startsWith("campaign c-opt: ACTIVE"), resumed.out());

    // budget: in currency units, converted to micros exactly; or in micros
    Run budget = adsctl("campaign", "budget", "c-opt", "250.000001");
    assertEquals(0, budget.exit(), budget.err());
    assertTrue(budget.out().startsWith("campaign c-opt: daily budget 250.000001 (was 120.500000), revision "),
        budget.out());
    assertEquals(250_000_001L, json("campaign", "show", "c-opt").get("campaign").get("daily_budget_micros").asLong());
    assertEquals(0, adsctl("campaign", "budget", "c-opt", "--micros", "300000000").exit());
    // the write-back expects the revision read: a client holding an older one is refused ABORTED, nothing changes
    dev.adengine.api.v1.CampaignView read = await(api.admin().getCampaign(
        dev.adengine.api.v1.GetCampaignRequest.newBuilder().setCampaignId("c-opt").build()));
    long revision = read.getRevision();
    RuntimeException stale = assertThrows(RuntimeException.class, () -> await(api.admin().upsertCampaign(
        UpsertCampaignRequest.newBuilder().setExpectedRevision(revision - 1)
            .setCampaign(read.getCampaign().toBuilder().setDailyBudgetMicros(1_000_000)).build())));
    assertEquals(io.grpc.Status.Code.ABORTED, io.grpc.Status.fromThrowable(stale).getCode(), stale.toString());
    assertTrue(stale.getMessage().contains("is at revision " + revision + ", not " + (revision - 1)), stale.getMessage());
    JsonNode after = json("campaign", "show", "c-opt");
    assertEquals(300_000_000L, after.get("campaign").get("daily_budget_micros").asLong());
    assertEquals(revision, after.get("revision").asLong());

    // show: spend, reservations, remaining and allowances
    Run show = adsctl("campaign", "show", "c-opt");
    assertEquals(0, show.exit(), show.err());
    assertTrue(show.out().startsWith("campaign       c-opt (ACTIVE), revision "), show.out());
    assertTrue(show.out().contains("\ndaily budget   300.000000\n"), show.out());
    assertTrue(show.out().contains("\nspent          0.000000\n"), show.out());
    assertTrue(show.out().contains("\nremaining      "), show.out());
    assertTrue(show.out().contains("\nallowances     ") || show.out().contains("ALLOWANCE"), show.out());
    JsonNode shown = json("campaign", "show", "c-opt");
    assertEquals("adv-ops", shown.get("campaign").get("advertiser_id").asText());
    assertEquals(2, shown.get("campaign").get("ads").size());
    assertTrue(shown.has("remaining_micros") && shown.has("allowances"), shown.toString());
  }

  @Test
  void shouldPrintOneLineAndFailWhenACampaignCommandIsWrongOrRefused(@TempDir Path dir) throws Exception {
    // an unknown campaign: NOT_FOUND from its entity, one line, exit 1
    Run unknown = adsctl("campaign", "show", "no-such-campaign");
    assertEquals(1, unknown.exit());
    assertEquals("", unknown.out());
    assertEquals(1, unknown.err().lines().count(), unknown.err());
    assertTrue(unknown.err().startsWith("adsctl: NOT_FOUND: "), unknown.err());
    Run unknownBudget = adsctl("campaign", "budget", "no-such-campaign", "10");
    assertEquals(1, unknownBudget.exit());
    assertTrue(unknownBudget.err().startsWith("adsctl: NOT_FOUND: "), unknownBudget.err());

    // the node validates: a limit out of range, an advertiser that does not exist
    Run limit = adsctl("campaign", "list", "--limit", "5000");
    assertEquals(1, limit.exit());
    assertEquals("adsctl: INVALID_ARGUMENT: limit: must be in [0, 1000] (0 = 100), got 5000", limit.err().strip());
    Run noAdvertiser = adsctl("campaign", "create", "c-x", "--advertiser", "nobody", "--pricing", "CPC",
        "--bid", "1", "--budget", "10", "--ad", "ad-x");
    assertEquals(1, noAdvertiser.exit());
    assertTrue(noAdvertiser.err().startsWith("adsctl: INVALID_ARGUMENT: campaign.advertiser_id"), noAdvertiser.err());

    // usage errors, caught before calling the node: exit 2, one line
    Run micros = adsctl("campaign", "budget", "c-paris", "1.0000001");
    assertEquals(2, micros.exit());
    assertEquals("adsctl: AMOUNT: at most 6 decimals (micros), got 1.0000001 (try --help)", micros.err().strip());
    Run notMoney = adsctl("campaign", "budget", "c-paris", "1e3x");
    assertEquals(2, notMoney.exit());
    assertTrue(notMoney.err().startsWith("adsctl: AMOUNT: not an amount"), notMoney.err());
    Run both = adsctl("campaign", "budget", "c-paris", "10", "--micros", "10");
    assertEquals(2, both.exit());
    Run badFlag = adsctl("campaign", "list", "--no-such-flag");
    assertEquals(2, badFlag.exit());
    assertEquals(1, badFlag.err().lines().count(), badFlag.err());
    assertTrue(badFlag.err().startsWith("adsctl: Unknown option: '--no-such-flag'"), badFlag.err());
    Run badStatus = adsctl("campaign", "list", "--status", "SLEEPING");
    assertEquals(2, badStatus.exit());
    Run missing = adsctl("campaign", "create", "c-y", "--advertiser", "adv-ops");
    assertEquals(2, missing.exit());
    assertTrue(missing.err().startsWith("adsctl: give ID, --advertiser"), missing.err());
    Path bad = dir.resolve("bad.json");
    Files.writeString(bad, "{\"campaign_id\": \"c-z\", \"bid\": 3}");
    Run badFile = adsctl("campaign", "create", "--file", bad.toString());
    assertEquals(2, badFile.exit());
    assertEquals("adsctl: --file " + bad + ": bid: no such field in Campaign (try --help)", badFile.err().strip());
  }

  @Test
  void shouldShowTheClusterItsReadinessAndShardsWhenAsked() throws Exception {
    // status: this node, ready check by check
    Run status = adsctl("cluster", "status");
    assertEquals(0, status.exit(), status.err());
    String self = node.system().address().toString();
    assertTrue(status.out().startsWith("node           " + self + " (" + node.nodeId() + ")"), status.out());
    assertTrue(status.out().contains("\nready          yes\n"), status.out());
    assertTrue(status.out().lines().anyMatch(l -> l.matches("  replica\\s+ok\\s+\\d+ campaigns")), status.out());
    assertTrue(status.out().lines().anyMatch(l -> l.matches("  model\\s+ok\\s+serving .+")), status.out());
    assertTrue(status.out().lines().anyMatch(l -> l.matches("  cassandra\\s+ok\\s+answered \\d+ ms ago")),
        status.out());
    JsonNode s = json("cluster", "status");
    assertTrue(s.get("ready").asBoolean());
    assertEquals(List.of("replica", "model", "cassandra"),
        List.of(s.get("readiness_checks").get(0).get("name").asText(), s.get("readiness_checks").get(1).get("name")
            .asText(), s.get("readiness_checks").get(2).get("name").asText()));

    // members: one Up member, the leader and the answering node
    Run members = adsctl("cluster", "members");
    assertEquals(0, members.exit(), members.err());
    assertTrue(members.out().lines().anyMatch(l -> l.matches("L\\*\\s+" + java.util.regex.Pattern.quote(self)
        + "\\s+Up\\s+.*")), members.out());
    JsonNode m = json("cluster", "members");
    assertEquals(1, m.get("members").size());
    assertEquals("Up", m.get("members").get(0).get("status").asText());

    // shards: the entities of each sharded type on this node (asking for a campaign starts its entity)
    assertEquals(0, adsctl("campaign", "show", "c-paris").exit());
    awaitAssert(Duration.ofSeconds(20), () -> {
      Run shards = adsctl("cluster", "shards");
      assertEquals(0, shards.exit(), shards.err());
      assertTrue(shards.out().lines().anyMatch(l -> l.matches("Campaign\\s+" + java.util.regex.Pattern.quote(self)
          + "\\s+\\d+\\s+[1-9]\\d*")), shards.out());
      assertTrue(shards.out().lines().anyMatch(l -> l.matches("Advertiser\\s+" + java.util.regex.Pattern.quote(self)
          + "\\s+\\d+\\s+[1-9]\\d*")), shards.out());
    });
    JsonNode shards = json("cluster", "shards");
    assertEquals("Campaign", shards.get("entity_types").get(0).get("entity_type").asText());
    assertEquals(self, shards.get("entity_types").get(0).get("regions").get(0).get("address").asText());

    // health: /ready and /alive through the management endpoint, and each check
    Run health = adsctl("health");
    assertEquals(0, health.exit(), health.err());
    assertTrue(health.out().lines().anyMatch(l -> l.matches("127\\.0\\.0\\.1:" + node.managementPort()
        + "\\s+yes\\s+yes\\s+-")), health.out());
    assertTrue(health.out().lines().anyMatch(l -> l.matches("  cassandra\\s+ok\\s+answered.*")), health.out());
    JsonNode h = json("health");
    assertTrue(h.get("nodes").get(0).get("ready").asBoolean());
    assertTrue(h.get("nodes").get(0).get("alive").asBoolean());
    assertEquals(3, h.get("checks").size());

    // a management endpoint that is not there: not ready, exit 1, one line on stderr
    Run nobody = adsctl("--timeout", "2", "health", "--node", "127.0.0.1:1");
    assertEquals(1, nobody.exit());
    assertEquals("adsctl: UNAVAILABLE: 127.0.0.1:1 not alive", nobody.err().strip());
    Run leaveNobody = adsctl("cluster", "leave", "127.0.0.1:1");
    assertEquals(1, leaveNobody.exit());
    assertTrue(leaveNobody.err().startsWith("adsctl: NOT_FOUND: no member 127.0.0.1:1 (members: " + self + ")"),
        leaveNobody.err());
    Run badMgmt = run("--target", "127.0.0.1:" + node.grpcPort(), "--mgmt", "nohostport", "health");
    assertEquals(2, badMgmt.exit());
    assertTrue(badMgmt.err().startsWith("adsctl: --mgmt must be HOST:PORT, got nohostport"), badMgmt.err());
  }

  @Test
  void shouldReportBurnRatesAndFiringAlertsWhenTheNodeServedTrafficWithFailures() throws Exception {
    // given 60 answered bids, 4 requests the client got wrong (not counted), and 6 failures the bid
    // path would answer UNAVAILABLE (recorded as the handler records its replies)
    List<CompletableFuture<?>> calls = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      calls.add(api.auction().bid(bid("slo-" + i, "paris", Device.DESKTOP, 3).build()).toCompletableFuture());
    }
    for (int i = 0; i < 4; i++) {
      calls.add(api.auction().bid(bid("slo-bad-" + i, "paris", Device.DESKTOP, 0).build()).toCompletableFuture()
          .handle((r, e) -> e));
    }
    CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(30, java.util.concurrent.TimeUnit.SECONDS);
    for (int i = 0; i < 6; i++) {
      node.slo().record(Status.Code.UNAVAILABLE, 1_000_000);
    }

    // then GetSlo (after the next publication) counts 66 requests with 6 bad, the 4 excluded
    JsonNode slo = awaitValue(Duration.ofSeconds(20), () -> {
      JsonNode j = json("slo");
      assertEquals(66, j.get("slis").get(0).get("windows").get(0).get("total").asLong(), j.toString());
      return j;
    });
    JsonNode availability = slo.get("slis").get(0);
    assertEquals("availability", availability.get("name").asText());
    assertEquals(0.999, availability.get("objective").asDouble());
    JsonNode m5 = availability.get("windows").get(0);
    assertEquals("5m", m5.get("window").asText());
    assertEquals(6, m5.get("bad").asLong());
    assertEquals(4, m5.get("excluded").asLong());
    assertEquals(6.0 / 66, m5.get("error_ratio").asDouble(), 1e-12);
    assertEquals(6.0 / 66 / 0.001, m5.get("burn_rate").asDouble(), 1e-6);
    // the node started moments ago: its data covers part of 5m and almost nothing of 3d
    assertTrue(m5.get("coverage").asDouble() > 0 && m5.get("coverage").asDouble() <= 1, m5.toString());
    assertTrue(availability.get("windows").get(4).get("coverage").asDouble() < 0.01, "3d");
    JsonNode latency = slo.get("slis").get(1);
    assertEquals(100, latency.get("latency_threshold_ms").asLong());
    assertTrue(latency.get("windows").get(0).get("bad").asLong() >= 6);
    assertEquals(List.of(node.nodeId()), List.of(slo.get("nodes").get(0).asText()));
    JsonNode page = slo.get("alerts").get(0);
    assertEquals("availability", page.get("sli").asText());
    assertEquals("page", page.get("severity").asText());
    assertTrue(page.get("firing").asBoolean(), page.toString());

    // and the table shows the same, with the alerts that would fire
    Run table = adsctl("slo");
    assertEquals(0, table.exit(), table.err());
    assertTrue(table.out().startsWith("error budget over 30d; nodes: " + node.nodeId()), table.out());
    assertTrue(table.out().lines().anyMatch(l -> l.matches("availability\\s+99\\.900%\\s+5m\\s+66\\s+6\\s+9\\.0909%\\s+"
        + "90\\.91\\s+\\d+%")), table.out());
    assertTrue(table.out().lines().anyMatch(l -> l.matches("page\\s+availability\\s+>=14\\.4x 1h&5m\\s+90\\.91\\s+"
        + "90\\.91\\s+FIRING")), table.out());
    assertTrue(table.out().strip().endsWith("alert(s) would fire"), table.out());
  }

  @Test
  void shouldPrintUsageWhenAskedForHelpAtAnyLevel() {
    for (String[] args : new String[][] {{"campaign", "--help"}, {"campaign", "list", "--help"},
        {"campaign", "show", "--help"}, {"campaign", "create", "--help"}, {"campaign", "pause", "--help"},
        {"campaign", "resume", "--help"}, {"campaign", "budget", "--help"}, {"cluster", "--help"},
        {"cluster", "status", "--help"}, {"cluster", "members", "--help"}, {"cluster", "shards", "--help"},
        {"cluster", "leave", "--help"}, {"cluster", "down", "--help"}, {"health", "--help"}, {"slo", "--help"}}) {
      Run help = adsctl(args);
      assertEquals(0, help.exit(), String.join(" ", args));
      assertTrue(help.out().startsWith("Usage: adsctl"), help.out());
    }
    Run root = adsctl("--help");
    assertTrue(root.out().contains("--mgmt=HOST:PORT"), root.out());
    Run none = adsctl("cluster");
    assertEquals(2, none.exit());
    assertTrue(none.err().startsWith("adsctl: a subcommand is required (status, members, shards, leave, down)"),
        none.err());
  }
}
