package dev.adengine.engine.experiment;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adengine.api.v1.ArmParamsSpec;
import dev.adengine.api.v1.ArmReportView;
import dev.adengine.api.v1.ArmSpec;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.CreateExperimentRequest;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventAck;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventType;
import dev.adengine.api.v1.ExperimentConfigView;
import dev.adengine.api.v1.ExperimentReportRequest;
import dev.adengine.api.v1.ExperimentReportView;
import dev.adengine.api.v1.GetExperimentConfigRequest;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.RampExperimentRequest;
import dev.adengine.api.v1.SetHoldoutRequest;
import dev.adengine.api.v1.StartExperimentRequest;
import dev.adengine.api.v1.StopExperimentRequest;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.engine.EngineNode;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.persistence.ExperimentRepository;
import dev.adengine.persistence.testing.CassandraTestNode;
import io.grpc.Status;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The experiment admin API on one real node (real Cassandra, real gRPC): experiments made through
 * it serve their arms' parameters on the bid path, show in the report, are audited, and bad input
 * is refused with INVALID_ARGUMENT naming the field.
 */
class ExperimentApiTest {
  private static final long UNIT = 1_000_000L;
  private static String keyspace;
  private static EngineNode node;
  private static ActorSystem<Void> client;
  private static Clients api;

