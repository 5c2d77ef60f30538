package dev.adengine.engine.lifecycle;

import static dev.adengine.engine.testing.EngineTestSupport.await;
import static dev.adengine.engine.testing.EngineTestSupport.awaitAssert;
import static dev.adengine.engine.testing.EngineTestSupport.awaitValue;
import static dev.adengine.engine.testing.EngineTestSupport.clientSystem;
import static dev.adengine.engine.testing.EngineTestSupport.startNode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.ActivationView;
import dev.adengine.api.v1.ArmParamsSpec;
import dev.adengine.api.v1.ArmSpec;
import dev.adengine.api.v1.CreateExperimentRequest;
import dev.adengine.api.v1.StartExperimentRequest;
import dev.adengine.api.v1.StopExperimentRequest;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.GetModelStatusRequest;
import dev.adengine.api.v1.GetPipelineRunsRequest;
import dev.adengine.api.v1.ListModelsRequest;
import dev.adengine.api.v1.ListModelsResponse;
import dev.adengine.api.v1.ModelStatusView;
import dev.adengine.api.v1.ModelView;
import dev.adengine.api.v1.PipelineRunView;
import dev.adengine.api.v1.PipelineStepView;
import dev.adengine.api.v1.RollbackModelRequest;
import dev.adengine.api.v1.ShadowModelRequest;
import dev.adengine.api.v1.TrainModelRequest;
import dev.adengine.engine.EngineNode;
import dev.adengine.engine.sim.SimulationSummary;
import dev.adengine.engine.sim.SimulatorOptions;
import dev.adengine.engine.sim.TrafficSimulator;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.Test;

/**
 * The ML lifecycle end to end, on real Cassandra and a real multi-node cluster (ActorSystems in
 * this JVM, each with its own gRPC server): simulator traffic is served and logged (feature log,
 * labels joined from the accepted impressions and clicks), the retraining pipeline trains on a
 * window of it and validates on a later one, a good candidate passes the gates and is promoted
 * (every node serves it, a node that joins later too), a deliberately bad one (an ablation left
 * with a single uninformative feature) is rejected naming the metric, and a rollback brings the
 * previous version back on every node.
 *
 * <p>With {@code -Dlifecycle.report=FILE} it writes the figures it measured (training time, time
 * from activation until every node serves) to FILE ({@code bin/lifecycle-bench} does this).
 */
class LifecycleEndToEndTest {

  private static final String ACTOR = "lifecycle-e2e";

