package dev.adengine.chaos;

import static dev.adengine.engine.testing.EngineTestSupport.await;
import static dev.adengine.engine.testing.EngineTestSupport.awaitAssert;
import static dev.adengine.engine.testing.EngineTestSupport.awaitValue;
import static dev.adengine.engine.testing.EngineTestSupport.campaign;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.AdvertiserView;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.ClusterStatusRequest;
import dev.adengine.api.v1.EventType;
import dev.adengine.api.v1.GetAdvertiserRequest;
import dev.adengine.api.v1.GetCampaignRequest;
import dev.adengine.api.v1.Pacing;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.chaos.harness.BillingTraffic.Outcome;
import dev.adengine.chaos.harness.BillingTraffic.Report;
import dev.adengine.chaos.harness.BillingTraffic.Sent;
import dev.adengine.chaos.harness.BillingTraffic.Win;
import dev.adengine.chaos.NodeCluster.Node;
import dev.adengine.chaos.harness.BillingTraffic;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.persistence.CassandraSettings;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.function.Executable;

/**
 * Budgets and exactly-once billing on a three-node cluster of engine processes with real
 * Cassandra: thousands of concurrent wins and clicks at twelve ASAP CPC campaigns with small
 * budgets and two capped advertisers, events duplicated and sent to any node, one node killed
 * (SIGKILL) a third of the way in and a new one joining two thirds of the way in.
 *
 * <p>The run happens once, in {@link #runTraffic()}; each test checks one promise against the
 * publisher's own books ({@link BillingTraffic}), the admin API and the Cassandra tables ({@code
 * events}, {@code charges}). The last test restarts the whole cluster.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ThreeNodeBudgetTest {
  private static final long UNIT = 1_000_000L;
  private static final Map<String, String> MONEY_TIMINGS = Map.of(
      "ADENGINE_LEASE", "2s",
      // Longer than the cluster takes to down a killed node (failure detection + 7 s of SBR
      // stable-after, set below): clicks on a dead node's ads are accepted only once it is no longer
      // a member, and some must be, inside their window. Not longer: an unclicked CPC win's
      // reservation is held for the window, tying up more of this market's small budgets; with 30 s
      // and the default 12 s stable-after one CI run never had 5 clicks due on the node to kill
      // within 10 s, and failed before its kill (two other runs passed).
      "ADENGINE_CLICK_WINDOW", "20s",
      "ADENGINE_SBR_STABLE_AFTER", "7s",
      "ADENGINE_CLICK_GRACE", "1s",
      "ADENGINE_SETTLE_INTERVAL", "1s",
      // Spend reported every second (the default is 5 s): the test samples every campaign's spend
      // through the admin API every 2 s while traffic runs.
      "ADENGINE_REPORT_INTERVAL", "1s",
      // Money, not ranking speed, is under test: the nodes rank on the scalar stage 2, so that three
      // node processes building the compiled one at once (javac and its JIT warm-up) do not starve a
      // 2-core CI machine for minutes (a run at f124b0b timed out waiting for them to be ready).
      "ADENGINE_VECTOR_STAGE2", "off");
  private static final long CLICK_WINDOW_MS = 20_000;
  private static final List<String> DESTINATIONS = List.of("lisbon", "porto");
  private static final int BIDS_PER_SECOND = 12;
  private static final double CLICK_PROBABILITY = 0.35;
  private static final double RESEND_PROBABILITY = 0.10;
  private static final Duration RUN = Duration.ofSeconds(72);
  private static final Duration KILL_AT = Duration.ofSeconds(24);
  private static final Duration REPLACE_AT = Duration.ofSeconds(44);
  /** A served record is written to Cassandra after the bid reply: a node killed this soon after may lose it. */
  private static final long SERVED_WRITE_SLACK_MS = 2_000;
  private static final String DEAD = "node-3";

  private String keyspace;
  private ActorSystem<Void> client;
  private NodeCluster cluster;
  private CqlSession cql;
  private BillingTraffic traffic;
  private final Map<String, Campaign> campaigns = new LinkedHashMap<>();
  private final Map<String, Advertiser> advertisers = new LinkedHashMap<>();
  private final Map<String, Long> maxCommittedSeen = new ConcurrentHashMap<>();
  private final Map<String, Long> maxGrantedSeen = new ConcurrentHashMap<>();
  private long killedAtMs;
  private long trafficEndMs;
  private Map<String, StoredEvent> stored;

  /** A row of the {@code events} table. */
  record StoredEvent(String eventId, String requestId, String adId, String campaignId, String type,
      long chargedMicros, String node) {}

  /** A row of the {@code charges} table. */
  record Charge(String campaignId, String day, String node, String chargeId, long amountMicros, String kind) {}

  @BeforeAll
  void runTraffic() throws Exception {
    CassandraSettings cassandra = CassandraTestNode.ensureRunning();
    keyspace = CassandraTestNode.uniqueKeyspaceName("three");
    System.out.println("keyspace " + keyspace);
    client = EngineTestSupport.clientSystem("three-node-client");
    cluster = new NodeCluster(keyspace, cassandra, MONEY_TIMINGS, NodeProcess.logDir("three-node-budget"), client);
    cql = CassandraTestNode.connect();

    // given three node processes in one cluster, and a market of small budgets that compete
    List<Node> nodes = cluster.startJoined(List.of("node-1", "node-2", DEAD), null, 3);
    Node first = nodes.get(0);
    createMarket(first);
    for (Node n : nodes) {
      awaitAssert(Duration.ofSeconds(30), () -> assertEquals(campaigns.size(),
          await(n.api().admin().clusterStatus(ClusterStatusRequest.getDefaultInstance())).getReplicaCampaigns()));
    }

    // when a publisher bids, reports impressions and clicks at any node, and duplicates some
    traffic = new BillingTraffic(cluster::live, DESTINATIONS, BIDS_PER_SECOND, CLICK_PROBABILITY, RESEND_PROBABILITY);
    traffic.every(Duration.ofSeconds(2), this::sampleBudgets);
    long start = System.currentTimeMillis();
    traffic.start();
    // and node 3 dies a third of the way in, with clicks on its ads still to come, and the
    // publisher notices a second later
    letTrafficRunUntil(start + KILL_AT.toMillis());
    awaitAssert(Duration.ofSeconds(10), () -> assertTrue(traffic.clicksDue(DEAD) >= 5, "clicks due"));
    killedAtMs = System.currentTimeMillis();
    System.out.println("killing " + DEAD + " at +" + (killedAtMs - start) + " ms with " + traffic.clicksDue(DEAD)
        + " clicks on its ads due");
    cluster.kill(nodes.get(2), Duration.ofSeconds(1));
    // and a new node 3 joins two thirds of the way in
    letTrafficRunUntil(start + REPLACE_AT.toMillis());
    cluster.startJoined(List.of("node-3b"), cluster.seedOf(first), 3);
    System.out.println("node-3b live at +" + (System.currentTimeMillis() - start) + " ms");
    letTrafficRunUntil(start + RUN.toMillis());
    trafficEndMs = System.currentTimeMillis();
    traffic.stop(Duration.ofSeconds(30));
    stored = readEvents();
    printSummary();
  }

  @AfterAll
  void stopEverything() {
    try {
      if (cluster != null) {
        cluster.close();
      }
    } finally {
      if (cql != null) {
        cql.close();
      }
      if (client != null) {
        client.terminate();
      }
    }
  }

  @Test
  @Order(1)
  void shouldHaveExercisedExhaustionCrossNodeClicksTheDeadNodeAndDuplicatesWhenTrafficStops() {
    // then the run did what it claims: enough winners and clicks, an exhausted campaign, clicks
    // accepted away from their serving node and after it died, and duplicates
    Map<String, CampaignView> views = views();
    List<String> exhausted = exhausted(views);
    assertAll(
        () -> assertTrue(traffic.wins.size() >= 1000, "winners " + traffic.wins.size()),
        () -> assertTrue(acceptedClicks().size() >= 200, "accepted clicks " + acceptedClicks().size()),
        () -> assertTrue(!exhausted.isEmpty(), "no campaign exhausted its budget"),
        () -> assertTrue(crossNodeClicks() > 0, "no click accepted on a node other than the one that served it"),
        () -> assertTrue(deadNodeClicksAcceptedAfterDeath() > 0,
            "no click for an ad " + DEAD + " served was accepted after it died"),
        () -> assertTrue(count(Outcome.DUPLICATE) >= 50, "duplicates " + count(Outcome.DUPLICATE)));
  }

  @Test
  @Order(2)
  void shouldAcceptEveryEventIdAtMostOnceWhenEventsAreDuplicatedAcrossNodes() {
    // then no event id was accepted twice, whatever node each copy reached
    Map<String, Long> acceptedTwice = new TreeMap<>();
    List<String> resentNotOnce = new ArrayList<>();
    List<String> duplicateOfNothing = new ArrayList<>();
    long acceptedReports = 0;
    for (var e : traffic.reports.entrySet()) {
      Collection<Report> rs = e.getValue();
      long accepted = rs.stream().filter(r -> r.outcome() == Outcome.ACCEPTED).count();
      long duplicate = rs.stream().filter(r -> r.outcome() == Outcome.DUPLICATE).count();
      acceptedReports += accepted;
      if (accepted > 1) {
        acceptedTwice.put(e.getKey(), accepted);
      }
      // a duplicate is of an event accepted before: by a report here, or one whose ack was lost
      if (duplicate > 0 && accepted == 0 && rs.stream().noneMatch(ThreeNodeBudgetTest::unknown)) {
        duplicateOfNothing.add(e.getKey() + " " + rs);
      }
      // every copy of a resent event was answered: exactly one accepted, the rest duplicates
      if (traffic.resent.contains(e.getKey()) && rs.stream().noneMatch(r -> r.outcome() == Outcome.FAILED
          || r.outcome() == Outcome.REJECTED) && (accepted != 1 || duplicate != rs.size() - 1)) {
        resentNotOnce.add(e.getKey() + " " + rs);
      }
    }
    long distinctAccepted = acceptedIds().size();
    long finalAccepted = acceptedReports;
    assertAll(
        () -> assertEquals(Map.of(), acceptedTwice, "event ids accepted more than once"),
        () -> assertEquals(distinctAccepted, finalAccepted, "accepted reports vs distinct accepted ids"),
        () -> assertEquals(List.of(), first(resentNotOnce), resentNotOnce.size() + " resent events not accepted once"),
        () -> assertEquals(List.of(), first(duplicateOfNothing),
            duplicateOfNothing.size() + " duplicates of events never accepted"));
  }

  @Test
  @Order(3)
  void shouldAcceptEveryValidEventWhenItArrivesAtANodeThatDidNotServeItOrAfterItsNodeDied() {
    // then every event was accepted (or recognised as a duplicate) somewhere, except those the
    // engine could not know of: ads served by the dead node just before it died (their served
    // record may not have been written), clicks that a retry delivered after their window
    List<String> lost = new ArrayList<>();
    Map<String, Long> excused = new TreeMap<>();
    for (Sent s : traffic.events.values()) {
      String id = s.event().getEventId();
      Collection<Report> rs = traffic.reports.getOrDefault(id, new java.util.concurrent.ConcurrentLinkedQueue<>());
      if (rs.stream().anyMatch(r -> r.outcome() == Outcome.ACCEPTED || r.outcome() == Outcome.DUPLICATE)) {
        continue;
      }
      String excuse = excuse(s, rs);
      if (excuse != null) {
        excused.merge(excuse, 1L, Long::sum);
      } else {
        lost.add(id + " served by " + s.win().servedBy() + " at " + (s.win().atMs() - killedAtMs) + " ms from the kill, "
            + servedRecord(s.win()) + ": " + rs);
      }
    }
    System.out.println("events neither accepted nor duplicate, excused: " + excused);
    assertEquals(List.of(), first(lost), lost.size() + " events neither accepted nor duplicate");
  }

  @Test
  @Order(4)
  void shouldHoldBooksEqualToTheDurableChargesWhenTheDeadNodeIsSettled() {
    // then, once the dead node's grant is settled and the live nodes have reported, every
    // campaign's spend is what the events and the charge log say it was charged, and nothing
    // stays reserved
    boolean chargesTable = chargesTableExists();
    Map<String, Long> eventsCharged = chargedByCampaign(stored.values());
    long from = System.currentTimeMillis();
    EngineTestSupport.awaitAssert(Duration.ofSeconds(60), Duration.ofSeconds(1), () -> {
      Map<String, CampaignView> views = views();
      Map<String, Long> chargesSum = chargesTable ? sumByCampaign(charges()) : Map.of();
      List<Executable> checks = new ArrayList<>();
      for (Campaign c : campaigns.values()) {
        CampaignView v = views.get(c.getCampaignId());
        String id = c.getCampaignId();
        checks.add(() -> assertEquals(0, v.getReservedMicros(), id + " reserved"));
        checks.add(() -> assertEquals(eventsCharged.getOrDefault(id, 0L), v.getSpentMicros(),
            id + " spent vs events.charged_micros"));
        if (chargesTable) {
          checks.add(() -> assertEquals(chargesSum.getOrDefault(id, 0L), v.getSpentMicros(),
              id + " spent vs sum of charges"));
        }
      }
      assertAll(checks);
    });
    for (CampaignView v : views().values()) {
      System.out.println("  settled " + v.getCampaign().getCampaignId() + " spent " + v.getSpentMicros() + " allocated "
          + allocated(v) + ": " + v.getAllowancesList().stream()
          .map(a -> a.getNode() + " " + a.getAllowanceMicros() + "/" + a.getSpentMicros() + "/" + a.getReservedMicros())
          .toList());
    }
    System.out.println("books equal the charges " + (System.currentTimeMillis() - trafficEndMs)
        + " ms after the traffic stopped (polled for " + (System.currentTimeMillis() - from) + " ms)");
    assertTrue(chargesTable, "no charges table in " + keyspace);
  }

  @Test
  @Order(5)
  void shouldChargeEveryAcceptedClickExactlyOnceWhenClicksArriveAtAnyNode() {
    // then the events table holds every accepted event once, at the winner's price for clicks
    List<String> wrong = new ArrayList<>();
    for (String id : acceptedIds()) {
      Sent s = traffic.events.get(id);
      StoredEvent e = stored.get(id);
      long price = s.event().getType() == EventType.CLICK ? s.win().priceMicros() : 0;
      if (e == null) {
        wrong.add(id + ": accepted but not stored");
      } else if (!e.type().equals(s.event().getType().name()) || !e.campaignId().equals(s.win().campaignId())
          || !e.requestId().equals(s.win().requestId()) || !e.adId().equals(s.win().adId())) {
        wrong.add(id + ": stored as " + e);
      } else if (e.chargedMicros() != price) {
        wrong.add(id + ": charged_micros " + e.chargedMicros() + ", price " + price);
      }
    }
    for (StoredEvent e : stored.values()) {
      Collection<Report> rs = traffic.reports.get(e.eventId());
      if (rs == null) {
        wrong.add(e.eventId() + ": stored but never reported");
      } else if (rs.stream().noneMatch(r -> r.outcome() == Outcome.ACCEPTED)
          && rs.stream().noneMatch(ThreeNodeBudgetTest::unknown)) {
        wrong.add(e.eventId() + ": stored but never accepted " + rs);
      }
    }
    // and the charge log holds exactly one click charge per stored click, at its price, under the
    // node that served it, and nothing else
    assertAll(
        () -> assertEquals(List.of(), first(wrong), wrong.size() + " events stored wrongly"),
        () -> {
          assertTrue(chargesTableExists(), "no charges table in " + keyspace);
          List<String> badCharges = new ArrayList<>();
          Map<String, List<Charge>> byId = charges().stream().collect(Collectors.groupingBy(Charge::chargeId));
          for (StoredEvent e : stored.values()) {
            if (!e.type().equals("CLICK")) {
              continue;
            }
            Win win = traffic.events.get(e.eventId()).win();
            List<Charge> cs = byId.getOrDefault("click:" + e.eventId(), List.of());
            if (cs.size() != 1) {
              badCharges.add(e.eventId() + ": " + cs.size() + " charge rows " + cs);
            } else if (cs.get(0).amountMicros() != win.priceMicros() || !cs.get(0).campaignId().equals(e.campaignId())
                || !base(cs.get(0).node()).equals(win.servedBy())) {
              badCharges.add(e.eventId() + ": " + cs.get(0) + " for a win at " + win.priceMicros() + " served by "
                  + win.servedBy());
            }
          }
          for (var c : byId.entrySet()) {
            String eventId = c.getKey().startsWith("click:") ? c.getKey().substring("click:".length()) : null;
            StoredEvent e = eventId == null ? null : stored.get(eventId);
            if (e == null || !e.type().equals("CLICK")) {
              badCharges.add(c.getKey() + ": charged without an accepted click " + c.getValue());
            }
          }
          assertEquals(List.of(), first(badCharges), badCharges.size() + " wrong charges");
        });
  }

  @Test
  @Order(6)
  void shouldNeverSpendBeyondBudgetOrCapWhenANodeDiesMidRun() {
    // then no campaign ever committed more than its budget, nor any advertiser more than its cap
    Map<String, CampaignView> views = views();
    Map<String, Long> eventsCharged = chargedByCampaign(stored.values());
    boolean chargesTable = chargesTableExists();
    Map<String, Long> chargesSum = chargesTable ? sumByCampaign(charges()) : Map.of();
    List<Executable> checks = new ArrayList<>();
    for (Campaign c : campaigns.values()) {
      String id = c.getCampaignId();
      long budget = c.getDailyBudgetMicros();
      CampaignView v = views.get(id);
      checks.add(() -> assertTrue(v.getSpentMicros() + v.getReservedMicros() <= budget,
          id + ": spent " + v.getSpentMicros() + " + reserved " + v.getReservedMicros() + " > budget " + budget));
      checks.add(() -> assertTrue(maxCommittedSeen.getOrDefault(id, 0L) <= budget,
          id + ": during the run spent + reserved reached " + maxCommittedSeen.get(id) + " > budget " + budget));
      checks.add(() -> assertTrue(eventsCharged.getOrDefault(id, 0L) <= budget,
          id + ": events charged " + eventsCharged.get(id) + " > budget " + budget));
      if (chargesTable) {
        checks.add(() -> assertTrue(chargesSum.getOrDefault(id, 0L) <= budget,
            id + ": charges " + chargesSum.get(id) + " > budget " + budget));
      }
    }
    for (Advertiser a : advertisers.values()) {
      String id = a.getAdvertiserId();
      long cap = a.getDailyBudgetMicros();
      List<Campaign> own = campaigns.values().stream().filter(c -> c.getAdvertiserId().equals(id)).toList();
      long committed = own.stream().mapToLong(c -> views.get(c.getCampaignId()).getSpentMicros()
          + views.get(c.getCampaignId()).getReservedMicros()).sum();
      long charged = own.stream().mapToLong(c -> eventsCharged.getOrDefault(c.getCampaignId(), 0L)).sum();
      long logged = own.stream().mapToLong(c -> chargesSum.getOrDefault(c.getCampaignId(), 0L)).sum();
      AdvertiserView v = advertiserView(id);
      checks.add(() -> assertTrue(committed <= cap, id + ": campaigns committed " + committed + " > cap " + cap));
      checks.add(() -> assertTrue(charged <= cap, id + ": events charged " + charged + " > cap " + cap));
      checks.add(() -> assertTrue(logged <= cap, id + ": charges " + logged + " > cap " + cap));
      checks.add(() -> assertTrue(v.getGrantedMicros() <= cap, id + ": granted " + v.getGrantedMicros() + " > cap " + cap));
      checks.add(() -> assertTrue(maxGrantedSeen.getOrDefault(id, 0L) <= cap,
          id + ": during the run granted reached " + maxGrantedSeen.get(id) + " > cap " + cap));
    }
    assertAll(checks);
  }

  @Test
  @Order(7)
  void shouldRecoverSpendExactlyWhenAllNodesRestart() {
    // given the books as they stand
    Map<String, CampaignView> before = views();
    Map<String, AdvertiserView> advertisersBefore = new HashMap<>();
    advertisers.keySet().forEach(id -> advertisersBefore.put(id, advertiserView(id)));
    // when every node stops and three new node processes start on the same keyspace
    cluster.stopLive();
    cluster.startJoined(List.of("node-1r", "node-2r", "node-3r"), null, 3);
    // then every campaign's spend and every advertiser's grants are what they were
    Map<String, CampaignView> after = views();
    List<Executable> checks = new ArrayList<>();
    for (String id : campaigns.keySet()) {
      checks.add(() -> assertEquals(before.get(id).getSpentMicros(), after.get(id).getSpentMicros(), id + " spent"));
      checks.add(() -> assertEquals(before.get(id).getClicks(), after.get(id).getClicks(), id + " clicks"));
    }
    for (String id : advertisers.keySet()) {
      AdvertiserView v = advertiserView(id);
      checks.add(() -> assertEquals(advertisersBefore.get(id).getGrantedMicros(), v.getGrantedMicros(), id + " granted"));
      checks.add(() -> assertEquals(grants(advertisersBefore.get(id)), grants(v), id + " grants"));
    }
    assertAll(checks);
  }

  // ---- the market ----

  /**
   * Twelve CPC campaigns of two advertisers, 15 to 45 clicks' worth of budget each at their bid (more at the second prices they pay),
   * targeting two destinations (some both) so that they compete for three slots; each advertiser
   * capped below the sum of its campaigns' budgets.
   */
  private void createMarket(Node node) {
    int[] clicks = {15, 34, 22, 45, 19, 30, 26, 15, 41, 22, 38, 19};
    Map<String, Long> budgets = new HashMap<>();
    for (int i = 0; i < clicks.length; i++) {
      String adv = i < 6 ? "adv-a" : "adv-b";
      long bid = 300_000 + 45_000L * i;
      String id = String.format("c-%02d", i);
      String[] ads = new String[1 + i % 3];
      for (int k = 0; k < ads.length; k++) {
        ads[k] = "ad-" + id + "-" + k;
      }
      Campaign.Builder c = campaign(id, adv, Pricing.CPC, bid, clicks[i] * bid, ads).setPacing(Pacing.ASAP);
      if (i % 4 == 3) {
        c.addAllDestinations(DESTINATIONS);
      } else {
        c.addDestinations(DESTINATIONS.get(i % 2));
      }
      campaigns.put(id, c.build());
      budgets.merge(adv, clicks[i] * bid, Long::sum);
    }
    advertisers.put("adv-a", EngineTestSupport.advertiser("adv-a", budgets.get("adv-a") * 60 / 100));
    advertisers.put("adv-b", EngineTestSupport.advertiser("adv-b", budgets.get("adv-b") * 85 / 100));
    for (Advertiser a : advertisers.values()) {
      await(node.api().admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder().setAdvertiser(a).build()));
    }
    for (Campaign c : campaigns.values()) {
      await(node.api().admin().upsertCampaign(UpsertCampaignRequest.newBuilder().setCampaign(c).build()));
    }
    System.out.println("advertisers " + advertisers.values().stream()
        .map(a -> a.getAdvertiserId() + " cap " + a.getDailyBudgetMicros() + " of " + budgets.get(a.getAdvertiserId()))
        .toList());
  }

  // ---- reading the books ----

  private Map<String, CampaignView> views() {
    Map<String, CampaignView> views = new LinkedHashMap<>();
    for (String id : campaigns.keySet()) {
      views.put(id, awaitValue(Duration.ofSeconds(30), () -> await(anyLive().api().admin()
          .getCampaign(GetCampaignRequest.newBuilder().setCampaignId(id).build()))));
    }
    return views;
  }

  private AdvertiserView advertiserView(String id) {
    return awaitValue(Duration.ofSeconds(30), () -> await(anyLive().api().admin()
        .getAdvertiser(GetAdvertiserRequest.newBuilder().setAdvertiserId(id).build())));
  }

  private static Map<String, Long> grants(AdvertiserView v) {
    Map<String, Long> m = new TreeMap<>();
    v.getGrantsList().forEach(g -> m.put(g.getCampaignId(), g.getGrantedMicros()));
    return m;
  }

  private Node anyLive() {
    List<Node> live = cluster.live();
    return live.get(ThreadLocalRandom.current().nextInt(live.size()));
  }

  /** During the run: the highest spent + reserved of each campaign and grant of each advertiser seen. */
  private void sampleBudgets() {
    for (String id : campaigns.keySet()) {
      anyLive().api().admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId(id).build())
          .thenAccept(v -> maxCommittedSeen.merge(id, v.getSpentMicros() + v.getReservedMicros(), Math::max));
    }
    for (String id : advertisers.keySet()) {
      anyLive().api().admin().getAdvertiser(GetAdvertiserRequest.newBuilder().setAdvertiserId(id).build())
          .thenAccept(v -> maxGrantedSeen.merge(id, v.getGrantedMicros(), Math::max));
    }
  }

  private Map<String, StoredEvent> readEvents() {
    Map<String, StoredEvent> rows = new HashMap<>();
    for (Row r : cql.execute(SimpleStatement.newInstance("SELECT event_id, request_id, ad_id, campaign_id, type,"
        + " charged_micros, node FROM " + keyspace + ".events").setPageSize(1000).setTimeout(Duration.ofSeconds(30)))) {
      rows.put(r.getString("event_id"), new StoredEvent(r.getString("event_id"), r.getString("request_id"),
          r.getString("ad_id"), r.getString("campaign_id"), r.getString("type"), r.getLong("charged_micros"),
          r.getString("node")));
    }
    return rows;
  }

  /** When the serving node's served record of a win was written, as Cassandra has it now. */
  private String servedRecord(Win win) {
    Row r = cql.execute(SimpleStatement.newInstance("SELECT node, writetime(price_micros) AS written FROM " + keyspace
        + ".served WHERE request_id = ? AND ad_id = ?", win.requestId(), win.adId())).one();
    return r == null ? "no served record" : "served record by " + r.getString("node") + " written at "
        + r.getLong("written") / 1000 + " (" + (r.getLong("written") / 1000 - win.atMs()) + " ms after the win as seen by"
        + " the publisher)";
  }

  private boolean chargesTableExists() {
    cql.refreshSchema();
    return cql.getMetadata().getKeyspace(keyspace).flatMap(k -> k.getTable("charges")).isPresent();
  }

  /** Every charge of every campaign of the test, on each campaign's budget day. */
  private List<Charge> charges() {
    List<Charge> all = new ArrayList<>();
    for (CampaignView v : views().values()) {
      String id = v.getCampaign().getCampaignId();
      for (Row r : cql.execute(SimpleStatement.newInstance("SELECT campaign_id, day, node, charge_id, amount_micros,"
          + " kind FROM " + keyspace + ".charges WHERE campaign_id = ? AND day = ?", id, v.getBudgetDay())
          .setTimeout(Duration.ofSeconds(10)))) {
        all.add(new Charge(r.getString("campaign_id"), r.getString("day"), r.getString("node"),
            r.getString("charge_id"), r.getLong("amount_micros"), r.getString("kind")));
      }
    }
    return all;
  }

  private static Map<String, Long> sumByCampaign(List<Charge> charges) {
    return charges.stream().collect(Collectors.groupingBy(Charge::campaignId, Collectors.summingLong(Charge::amountMicros)));
  }

  private static Map<String, Long> chargedByCampaign(Collection<StoredEvent> events) {
    return events.stream().collect(Collectors.groupingBy(StoredEvent::campaignId,
        Collectors.summingLong(StoredEvent::chargedMicros)));
  }

  // ---- the publisher's books ----

  private List<String> acceptedIds() {
    return traffic.reports.entrySet().stream()
        .filter(e -> e.getValue().stream().anyMatch(r -> r.outcome() == Outcome.ACCEPTED))
        .map(Map.Entry::getKey).toList();
  }

  /** Stored clicks: accepted ones, including those whose ack was lost. */
  private List<StoredEvent> acceptedClicks() {
    return stored.values().stream().filter(e -> e.type().equals("CLICK")).toList();
  }

  /** Stored clicks accepted on another node than the one that served the ad. */
  private long crossNodeClicks() {
    return acceptedClicks().stream()
        .filter(e -> !base(e.node()).equals(traffic.events.get(e.eventId()).win().servedBy())).count();
  }

  /** Clicks for ads the dead node served that a survivor accepted after it died. */
  private long deadNodeClicksAcceptedAfterDeath() {
    return traffic.events.values().stream()
        .filter(s -> s.event().getType() == EventType.CLICK && s.win().servedBy().equals(DEAD))
        .filter(s -> traffic.reports.getOrDefault(s.event().getEventId(), new java.util.concurrent.ConcurrentLinkedQueue<>())
            .stream().anyMatch(r -> r.outcome() == Outcome.ACCEPTED && r.sentMs() > killedAtMs))
        .count();
  }

  /**
   * Campaigns whose money ran out: they stopped winning at least 5 s before the traffic stopped,
   * and what they may spend (their budget, or what their advertiser granted them if less) is
   * allocated to nodes to within one bid, so no node can take another win.
   */
  private List<String> exhausted(Map<String, CampaignView> views) {
    Map<String, Long> advertiserGrants = new HashMap<>();
    advertisers.keySet().forEach(a -> advertiserGrants.putAll(grants(advertiserView(a))));
    return campaigns.values().stream().filter(c -> {
      CampaignView v = views.get(c.getCampaignId());
      long limit = Math.min(c.getDailyBudgetMicros(), advertiserGrants.getOrDefault(c.getCampaignId(), 0L));
      // The engine refused it for its budget during the run, and its whole budget (or its share of
      // the advertiser's cap) was handed out to nodes within one bid. A CPC campaign at its budget
      // still wins now and then afterwards: each unclicked reservation is released when its click
      // window ends, so "stopped winning" is not required.
      return traffic.reportedExhausted.contains(c.getCampaignId()) && allocated(v) + c.getBidMicros() > limit;
    }).map(Campaign::getCampaignId).toList();
  }

  /** Campaigns that cannot afford one more click at their bid: spent + reserved within one bid of the budget. */
  private List<String> spentOut(Map<String, CampaignView> views) {
    return campaigns.values().stream().filter(c -> {
      CampaignView v = views.get(c.getCampaignId());
      return v.getSpentMicros() + v.getReservedMicros() + c.getBidMicros() > c.getDailyBudgetMicros();
    }).map(Campaign::getCampaignId).toList();
  }

  private static long allocated(CampaignView v) {
    return v.getAllowancesList().stream().mapToLong(a -> a.getAllowanceMicros()).sum();
  }

  private long count(Outcome outcome) {
    return traffic.reports.values().stream().flatMap(Collection::stream).filter(r -> r.outcome() == outcome).count();
  }

  /** Why an event that nobody accepted could not have been: null when there is no excuse. */
  private String excuse(Sent s, Collection<Report> rs) {
    for (Report r : rs) {
      if (r.outcome() == Outcome.REJECTED && r.reason().equals("ad not shown for request")
          && s.win().servedBy().equals(DEAD) && s.win().atMs() >= killedAtMs - SERVED_WRITE_SLACK_MS) {
        return "served by " + DEAD + " within " + SERVED_WRITE_SLACK_MS + " ms of its death";
      }
      if (r.outcome() == Outcome.REJECTED && r.reason().equals("click window closed")
          && r.sentMs() - s.win().atMs() >= CLICK_WINDOW_MS - 100) {
        return "a retry arrived after the click window";
      }
    }
    return null;
  }

  /** An outcome the publisher cannot know: the event may have been stored. */
  private static boolean unknown(Report r) {
    return r.outcome() == Outcome.FAILED
        || r.outcome() == Outcome.REJECTED && r.reason() != null && r.reason().startsWith("temporarily");
  }

  /** A node incarnation's name ({@code node-2#kx3f}) without its incarnation. */
  private static String base(String nodeId) {
    int hash = nodeId == null ? -1 : nodeId.indexOf('#');
    return hash < 0 ? String.valueOf(nodeId) : nodeId.substring(0, hash);
  }

  private static List<String> first(List<String> problems) {
    return problems.subList(0, Math.min(10, problems.size()));
  }

  private void printSummary() {
    Map<String, Long> outcomes = traffic.reports.values().stream().flatMap(Collection::stream)
        .collect(Collectors.groupingBy(r -> r.outcome() + (r.reason() == null ? "" : " " + r.reason()),
            TreeMap::new, Collectors.counting()));
    Map<String, Long> failuresByNode = traffic.reports.values().stream().flatMap(Collection::stream)
        .filter(r -> r.outcome() == Outcome.FAILED)
        .collect(Collectors.groupingBy(r -> r.node() + ": " + r.reason(), TreeMap::new, Collectors.counting()));
    System.out.printf("bids sent %d, answered %d, failed %s%n", traffic.bidsSent.get(), traffic.bidsAnswered.get(),
        traffic.bidFailures);
    System.out.printf("winners %d, events %d (resent %d), reports %s%n", traffic.wins.size(), traffic.events.size(),
        traffic.resent.size(), outcomes);
    System.out.printf("event reports failed in transport %s%n", failuresByNode);
    System.out.printf("stored events %d, stored clicks %d, cross-node clicks %d, %s clicks accepted after its death %d%n",
        stored.size(), acceptedClicks().size(), crossNodeClicks(), DEAD, deadNodeClicksAcceptedAfterDeath());
    Map<String, CampaignView> end = views();
    System.out.println("money ran out (refused for budget, all handed out): " + exhausted(end)
        + "; cannot afford one more click: "
        + spentOut(end));
    System.out.println("campaigns reported BUDGET_EXHAUSTED in no-bids: " + new TreeMap<>(
        traffic.reportedExhausted.stream().collect(Collectors.toMap(c -> c, c -> true))).keySet());
    Map<String, Long> charged = chargedByCampaign(stored.values());
    for (CampaignView v : views().values()) {
      String id = v.getCampaign().getCampaignId();
      long last = traffic.lastWinMs.getOrDefault(id, 0L);
      System.out.printf("  %s bid %6d budget %9d spent %9d reserved %7d events-charged %9d clicks %3d last win %s,"
              + " last no-bid %s%n", id, v.getCampaign().getBidMicros(),
          v.getCampaign().getDailyBudgetMicros(), v.getSpentMicros(), v.getReservedMicros(), charged.getOrDefault(id, 0L),
          v.getClicks(), last == 0 ? "never" : (last - trafficEndMs) + " ms from the end", traffic.lastNoBid.get(id));
      System.out.println("      allocated " + allocated(v) + ": " + v.getAllowancesList().stream()
          .map(a -> a.getNode() + " " + a.getAllowanceMicros() + "/" + a.getSpentMicros() + "/" + a.getReservedMicros())
          .toList());
    }
    for (String id : advertisers.keySet()) {
      AdvertiserView v = advertiserView(id);
      System.out.printf("  %s cap %d granted %d grants %s%n", id, v.getAdvertiser().getDailyBudgetMicros(),
          v.getGrantedMicros(), grants(v));
    }
  }

  /** The scenario's clock: traffic runs on its own threads meanwhile. */
  private static void letTrafficRunUntil(long epochMs) {
    long wait = epochMs - System.currentTimeMillis();
    if (wait > 0) {
      pause(wait);
    }
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