  @BeforeAll
  static void start() {
    keyspace = CassandraTestNode.uniqueKeyspaceName("expapi");
    node = startNode(keyspace, Map.of("adengine.experiments.stats-interval", "200ms"));
    client = clientSystem("expapi-client");
    api = Clients.of(client, node.grpcPort());
    await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
        .setAdvertiser(advertiser("adv-x", 1_000 * UNIT)).build()));
    await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
        .setCampaign(campaign("c-x", "adv-x", Pricing.CPM, 5 * UNIT, 500 * UNIT, "ad-x").addDestinations("reykjavik"))
        .build()));
    // the campaign serves (catalog replicated, allowance granted) before any experiment exists
    awaitAssert(Duration.ofSeconds(10), () -> assertEquals(1, await(api.auction().bid(
        bid("warm-" + System.nanoTime(), "reykjavik", Device.DESKTOP, 1).build())).getWinnersCount()));
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
  }

  private static ArmSpec arm(String name, int bp, boolean control, ArmParamsSpec params) {
    return ArmSpec.newBuilder().setName(name).setBasisPoints(bp).setControl(control).setParams(params).build();
  }

  private static Status refused(Runnable call) {
    RuntimeException e = assertThrows(RuntimeException.class, call::run);
    Status status = Status.fromThrowable(e);
    assertNotEquals(Status.Code.UNKNOWN, status.getCode(), "a gRPC status error, got " + e);
    return status;
  }

  @Test
  void shouldServeEachArmItsParametersAndReportThemWhenAnExperimentRuns() {
    // given an experiment on all of layer "auction" whose treatment has a reserve above every bid
    ExperimentConfigView created = await(api.admin().createExperiment(CreateExperimentRequest.newBuilder()
        .setActor("alice").setExperimentId("reserve-test").setLayerId("auction").setAllocationBasisPoints(10_000)
        .addArms(arm("control", 5_000, true, ArmParamsSpec.getDefaultInstance()))
        .addArms(arm("high-reserve", 5_000, false, ArmParamsSpec.newBuilder().setReserveMicros(50 * UNIT).build()))
        .build()));
    assertEquals("DRAFT", experimentOf(created, "reserve-test").getState());
    ExperimentConfigView started = await(api.admin().startExperiment(StartExperimentRequest.newBuilder()
        .setActor("alice").setExperimentId("reserve-test").build()));
    assertEquals("RUNNING", experimentOf(started, "reserve-test").getState());
    assertEquals(started.getVersion(), started.getNodeVersion(), "the answering node serves the new version");

    // when 400 users bid once each
    Map<String, int[]> byArm = new HashMap<>();
    EventBatch.Builder events = EventBatch.newBuilder();
    int clicks = 0;
    for (int i = 0; i < 400; i++) {
      BidResponse r = await(api.auction().bid(bid("rq-" + i, "reykjavik", Device.DESKTOP, 1).setUserId("user-" + i)
          .build()));
      assertEquals("reserve-test", r.getExperimentId());
      assertEquals(layerAssignment("user-" + i).arm(), r.getArm());
      int[] counts = byArm.computeIfAbsent(r.getArm(), k -> new int[2]);
      counts[0]++;
      counts[1] += r.getWinnersCount();
      if (r.getWinnersCount() > 0) {
        // and each ad shown gets its impression, every third one a click too
        events.addEvents(event("imp-" + i, r, EventType.IMPRESSION));
        if (i % 3 == 0) {
          events.addEvents(event("clk-" + i, r, EventType.CLICK));
          clicks++;
        }
      }
    }
    EventAck ack = await(api.events().report(events.build()));
    assertEquals(events.getEventsCount(), ack.getAccepted(), ack.toString());
    int controlClicks = clicks;

    // then both arms got users, the control filled every request and the high reserve none
    assertEquals(2, byArm.size(), "arms seen: " + byArm.keySet());
    assertEquals(byArm.get("control")[0], byArm.get("control")[1], "control fills every request");
    assertEquals(0, byArm.get("high-reserve")[1], "no bid reaches the treatment's reserve");
    // and the report, from the published stats, counts them and finds the fill-rate drop significant
    ExperimentReportView report = awaitValue(Duration.ofSeconds(10), () -> {
      ExperimentReportView r = await(api.admin().getExperimentReport(ExperimentReportRequest.newBuilder()
          .setExperimentId("reserve-test").build()));
      assertEquals(byArm.get("control")[0], armOf(r, "control").getRequests());
      assertEquals(byArm.get("high-reserve")[0], armOf(r, "high-reserve").getRequests());
      assertEquals(byArm.get("control")[1], armOf(r, "control").getImpressions());
      assertEquals(controlClicks, armOf(r, "control").getClicks());
      return r;
    });
    ArmReportView treatment = armOf(report, "high-reserve");
    assertEquals(0, treatment.getFilledRequests());
    assertTrue(treatment.getFillRate().getSignificant());
    assertTrue(treatment.getFillRate().getDifference() < 0);
    assertTrue(armOf(report, "control").getRevenueMicros() > 0, "CPM wins book revenue");
    assertFalse(report.getSampleRatio().getMismatch());
    assertTrue(report.getRendered().contains("high-reserve vs control"), report.getRendered());
    System.out.println(report.getRendered());

    // and every change is in the audit log with its actor
    List<ExperimentRepository.AuditEntry> audit = await(new ExperimentRepository(node.session(), keyspace)
        .auditLog("main", "reserve-test"));
    assertEquals(List.of("CREATED", "STARTED"), audit.stream().map(a -> a.change().action()).toList());
    assertEquals("alice", audit.get(0).change().actor());

    // when it stops, users are back on the defaults and the default label
    String treated = treatmentUser();
    await(api.admin().stopExperiment(StopExperimentRequest.newBuilder().setActor("alice")
        .setExperimentId("reserve-test").setReason("done").build()));
    BidResponse after = await(api.auction().bid(bid("rq-after", "reykjavik", Device.DESKTOP, 1)
        .setUserId(treated).build()));
    assertEquals("default", after.getExperimentId());
    assertEquals(1, after.getWinnersCount());
  }

  @Test
  void shouldHoldOutTheSetShareOfUsersAndKeepThemHeldOutWhenTheShareGrows() {
    try {
      // when the holdout is set to 25%
      ExperimentConfigView quarter = await(api.admin().setHoldout(SetHoldoutRequest.newBuilder().setActor("carol")
          .setBasisPoints(2_500).setReason("quarterly holdout").build()));

      // then the answering node serves it at once, and a quarter of the users get arm "holdout"
      assertEquals(2_500, quarter.getHoldoutBasisPoints());
      assertEquals(quarter.getVersion(), quarter.getNodeVersion());
      List<String> heldOut = new java.util.ArrayList<>();
      for (int i = 0; i < 400; i++) {
        BidResponse r = await(api.auction().bid(bid("ho-" + i, "reykjavik", Device.DESKTOP, 1)
            .setUserId("holdout-user-" + i).build()));
        assertEquals(node.experiments().assigner().inHoldout("holdout-user-" + i), r.getArm().equals("holdout"),
            "holdout-user-" + i + " got arm " + r.getArm());
        if (r.getArm().equals("holdout")) {
          assertEquals("", r.getExperimentId());
          heldOut.add("holdout-user-" + i);
        }
      }
      // 25% of 400 is 100, with a standard deviation of 8.7
      assertTrue(heldOut.size() > 70 && heldOut.size() < 130, "held out: " + heldOut.size() + " of 400");

      // when it grows to 50%, everyone held out at 25% stays held out
      ExperimentConfigView half = await(api.admin().setHoldout(SetHoldoutRequest.newBuilder().setActor("carol")
          .setBasisPoints(5_000).build()));
      assertEquals(5_000, half.getHoldoutBasisPoints());
      for (String user : heldOut) {
        assertEquals("holdout", await(api.auction().bid(bid("ho2-" + user, "reykjavik", Device.DESKTOP, 1)
            .setUserId(user).build())).getArm(), user);
      }

      // and both changes are audited with the actor, the shares before and after, and the reason
      List<ExperimentRepository.AuditEntry> audit = await(new ExperimentRepository(node.session(), keyspace)
          .auditLog("main")).stream().filter(a -> a.change().action().equals(ExperimentRepository.HOLDOUT_SET))
          .toList();
      assertEquals(2, audit.size(), audit.toString());
      assertEquals("carol", audit.get(0).change().actor());
      assertEquals(0, audit.get(0).change().fromBasisPoints());
      assertEquals(2_500, audit.get(0).change().toBasisPoints());
      assertEquals("quarterly holdout", audit.get(0).change().detail());
      assertEquals(2_500, audit.get(1).change().fromBasisPoints());
      assertEquals(5_000, audit.get(1).change().toBasisPoints());

      // and a share out of range, or no actor, is refused naming the field, and changes nothing
      Status tooBig = refused(() -> await(api.admin().setHoldout(SetHoldoutRequest.newBuilder().setActor("carol")
          .setBasisPoints(10_001).build())));
      assertEquals(Status.Code.INVALID_ARGUMENT, tooBig.getCode());
      assertTrue(tooBig.getDescription().startsWith("basis_points"), tooBig.getDescription());
      Status noActor = refused(() -> await(api.admin().setHoldout(SetHoldoutRequest.newBuilder()
          .setBasisPoints(100).build())));
      assertEquals(Status.Code.INVALID_ARGUMENT, noActor.getCode());
      assertTrue(noActor.getDescription().startsWith("actor"), noActor.getDescription());
      assertEquals(5_000, await(api.admin().getExperimentConfig(GetExperimentConfigRequest.getDefaultInstance()))
          .getHoldoutBasisPoints());
    } finally {
      // the other tests of this class run without a holdout
      await(api.admin().setHoldout(SetHoldoutRequest.newBuilder().setActor("carol").setBasisPoints(0).build()));
    }
  }

  @Test
  void shouldLogTheArmsShadowModelScoresBesideTheLiveOnesWhenAnArmNamesAShadowModel() {
    // given an experiment whose treatment arm scores a shadow model (the loaded active version)
    String active = await(api.admin().getModelStatus(dev.adengine.api.v1.GetModelStatusRequest.getDefaultInstance()))
        .getActiveVersion();
    long from = System.currentTimeMillis();
    await(api.admin().createExperiment(CreateExperimentRequest.newBuilder()
        .setActor("dora").setExperimentId("shadow-arm").setLayerId("shadowing").setAllocationBasisPoints(10_000)
        .addArms(arm("control", 5_000, true, ArmParamsSpec.getDefaultInstance()))
        .addArms(arm("shadowed", 5_000, false, ArmParamsSpec.newBuilder().setShadowModelVersion(active).build()))
        .build()));
    await(api.admin().startExperiment(StartExperimentRequest.newBuilder().setActor("dora")
        .setExperimentId("shadow-arm").build()));
    try {
      // when 100 users bid
      Map<String, String> armOf = new HashMap<>();
      for (int i = 0; i < 100; i++) {
        BidResponse r = await(api.auction().bid(bid("sa-" + i, "reykjavik", Device.DESKTOP, 1)
            .setUserId("shadow-user-" + i).build()));
        if (r.getExperimentId().equals("shadow-arm")) {
          armOf.put(r.getRequestId(), r.getArm());
        }
      }
      assertTrue(armOf.containsValue("control") && armOf.containsValue("shadowed"), "arms served: " + armOf);

      // then the feature log holds every one with its arm, and only the shadowed arm's carry shadow scores
      var repository = new dev.adengine.persistence.FeatureLogRepository(node.session(), keyspace);
      var logged = awaitValue(Duration.ofSeconds(20), () -> {
        var rows = await(repository.read(from, System.currentTimeMillis() + 1)).stream()
            .filter(r -> armOf.containsKey(r.requestId())).toList();
        assertEquals(armOf.size(), rows.size(), "logged requests of the experiment");
        return rows;
      });
      for (var r : logged) {
        assertEquals("shadow-arm", r.experimentId());
        assertEquals(armOf.get(r.requestId()), r.arm(), r.requestId());
        boolean shadowed = r.arm().equals("shadowed");
        assertEquals(shadowed ? active : null, r.shadowVersion(), r.requestId() + " in arm " + r.arm());
        for (var c : dev.adengine.engine.lifecycle.FeatureLogCodec.decodeCandidates(r.candidates())) {
          assertEquals(shadowed, !Double.isNaN(c.shadowPctr()), r.requestId() + " candidate's shadow score");
          if (shadowed) {
            // the same model in shadow scores what the live one did
            assertEquals(c.pctr(), c.shadowPctr(), 1e-12);
          }
        }
      }
    } finally {
      await(api.admin().stopExperiment(StopExperimentRequest.newBuilder().setActor("dora")
          .setExperimentId("shadow-arm").build()));
    }
  }

  private static dev.adengine.experiments.LayerAssignment layerAssignment(String user) {
    var assigner = node.experiments().assigner();
    return assigner.assign(user, assigner.layerIndex("auction"));
  }

  private static Event event(String id, BidResponse r, EventType type) {
    return Event.newBuilder().setEventId(id).setRequestId(r.getRequestId()).setAdId(r.getWinners(0).getAdId())
        .setCampaignId(r.getWinners(0).getCampaignId()).setType(type).setTimeMs(System.currentTimeMillis()).build();
  }

  private static boolean isTreatment(String user) {
    return layerAssignment(user).arm().equals("high-reserve");
  }

  private static String treatmentUser() {
    for (int i = 0; i < 1_000; i++) {
      if (isTreatment("user-" + i)) {
        return "user-" + i;
      }
    }
    throw new AssertionError("no user in the treatment among 1,000");
  }

  private static dev.adengine.api.v1.ExperimentView experimentOf(ExperimentConfigView c, String id) {
    return c.getExperimentsList().stream().filter(e -> e.getExperimentId().equals(id)).findFirst().orElseThrow();
  }

  private static ArmReportView armOf(ExperimentReportView r, String arm) {
    return r.getArmsList().stream().filter(a -> a.getArm().equals(arm)).findFirst().orElseThrow();
  }

  @Test
  void shouldRefuseWithTheFieldWhenAdminInputIsBad() {
    // arms that do not sum to 10,000
    Status sum = refused(() -> await(api.admin().createExperiment(CreateExperimentRequest.newBuilder()
        .setActor("bob").setExperimentId("bad-sum").setLayerId("other").setAllocationBasisPoints(1_000)
        .addArms(arm("control", 5_000, true, ArmParamsSpec.getDefaultInstance()))
        .addArms(arm("t", 4_000, false, ArmParamsSpec.getDefaultInstance())).build())));
    assertEquals(Status.Code.INVALID_ARGUMENT, sum.getCode());
    assertTrue(sum.getDescription().startsWith("experiments[bad-sum].arms"),
        sum.getDescription());

    // an arm parameter out of range names the experiment, the arm and the parameter
    Status topK = refused(() -> await(api.admin().createExperiment(CreateExperimentRequest.newBuilder()
        .setActor("bob").setExperimentId("bad-topk").setLayerId("other").setAllocationBasisPoints(1_000)
        .addArms(arm("control", 5_000, true, ArmParamsSpec.getDefaultInstance()))
        .addArms(arm("t", 5_000, false, ArmParamsSpec.newBuilder().setTopK(0).build())).build())));
    assertEquals(Status.Code.INVALID_ARGUMENT, topK.getCode());
    assertTrue(topK.getDescription().startsWith("experiments[bad-topk].arms[t].params.topK"),
        topK.getDescription());

    // no actor
    Status actor = refused(() -> await(api.admin().startExperiment(StartExperimentRequest.newBuilder()
        .setExperimentId("whatever").build())));
    assertEquals(Status.Code.INVALID_ARGUMENT, actor.getCode());
    assertTrue(actor.getDescription().startsWith("actor"), actor.getDescription());

    // a ramp beyond the layer
    await(api.admin().createExperiment(CreateExperimentRequest.newBuilder()
        .setActor("bob").setExperimentId("ramp-me").setLayerId("ramps").setAllocationBasisPoints(1_000)
        .addArms(arm("control", 5_000, true, ArmParamsSpec.getDefaultInstance()))
        .addArms(arm("t", 5_000, false, ArmParamsSpec.newBuilder().setQualityFactor(1.0).build())).build()));
    Status ramp = refused(() -> await(api.admin().rampExperiment(RampExperimentRequest.newBuilder()
        .setActor("bob").setExperimentId("ramp-me").setAllocationBasisPoints(10_001).build())));
    assertEquals(Status.Code.INVALID_ARGUMENT, ramp.getCode());
    assertTrue(ramp.getDescription().startsWith("experiments[ramp-me].allocationBasisPoints"),
        ramp.getDescription());

    // an unknown experiment
    Status unknown = refused(() -> await(api.admin().startExperiment(StartExperimentRequest.newBuilder()
        .setActor("bob").setExperimentId("nope").build())));
    assertEquals(Status.Code.NOT_FOUND, unknown.getCode());

    // and nothing refused was saved
    ExperimentConfigView config = await(api.admin().getExperimentConfig(GetExperimentConfigRequest.getDefaultInstance()));
    assertTrue(config.getExperimentsList().stream().noneMatch(e -> e.getExperimentId().startsWith("bad-")));
    assertTrue(config.getExperimentsList().stream().anyMatch(e -> e.getExperimentId().equals("ramp-me")
        && e.getAllocationBasisPoints() == 1_000));
  }
}
