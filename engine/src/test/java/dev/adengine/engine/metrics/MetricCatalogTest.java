package dev.adengine.engine.metrics;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.ClusterStatusRequest;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventAck;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventType;
import dev.adengine.api.v1.GetCampaignRequest;
import dev.adengine.api.v1.NoBid;
import dev.adengine.api.v1.NoBidReason;
import dev.adengine.api.v1.PauseCampaignRequest;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.api.v1.Winner;
import dev.adengine.engine.EngineNode;
import dev.adengine.engine.catalog.CampaignDef;
import dev.adengine.engine.lifecycle.ModelRegistry;
import dev.adengine.engine.lifecycle.ModelTraining;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.persistence.Migrations;
import dev.adengine.persistence.ModelRegistryRepository;
import dev.adengine.persistence.testing.CassandraTestNode;
import io.grpc.Status;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The metric catalog (docs/metrics.md) against a live node: real gRPC traffic (filled and empty
 * answers, debug and not, one invalid request, admin and event calls, a CPM win and a CPC click),
 * then {@code GET /metrics} on the node's management port, parsed as Prometheus text. Every
 * catalog metric must be exported with its type and exactly its labels (plus {@code node}), every
 * exported {@code adengine_*} family must be in the catalog, and the values must be what the
 * traffic implies: counts equal to the requests sent, spend equal to the prices charged, and so on.
 */
class MetricCatalogTest {
  private static final long UNIT = 1_000_000L;
  private static final String DESTINATION = "metricsville";
  private static final Path CATALOG = Path.of("../docs/metrics.md");

  private static String keyspace;
  private static EngineNode node;
  private static ActorSystem<Void> client;
  private static Clients api;
  private static int managementPort;
  private static CtrModel model;

  /** What the test sent and was answered, to compare the metrics with. */
  private static final List<BidResponse> answered = new ArrayList<>();
  private static final Map<String, Integer> adminCalls = new TreeMap<>();
  private static int invalidBids;

  @BeforeAll
  static void start() throws Exception {
    keyspace = CassandraTestNode.uniqueKeyspaceName("metrics");
    model = ModelHolder.load("");
    registerWithReference(model);
    try (ServerSocket s = new ServerSocket(0)) {
      managementPort = s.getLocalPort();
    }
    // The /metrics route comes from cluster-config's management.conf, as on every node.
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("pekko.management.http.port", managementPort);
    overrides.put("adengine.lifecycle.drift.min-rows", 1);
    node = startNode(keyspace, overrides);
    client = clientSystem("metrics-client");
    api = Clients.of(client, node.grpcPort());
  }

  /**
   * Registers and activates the bundled model with a reference distribution, so that the node
   * monitors its drift (PSI): fitted on arbitrary rows, which is all a PSI gauge needs to exist.
   */
  private static void registerWithReference(CtrModel m) throws Exception {
    try (CqlSession session = CassandraTestNode.connect()) {
      Migrations.apply(session, keyspace, 1);
      Random random = new Random(7);
      double[][] rows = new double[500][FeatureExtractor.SIZE];
      for (double[] row : rows) {
        for (int j = 0; j < row.length; j++) {
          row[j] = random.nextDouble();
        }
      }
      byte[] reference = ModelTraining.reference(m, rows, rows.length).toBytes();
      ModelRegistryRepository repo = new ModelRegistryRepository(session, keyspace);
      await(repo.register(new ModelRegistryRepository.ModelVersion(m.version(), Instant.now(), "metric-catalog-test",
          null, null, "test", m.schemaHash(), 0, 0, 0, 0, 0, 0, 0, 0, Map.of(), Map.of(), reference,
          ModelRegistry.bytes(m))));
      await(repo.activate(ModelRegistryRepository.DEFAULT_SCOPE, m.version(), ModelRegistry.ACTIVATE, "test",
          "metric catalog test", Instant.now()));
    }
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
    if (client != null) {
      client.terminate();
    }
    dev.adengine.engine.testing.EngineTestSupport.stop(node);
    if (keyspace != null) {
      dropKeyspace(keyspace);
    }
  }