  @Test
  void shouldTrainGatePromoteAndRollBackAcrossTheClusterWhenTrafficIsLogged() throws Exception {
    String keyspace = CassandraTestNode.uniqueKeyspaceName("lifecycle");
    // The test's windows hold tens of thousands of shown ads, not a production day: the candidate
    // is compared with the bundled model (trained on 200,000 simulated requests) with a margin
    // that such a small sample needs, and fewer trees. The bad candidate misses the absolute floor
    // by far (AUC near 0.5), whatever the margin.
    Map<String, Object> config = new HashMap<>();
    config.put("adengine.lifecycle.pipeline.trees", 40);
    // The training and hold-out windows must be what was served: a queue that holds the whole 40 s
    // window (10,000 records), so that a slow test Cassandra delays the log instead of thinning it
    // (a CI run on a busy machine dropped 7.5% with the default 4,096). Dropping when full is
    // FeatureLogWriterTest's.
    config.put("adengine.lifecycle.feature-log.queue-capacity", 16_384);
    config.put("adengine.lifecycle.pipeline.min-train-rows", 2_000);
    config.put("adengine.lifecycle.pipeline.min-slice-rows", 300);
    config.put("adengine.lifecycle.pipeline.gates.max-auc-drop", 0.05);
    config.put("adengine.lifecycle.pipeline.gates.max-log-loss-increase", 0.01);
    config.put("adengine.lifecycle.pipeline.gates.max-calibration-error-increase", 0.01);
    config.put("adengine.lifecycle.deploy.resync-interval", "2s");
    List<EngineNode> nodes = new ArrayList<>();
    List<Clients> apis = new ArrayList<>();
    ActorSystem<Void> client = clientSystem("lifecycle-client");
    Map<String, String> figures = new java.util.LinkedHashMap<>();
    try {
      EngineNode first = startNode(keyspace, config);
      nodes.add(first);
      Map<String, Object> joiner = new HashMap<>(config);
      joiner.put("adengine.seed-nodes", first.system().address().toString());
      nodes.add(startNode(keyspace, joiner));
      awaitUp(nodes);
      for (EngineNode n : nodes) {
        apis.add(Clients.of(client, n.grpcPort()));
      }

      // given a new cluster: the registry was bootstrapped with the configured (bundled) model
      ListModelsResponse initial = await(apis.get(0).admin().listModels(ListModelsRequest.getDefaultInstance()));
      assertEquals(1, initial.getModelsCount(), "versions in a new registry");
      String bundled = initial.getActiveVersion();
      assertEquals(bundled, initial.getModels(0).getVersion());

      // when simulator traffic is served: a training window on one node, a later hold-out window on the other
      long trainFrom = System.currentTimeMillis();
      long train = simulate(nodes.get(0), true, 21L, 5_000, 6);
      long trainTo = System.currentTimeMillis();
      long holdout = simulate(nodes.get(1), false, 22L, 2_000, 4);
      long holdoutTo = System.currentTimeMillis() + 1;
      for (Clients api : apis) {
        awaitFlushed(api);
      }

      // and a retraining run is asked for on those windows
      long asked = System.nanoTime();
      String runId = await(apis.get(1).admin().trainModel(TrainModelRequest.newBuilder().setActor(ACTOR)
          .setTrainFromMs(trainFrom).setTrainToMs(trainTo).setHoldoutFromMs(trainTo).setHoldoutToMs(holdoutTo)
          .build())).getRunId();
      PipelineRunView good = finished(apis.get(0), runId);
      long runMillis = (System.nanoTime() - asked) / 1_000_000;
      print(good);

      // then the candidate passed every step and is the active version, with its lineage
      assertEquals(RetrainPipeline.SUCCEEDED, good.getStatus(), "run " + good.getDetail());
      assertEquals(List.of("EXTRACT", "TRAIN", "VALIDATE", "REGISTER", "PROMOTE"),
          good.getStepsList().stream().map(PipelineStepView::getStep).toList());
      good.getStepsList().forEach(s -> assertEquals(RetrainPipeline.SUCCEEDED, s.getStatus(), s.getStep()));
      assertTrue(step(good, "EXTRACT").getDetail().contains("every feature equal"),
          "offline/online parity: " + step(good, "EXTRACT").getDetail());
      String candidate = good.getCandidateVersion();
      ListModelsResponse afterGood = await(apis.get(0).admin().listModels(ListModelsRequest.getDefaultInstance()));
      assertEquals(candidate, afterGood.getActiveVersion());
      ModelView m = afterGood.getModelsList().stream().filter(v -> v.getVersion().equals(candidate)).findFirst()
          .orElseThrow();
      assertEquals(bundled, m.getParentVersion(), "parent version");
      assertEquals(runId, m.getPipelineRun());
      assertEquals(FeatureExtractor.SCHEMA_HASH, m.getSchemaHash());
      assertEquals(trainFrom, m.getTrainFromMs());
      assertEquals(holdoutTo, m.getHoldoutToMs());
      assertFalse(m.getGitCommit().isEmpty(), "code version recorded");
      assertTrue(m.getTrainRows() > 2_000 && m.getHoldoutRows() > 500, "rows " + m.getTrainRows() + "/"
          + m.getHoldoutRows());
      assertTrue(m.getMetricsOrThrow("auc") > 0.6, "candidate AUC " + m.getMetricsOrThrow("auc"));
      assertTrue(m.getMetricsMap().containsKey("active_auc"), "the active model was evaluated on the same rows");
      assertTrue(m.getMetricsMap().keySet().stream().anyMatch(k -> k.startsWith("slice.device=mobile")),
          "per-slice metrics: " + m.getMetricsMap().keySet());
      assertEquals("40", m.getHyperParamsOrThrow("trees"));

      // and every node serves it: measured from the end of the promote step to the last node's answer
      long promoted = step(good, "PROMOTE").getFinishedAtMs();
      long servedEverywhere = awaitServing(apis, candidate);
      figures.put("training rows (shown ads), clicks", m.getTrainRows() + ", " + m.getTrainClicks());
      figures.put("train step (Smile, " + m.getHyperParamsOrThrow("trees") + " trees)",
          (step(good, "TRAIN").getFinishedAtMs() - step(good, "TRAIN").getStartedAtMs()) + " ms");
      figures.put("whole run (extract to promote)", runMillis + " ms");
      figures.put("promote step done to every node serving", Math.max(0, servedEverywhere - promoted) + " ms");
      System.out.println("lifecycle figures: " + figures);

      // and a node that joins later serves the active version from its first request
      nodes.add(startNode(keyspace, joiner));
      awaitUp(nodes);
      apis.add(Clients.of(client, nodes.get(2).grpcPort()));
      assertEquals(candidate, bid(apis.get(2), "late-0").getModelVersion(), "a node joining later");

      // when an experiment arm names the previous version (no longer active)
      await(apis.get(0).admin().createExperiment(CreateExperimentRequest.newBuilder().setActor(ACTOR)
          .setExperimentId("old-vs-new").setLayerId("ranking").setAllocationBasisPoints(10_000)
          .addArms(ArmSpec.newBuilder().setName("new").setBasisPoints(5_000).setControl(true)
              .setParams(ArmParamsSpec.getDefaultInstance()))
          .addArms(ArmSpec.newBuilder().setName("old").setBasisPoints(5_000)
              .setParams(ArmParamsSpec.newBuilder().setModelVersion(bundled)))
          .build()));
      await(apis.get(0).admin().startExperiment(StartExperimentRequest.newBuilder().setActor(ACTOR)
          .setExperimentId("old-vs-new").build()));

      // then every node loads it in the background and serves that arm's users with it
      for (Clients api : apis) {
        awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(200), () -> {
          int old = 0;
          for (int u = 0; u < 40; u++) {
            BidResponse r = await(api.auction().bid(BidRequest.newBuilder().setRequestId("arm-" + System.nanoTime())
                .setUserId("u-arm-" + u).setDestination("paris").setDevice(Device.MOBILE)
                .setPlacement(dev.adengine.api.v1.Placement.SEARCH_RESULTS).setSlots(3).setTmaxMs(100).build()));
            assertEquals(r.getArm().equals("old") ? bundled : candidate, r.getModelVersion(), "arm " + r.getArm());
            old += r.getArm().equals("old") ? 1 : 0;
          }
          assertTrue(old > 0, "users in the old arm");
        });
      }
      await(apis.get(0).admin().stopExperiment(StopExperimentRequest.newBuilder().setActor(ACTOR)
          .setExperimentId("old-vs-new").build()));

      // when a deliberately bad candidate is trained: an ablation left with one uninformative feature
      List<String> excluded = new ArrayList<>(FeatureExtractor.NAMES);
      excluded.remove("nights");
      String badRun = await(apis.get(0).admin().trainModel(TrainModelRequest.newBuilder().setActor(ACTOR)
          .setTrainFromMs(trainFrom).setTrainToMs(trainTo).setHoldoutFromMs(trainTo).setHoldoutToMs(holdoutTo)
          .addAllExcludeFeatures(excluded).build())).getRunId();
      PipelineRunView bad = finished(apis.get(0), badRun);
      print(bad);

      // then the gates reject it, saying which metric failed, and nothing changes
      assertEquals(RetrainPipeline.REJECTED, bad.getStatus());
      PipelineStepView validate = step(bad, "VALIDATE");
      assertEquals(RetrainPipeline.REJECTED, validate.getStatus());
      assertTrue(bad.getDetail().startsWith("rejected: ") && bad.getDetail().contains("auc "),
          "the failed gate names the metric: " + bad.getDetail());
      assertTrue(bad.getStepsList().stream().noneMatch(s -> s.getStep().equals("REGISTER")), "not registered");
      ListModelsResponse afterBad = await(apis.get(0).admin().listModels(ListModelsRequest.getDefaultInstance()));
      assertEquals(2, afterBad.getModelsCount(), "versions after the rejected run");
      assertEquals(candidate, afterBad.getActiveVersion());
      for (Clients api : apis) {
        assertEquals(candidate, bid(api, "after-bad").getModelVersion());
      }

      // when the previous version is set to score in shadow
      long shadowFrom = System.currentTimeMillis();
      ActivationView shadow = await(apis.get(1).admin().shadowModel(ShadowModelRequest.newBuilder().setActor(ACTOR)
          .setVersion(bundled).setReason("compare with the new model").build()));
      assertEquals("shadow", shadow.getScope());
      for (Clients api : apis) {
        awaitAssert(Duration.ofSeconds(10), Duration.ofMillis(100), () -> {
          ModelStatusView st = await(api.admin().getModelStatus(GetModelStatusRequest.getDefaultInstance()));
          assertEquals(bundled, st.getShadowVersion(), "shadow on " + st.getNodeId());
        });
        for (int k = 0; k < 20; k++) {
          assertEquals(candidate, bid(api, "shadowed").getModelVersion(), "the shadow does not serve");
        }
        awaitFlushed(api);
      }

      // then every node logs both models' scores, and the live one still decides. The window starts
      // at shadowFrom inclusive, so it may hold the last "after-bad" request served in the same
      // millisecond: only the requests sent after the shadow was set are counted.
      var logged = await(new dev.adengine.persistence.FeatureLogRepository(nodes.get(0).session(), keyspace)
          .read(shadowFrom, System.currentTimeMillis() + 1)).stream()
          .filter(r -> r.requestId().startsWith("shadowed-")).toList();
      var shadowed = logged.stream().filter(r -> bundled.equals(r.shadowVersion())).toList();
      assertEquals(apis.size() * 20, logged.size(), "requests sent while the shadow was set, logged");
      assertEquals(logged.size(), shadowed.size(), "records logged with the shadow's version");
      int scored = 0;
      int differ = 0;
      for (var r : shadowed) {
        assertEquals(candidate, r.modelVersion());
        for (FeatureLogCodec.Candidate c : FeatureLogCodec.decodeCandidates(r.candidates())) {
          assertFalse(Double.isNaN(c.shadowPctr()), "every candidate has a shadow score");
          scored++;
          differ += Math.abs(c.shadowPctr() - c.pctr()) > 1e-9 ? 1 : 0;
        }
      }
      assertTrue(scored > 0 && differ > scored / 2, "shadow scores differ from live ones: " + differ + "/" + scored);
      await(apis.get(0).admin().shadowModel(ShadowModelRequest.newBuilder().setActor(ACTOR).setVersion("")
          .setReason("done").build()));
      for (Clients api : apis) {
        awaitAssert(Duration.ofSeconds(10), Duration.ofMillis(100), () -> assertEquals("",
            await(api.admin().getModelStatus(GetModelStatusRequest.getDefaultInstance())).getShadowVersion()));
      }

      // when the operator rolls back
      ActivationView rollback = await(apis.get(2).admin().rollbackModel(RollbackModelRequest.newBuilder()
          .setActor(ACTOR).setReason("e2e test").build()));

      // then the previous version serves on every node again
      assertEquals("ROLLBACK", rollback.getAction());
      assertEquals(bundled, rollback.getVersion());
      assertEquals(candidate, rollback.getPreviousVersion());
      long rolledBack = awaitServing(apis, bundled);
      figures.put("rollback answered to every node serving", Math.max(0, rolledBack - rollback.getAtMs()) + " ms");
      System.out.println("lifecycle figures: " + figures);
      assertTrue(train >= 5_000 && holdout >= 2_000, "traffic served " + train + "/" + holdout);
      writeFigures(figures, train, holdout);
    } finally {
      apis.forEach(Clients::close);
      client.terminate();
      for (int i = nodes.size() - 1; i >= 0; i--) {
        EngineTestSupport.stop(nodes.get(i));
      }
      EngineTestSupport.dropKeyspace(keyspace);
    }
  }

  private static void awaitUp(List<EngineNode> nodes) {
    awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(200), () -> {
      for (EngineNode n : nodes) {
        long up = 0;
        for (org.apache.pekko.cluster.Member member : Cluster.get(n.system()).state().getMembers()) {
          up += member.status() == MemberStatus.up() ? 1 : 0;
        }
        assertEquals(nodes.size(), up, "members up seen by " + n.nodeId());
      }
    });
  }

  /**
   * Simulator traffic for one window, 250 requests/s on the market of seed 21 (set up by the first
   * run), requests and clicks of {@code trafficSeed}: 20 s at a time until {@code minOk} requests
   * were answered, at most {@code maxRuns} times. On a fast machine two runs (40 s) serve 10,000;
   * on a slow, shared one the node serves fewer in time, and the window grows instead of the test
   * training on too little. Returns the requests answered.
   */
  private static long simulate(EngineNode node, boolean setup, long trafficSeed, long minOk, int maxRuns)
      throws Exception {
    long ok = 0;
    for (int run = 0; run < maxRuns && ok < minOk; run++) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      SimulationSummary summary = TrafficSimulator.run(SimulatorOptions.builder()
          .target("127.0.0.1", node.grpcPort())
          .rate(250)
          .tmaxMs(1000) // the engine's cap: the test is about the lifecycle, not latency (see ExperimentSimulationTest)
          .duration(Duration.ofSeconds(20))
          .seed(21L)
          .trafficSeed(trafficSeed + 1_000L * run)
          .campaigns(200)
          .setup(setup && run == 0)
          .reportEvery(Duration.ofSeconds(10))
          .today(LocalDate.now(ZoneOffset.UTC))
          .build(), new PrintStream(out, true, StandardCharsets.UTF_8));
      System.out.println(summary.render());
      ok += summary.ok();
    }
    return ok;
  }

  /**
   * Waits until a node's feature log has dealt with everything it captured: written, or lost and
   * counted. The log may drop under load (it must count it); here, on a loaded test machine, at most
   * 1% of records and labels may be lost, or the training windows would not be what was served.
   */
  private static void awaitFlushed(Clients api) {
    awaitAssert(Duration.ofSeconds(90), Duration.ofMillis(200), () -> {
      ModelStatusView s = await(api.admin().getModelStatus(GetModelStatusRequest.getDefaultInstance()));
      var f = s.getFeatureLog();
      assertEquals(f.getCaptured(), f.getWritten() + f.getDropped(), "feature log of " + s.getNodeId() + " settled: " + f);
      assertEquals(0, f.getQueued(), "queued on " + s.getNodeId());
      System.out.println("feature log of " + s.getNodeId() + ": " + f.toString().replace('\n', ' '));
      assertTrue(f.getDropped() * 100 <= f.getCaptured(), "feature-log records lost on " + s.getNodeId() + ": " + f);
      long labels = f.getLabelsWritten() + f.getLabelsDropped() + f.getLabelsFailed();
      assertTrue((f.getLabelsDropped() + f.getLabelsFailed()) * 100 <= labels, "labels lost on " + s.getNodeId()
          + ": " + f);
    });
  }

  private static PipelineRunView finished(Clients api, String runId) {
    return awaitValue(Duration.ofSeconds(240), () -> {
      PipelineRunView r = await(api.admin().getPipelineRuns(GetPipelineRunsRequest.newBuilder().setRunId(runId)
          .build())).getRuns(0);
      assertNotEquals(RetrainPipeline.RUNNING, r.getStatus(), "run " + runId + " at " + r.getStep());
      return r;
    });
  }

  private static PipelineStepView step(PipelineRunView run, String name) {
    return run.getStepsList().stream().filter(s -> s.getStep().equals(name)).reduce((a, b) -> b).orElseThrow(
        () -> new AssertionError("no step " + name + " in " + run));
  }

  private static BidResponse bid(Clients api, String requestId) {
    return await(api.auction().bid(BidRequest.newBuilder().setRequestId(requestId + "-" + System.nanoTime())
        .setUserId("u-lifecycle").setDestination("paris").setDevice(Device.MOBILE)
        .setPlacement(dev.adengine.api.v1.Placement.SEARCH_RESULTS).setSlots(3).setTmaxMs(100).build()));
  }

  /**
   * Bids on every node until each answers with {@code version}; every bid must succeed meanwhile (a
   * deploy fails no request). Returns the wall-clock time when the last node served it.
   */
  private static long awaitServing(List<Clients> apis, String version) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    boolean[] serving = new boolean[apis.size()];
    int i = 0;
    while (true) {
      for (int n = 0; n < apis.size(); n++) {
        if (!serving[n]) {
          serving[n] = version.equals(bid(apis.get(n), "deploy-" + i++).getModelVersion());
        }
      }
      boolean all = true;
      for (boolean b : serving) {
        all &= b;
      }
      if (all) {
        return System.currentTimeMillis();
      }
      assertTrue(System.nanoTime() < deadline, version + " not served by every node within 20 s");
    }
  }

  private static void print(PipelineRunView r) {
    System.out.printf(Locale.ROOT, "run %s: %s at %s: %s%n", r.getRunId(), r.getStatus(), r.getStep(),
        r.getDetail());
    for (PipelineStepView s : r.getStepsList()) {
      System.out.printf(Locale.ROOT, "  %-9s %-9s %6d ms  %s%n", s.getStep(), s.getStatus(),
          s.getFinishedAtMs() - s.getStartedAtMs(), s.getDetail());
    }
  }

  private static void writeFigures(Map<String, String> figures, long train, long holdout)
      throws Exception {
    String target = System.getProperty("lifecycle.report", "");
    if (target.isBlank()) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    sb.append("Measured by `LifecycleEndToEndTest` (`bin/lifecycle-bench`) on ").append(Instant.now().truncatedTo(
        java.time.temporal.ChronoUnit.SECONDS)).append(", ").append(Runtime.getRuntime().availableProcessors())
        .append(" cores, commit `").append(dev.adengine.engine.lifecycle.LifecycleSettings.gitCommit("auto"))
        .append("`: engine nodes in one JVM (two, then a third joining) on one Cassandra node, the simulator's"
            + " traffic (")
        .append(train).append(" requests in the training window, ").append(holdout)
        .append(" in the hold-out window). A retraining run on demand: extract both windows from the feature"
            + " log with the parity check, train (Smile), validate against the gates next to the active model,"
            + " register, promote. One run, on a shared machine: read them as orders of magnitude.\n\n");
    sb.append("| what | measured |\n|---|---:|\n");
    figures.forEach((k, v) -> sb.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    dev.adengine.engine.ranking.TrainModels.writeSection(Path.of(target),
        dev.adengine.engine.ranking.TrainModels.LIFECYCLE_HEADING, sb.toString());
  }
}