  @Test
  void shouldExportEveryCatalogMetricWithValuesThatMatchTheTrafficWhenANodeServed() throws Exception {
    // given campaigns in one destination: a CPM campaign that outranks four CPC ones, a paused one
    // and one for mobile only (the requests are for desktops)
    admin("UpsertAdvertiser", () -> api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
        .setAdvertiser(advertiser("adv-m", 1_000_000 * UNIT)).build()));
    upsert(campaign("c-cpm", "adv-m", Pricing.CPM, 200 * UNIT, 10_000 * UNIT, "ad-cpm"));
    for (int i = 0; i < 4; i++) {
      upsert(campaign("c-cpc-" + i, "adv-m", Pricing.CPC, (2 + i) * UNIT / 2, 10_000 * UNIT, "ad-cpc-" + i));
    }
    upsert(campaign("c-paused", "adv-m", Pricing.CPC, 3 * UNIT, 10_000 * UNIT, "ad-paused"));
    admin("PauseCampaign", () -> api.admin().pauseCampaign(PauseCampaignRequest.newBuilder()
        .setCampaignId("c-paused").build()));
    upsert(campaign("c-mobile", "adv-m", Pricing.CPC, 3 * UNIT, 10_000 * UNIT, "ad-mobile")
        .addDevices(Device.MOBILE));
    // and the node serving them all (debug requests, each counted with its answer)
    awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(100), () -> {
      BidResponse r = bid("rq-warm-" + System.nanoTime(), true);
      assertEquals(5, r.getCandidates(), "candidates");
      assertEquals(3, r.getWinnersCount(), "winners");
      assertEquals("c-cpm", r.getWinners(0).getCampaignId(), "the CPM campaign ranks first");
      assertEquals(NoBidReason.CAMPAIGN_PAUSED, reason(r, "c-paused"));
      assertEquals(NoBidReason.TARGETING_DEVICE, reason(r, "c-mobile"));
    });
    assertEquals(model.version(), answered.get(answered.size() - 1).getModelVersion(), "the registered model serves");

    // when it serves requests without and with debug, an empty answer (a destination nobody
    // targets), and one invalid request
    for (int i = 0; i < 20; i++) {
      bid("rq-" + i, i % 4 == 0);
    }
    BidResponse empty = bid(bidRequest("rq-empty", "nowhere", false));
    assertEquals(0, empty.getWinnersCount());
    try {
      await(api.auction().bid(bidRequest("", DESTINATION, false)));
      fail("a request without request_id is invalid");
    } catch (RuntimeException e) {
      assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(e).getCode());
      invalidBids++;
    }
    // and a CPC winner is clicked
    BidResponse clicked = bid("rq-click", false);
    Winner cpc = clicked.getWinnersList().stream().filter(w -> w.getPricing() == Pricing.CPC).findFirst()
        .orElseThrow();
    long now = System.currentTimeMillis();
    EventAck ack = await(api.events().report(EventBatch.newBuilder()
        .addEvents(event("ev-click", "rq-click", cpc, EventType.CLICK, now)).build()));
    assertEquals(1, ack.getAccepted());
    // and admin calls answer OK and NOT_FOUND
    admin("ClusterStatus", () -> api.admin().clusterStatus(ClusterStatusRequest.getDefaultInstance()));
    try {
      await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-none").build()));
      fail("unknown campaign");
    } catch (RuntimeException e) {
      assertEquals(Status.Code.NOT_FOUND, Status.fromThrowable(e).getCode());
    }

    // then the scrape matches the catalog, and the values match the traffic (once Kamon's tick and
    // the sampler have seen all of it)
    Map<String, Catalogued> catalog = catalog();
    assertFalse(catalog.isEmpty(), "catalog rows parsed from " + CATALOG);
    String nodeId = node.nodeId();
    awaitAssert(Duration.ofSeconds(45), Duration.ofMillis(500), () -> {
      Scrape scrape = scrape();
      checkCatalog(catalog, scrape, nodeId);
      checkValues(scrape, nodeId, cpc.getPriceMicros());
    });
  }

  // ---- what must hold ----

  private static void checkCatalog(Map<String, Catalogued> catalog, Scrape scrape, String nodeId) {
    for (Catalogued c : catalog.values()) {
      assertEquals(c.type(), scrape.types().get(c.name()), "# TYPE of " + c.name());
      List<Sample> samples = scrape.family(c.name(), nodeId);
      assertFalse(samples.isEmpty(), "samples of " + c.name() + " for node " + nodeId);
      Set<String> expected = new TreeSet<>(c.labels());
      expected.add("node");
      for (Sample s : samples) {
        Set<String> labels = new TreeSet<>(s.labels().keySet());
        labels.remove("le");
        assertEquals(expected, labels, "labels of " + s.name());
      }
    }
    for (String family : scrape.types().keySet()) {
      if (family.startsWith("adengine_")) {
        assertTrue(catalog.containsKey(family), "exported but not in the catalog: " + family);
      }
    }
    // (the instrumentation agent's executor_* and pekko_* families are checked on a node in its own
    // JVM, SingleNodeProcessTest: in this one, Pekko's classes may load before Kamon attaches)
  }

  private static void checkValues(Scrape scrape, String nodeId, long clickedPrice) {
    Map<String, String> node = Map.of("node", nodeId);
    long ok = answered.size();
    long filled = answered.stream().filter(r -> r.getWinnersCount() > 0).count();

    // bid latency: one observation per Bid call, by outcome; the buckets include the SLO's 0.1 s
    assertEquals(ok + invalidBids, scrape.sum("adengine_bid_latency_seconds_count", node), "Bid calls timed");
    assertEquals(filled, scrape.sum("adengine_bid_latency_seconds_count", with(node, "outcome", "filled")), "filled");
    assertEquals(ok - filled, scrape.sum("adengine_bid_latency_seconds_count", with(node, "outcome", "empty")),
        "empty");
    assertEquals(invalidBids, scrape.sum("adengine_bid_latency_seconds_count",
        with(with(node, "outcome", "invalid"), "placement", "SEARCH_RESULTS")), "invalid");
    assertEquals(0, scrape.sum("adengine_bid_latency_seconds_count", with(node, "outcome", "error")), "errors");
    assertEquals(ok + invalidBids, scrape.sum("adengine_bid_latency_seconds_bucket",
        with(with(node, "le", "+Inf"), "outcome", null)), "+Inf buckets");
    assertTrue(scrape.sum("adengine_bid_latency_seconds_bucket", with(node, "le", "0.1")) > 0,
        "0.1 s is a bucket boundary, and local answers are faster");

    // gRPC responses by service, method and code
    Map<String, String> bid = with(with(node, "service", "AuctionService"), "method", "Bid");
    assertEquals(ok, scrape.sum("adengine_grpc_responses_total", with(bid, "code", "OK")), "Bid OK");
    assertEquals(invalidBids, scrape.sum("adengine_grpc_responses_total", with(bid, "code", "INVALID_ARGUMENT")),
        "Bid INVALID_ARGUMENT");
    Map<String, String> admin = with(node, "service", "AdminService");
    adminCalls.forEach((method, n) -> assertEquals((double) n, scrape.sum("adengine_grpc_responses_total",
        with(with(admin, "method", method), "code", "OK")), "AdminService/" + method + " OK"));
    assertEquals(1, scrape.sum("adengine_grpc_responses_total", with(with(admin, "method", "GetCampaign"), "code",
        "NOT_FOUND")), "GetCampaign NOT_FOUND");
    assertEquals(1, scrape.sum("adengine_grpc_responses_total", with(with(with(node, "service", "EventService"),
        "method", "Report"), "code", "OK")), "Report OK");

    // no-bid reasons: a debug answer lists what was counted; without debug, the index's campaigns
    // (the paused one, left out) and the auction's losers
    Map<NoBidReason, Long> noBids = new EnumMap<>(NoBidReason.class);
    for (BidResponse r : answered) {
      if (r.getNoBidsCount() > 0 || r.getRequestId().startsWith("rq-warm-") || isDebug(r)) {
        for (NoBid n : r.getNoBidsList()) {
          noBids.merge(n.getReason(), 1L, Long::sum);
        }
      } else if (!r.getRequestId().equals("rq-empty")) {
        noBids.merge(NoBidReason.CAMPAIGN_PAUSED, 1L, Long::sum);
        noBids.merge(NoBidReason.OUTBID, (long) (r.getCandidates() - r.getWinnersCount()), Long::sum);
      }
    }
    for (NoBidReason reason : NoBidReason.values()) {
      if (reason != NoBidReason.UNRECOGNIZED) {
        assertEquals(noBids.getOrDefault(reason, 0L), (long) scrape.sum("adengine_bid_no_bids_total",
            with(node, "reason", reason.name())), "no-bids " + reason);
      }
    }
    long partial = answered.stream().filter(BidResponse::getPartial).count();
    assertEquals(partial, scrape.sum("adengine_bid_partial_total", node), "partial answers");

    // budget: CPM wins are spend at once (price per thousand, rounded up), the click's CPC price once
    // its charge is stored; the other CPC wins stay reserved
    long cpmSpend = 0;
    long cpcReserved = 0;
    for (BidResponse r : answered) {
      for (Winner w : r.getWinnersList()) {
        if (w.getPricing() == Pricing.CPM) {
          cpmSpend += CampaignDef.maxCharge(Pricing.CPM, w.getPriceMicros());
        } else {
          cpcReserved += w.getPriceMicros();
        }
      }
    }
    assertTrue(cpmSpend > 0, "CPM wins");
    assertEquals(cpmSpend, scrape.sum("adengine_spend_micros_total", with(node, "pricing", "CPM")), "CPM spend");
    assertEquals(clickedPrice, scrape.sum("adengine_spend_micros_total", with(node, "pricing", "CPC")), "CPC spend");
    assertEquals(cpcReserved - clickedPrice, scrape.sum("adengine_budget_reserved_micros", node), "reserved");
    assertTrue(scrape.sum("adengine_budget_allowance_micros", node) >= cpmSpend + cpcReserved, "allowance held");
    assertEquals(6, scrape.sum("adengine_budget_campaigns_with_allowance", node),
        "campaigns with allowance (all but the paused one)");

    // models: every candidate that entered an auction was logged with its pCTR (in ppm), and the
    // registered model's drift is monitored
    long candidates = answered.stream().mapToLong(BidResponse::getCandidates).sum();
    Map<String, String> live = with(with(node, "model", model.version()), "role", "live");
    assertEquals(candidates, scrape.sum("adengine_model_pctr_count", live), "pCTRs recorded");
    double meanPpm = scrape.sum("adengine_model_pctr_sum", live) / candidates;
    assertTrue(meanPpm > 100 && meanPpm < 1_000_000, "mean pCTR in ppm: " + meanPpm);
    List<Sample> psi = scrape.family("adengine_model_psi", nodeId);
    assertTrue(psi.stream().anyMatch(s -> s.labels().get("feature").equals("score")
        && s.labels().get("model").equals(model.version()) && Double.isFinite(s.value()) && s.value() >= 0),
        "PSI of the score: " + psi);
    assertTrue(psi.size() > 1, "PSI of features: " + psi);
    double age = scrape.sum("adengine_feature_snapshot_age_seconds", node);
    assertTrue(age >= 0 && age < 10, "oldest snapshot age " + age);
    assertEquals(0, scrape.sum("adengine_feature_snapshots_stale", node), "stale snapshots");

    // experiments and the feature log: every answered request was in the default arm and logged
    assertEquals(ok, scrape.sum("adengine_experiment_requests_total",
        with(with(node, "experiment", "default"), "arm", "control")), "default arm's requests");
    assertEquals(ok, scrape.sum("adengine_featurelog_records_total", with(node, "result", "written")),
        "feature-log records written");
    assertEquals(0, scrape.sum("adengine_featurelog_records_total", with(node, "result", "dropped")), "dropped");

    assertEquals(1, scrape.sum("adengine_node_ready", node), "ready");
  }

  private static boolean isDebug(BidResponse r) {
    String id = r.getRequestId();
    if (!id.startsWith("rq-") || id.equals("rq-click") || id.equals("rq-empty")) {
      return false;
    }
    try {
      return Integer.parseInt(id.substring(3)) % 4 == 0;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  // ---- traffic ----

  private static BidRequest bidRequest(String requestId, String destination, boolean debug) {
    return dev.adengine.engine.testing.EngineTestSupport.bid(requestId, destination, Device.DESKTOP, 3)
        .setDebug(debug).build();
  }

  private static BidResponse bid(String requestId, boolean debug) {
    return bid(bidRequest(requestId, DESTINATION, debug));
  }

  private static BidResponse bid(BidRequest request) {
    BidResponse r = await(api.auction().bid(request));
    answered.add(r);
    return r;
  }

  private static void upsert(dev.adengine.api.v1.Campaign.Builder c) {
    admin("UpsertCampaign", () -> api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
        .setCampaign(c.addDestinations(DESTINATION)).build()));
  }

  private static void admin(String method, java.util.function.Supplier<java.util.concurrent.CompletionStage<?>> call) {
    await(call.get());
    adminCalls.merge(method, 1, Integer::sum);
  }

  private static Event event(String id, String requestId, Winner w, EventType type, long timeMs) {
    return Event.newBuilder().setEventId(id).setRequestId(requestId).setAdId(w.getAdId())
        .setCampaignId(w.getCampaignId()).setType(type).setTimeMs(timeMs).build();
  }

  private static NoBidReason reason(BidResponse r, String campaignId) {
    return r.getNoBidsList().stream().filter(n -> n.getCampaignId().equals(campaignId)).map(NoBid::getReason)
        .findFirst().orElse(null);
  }

  // ---- the catalog and the scrape ----

  /** One row of the catalog: the exported name, its Prometheus type, its labels (without node). */
  record Catalogued(String name, String type, List<String> labels) {}

  private static final Pattern ROW = Pattern.compile("^\\|\\s*`(\\w+)`\\s*\\|\\s*(\\w+)\\s*\\|([^|]*)\\|");
  private static final Pattern NAME = Pattern.compile("`(\\w+)`");

  static Map<String, Catalogued> catalog() throws Exception {
    Map<String, Catalogued> rows = new LinkedHashMap<>();
    for (String line : Files.readAllLines(CATALOG)) {
      Matcher m = ROW.matcher(line);
      if (m.find() && m.group(1).startsWith("adengine_")) {
        List<String> labels = new ArrayList<>();
        Matcher l = NAME.matcher(m.group(3));
        while (l.find()) {
          labels.add(l.group(1));
        }
        assertNull(rows.put(m.group(1), new Catalogued(m.group(1), m.group(2), labels)), "listed twice: "
            + m.group(1));
      }
    }
    return rows;
  }

  record Sample(String name, Map<String, String> labels, double value) {}

  /** A parsed scrape: each family's {@code # TYPE}, and every sample. */
  record Scrape(Map<String, String> types, List<Sample> samples) {
    /** The samples of a family (its _bucket, _count, _sum for a histogram) of one node. */
    List<Sample> family(String family, String nodeId) {
      String type = types.get(family);
      List<Sample> out = new ArrayList<>();
      for (Sample s : samples) {
        boolean member = s.name().equals(family) || "histogram".equals(type)
            && (s.name().equals(family + "_bucket") || s.name().equals(family + "_count")
            || s.name().equals(family + "_sum"));
        if (member && nodeId.equals(s.labels().get("node"))) {
          out.add(s);
        }
      }
      return out;
    }

    /** The sum of the samples named {@code name} whose labels include {@code match} (a null value: any). */
    double sum(String name, Map<String, String> match) {
      double total = 0;
      for (Sample s : samples) {
        if (s.name().equals(name) && matches(s, match)) {
          total += s.value();
        }
      }
      return total;
    }

    private static boolean matches(Sample s, Map<String, String> match) {
      for (Map.Entry<String, String> e : match.entrySet()) {
        if (e.getValue() != null && !e.getValue().equals(s.labels().get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
  }

  private static Map<String, String> with(Map<String, String> labels, String key, String value) {
    Map<String, String> out = new HashMap<>(labels);
    out.put(key, value);
    return out;
  }

  private static final Pattern TYPE = Pattern.compile("^# TYPE (\\S+) (\\S+)$");
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)( \\S+)?$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

  static Scrape scrape() {
    try {
      HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + managementPort + "/metrics")).timeout(Duration.ofSeconds(10)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, response.statusCode());
      String contentType = response.headers().firstValue("Content-Type").orElse("");
      assertTrue(contentType.startsWith("text/plain") && contentType.contains("version=0.0.4"),
          "content type " + contentType);
      return parse(response.body());
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static Scrape parse(String text) {
    Map<String, String> types = new HashMap<>();
    List<Sample> samples = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      Matcher t = TYPE.matcher(line);
      if (t.matches()) {
        types.put(t.group(1), t.group(2));
        continue;
      }
      if (line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertTrue(m.matches(), "not a Prometheus sample line: " + line);
      Map<String, String> labels = new HashMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\n", "\n").replace("\\\\", "\\"));
        }
      }
      samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(4).replace("+Inf", "Infinity"))));
    }
    return new Scrape(types, samples);
  }
}
