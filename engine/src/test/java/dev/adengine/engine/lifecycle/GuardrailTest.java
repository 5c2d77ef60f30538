package dev.adengine.engine.lifecycle;

import static dev.adengine.engine.testing.EngineTestSupport.await;
import static dev.adengine.engine.testing.EngineTestSupport.awaitValue;
import static dev.adengine.engine.testing.EngineTestSupport.clientSystem;
import static dev.adengine.engine.testing.EngineTestSupport.startNode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.ActivationView;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.DeployModelRequest;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.ListModelsRequest;
import dev.adengine.api.v1.ListModelsResponse;
import dev.adengine.api.v1.Placement;
import dev.adengine.engine.EngineNode;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.engine.sim.SimulationSummary;
import dev.adengine.engine.sim.SimulatorOptions;
import dev.adengine.engine.sim.TrafficSimulator;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.models.scoring.Blend;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.models.scoring.Platt;
import dev.adengine.persistence.ModelRegistryRepository;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * The automatic guardrail on a real node with simulator traffic: the bundled model serves a while
 * without a rollback (its calibration holds), then a deliberately overconfident version (every pCTR
 * about e^2.3 = 10 times too high) is deployed; the cluster's observed clicks fall far below the
 * clicks it predicts, the breach lasts, and the guardrail rolls it back on its own, recording why.
 */
class GuardrailTest {

  /** The bundled model with both calibrations shifted by +2.3 in log-odds: ~10x the clicks it should predict. */
  private static CtrModel overconfident() throws Exception {
    CtrModel m = ModelHolder.load("");
    Platt p = m.stage1Calibration();
    Blend b = m.stage2Blend();
    return new CtrModel("overconfident-10x", m.schemaHash(), m.featureNames(), m.metadata(), m.logistic(),
        new Platt(p.a(), p.b() + 2.3), m.forest(), new Blend(b.w1(), b.w2(), b.b() + 2.3));
  }

  @Test
  void shouldRollBackOnItsOwnWhenTheActiveModelsCalibrationBreaksForASustainedWindow() throws Exception {
    String keyspace = CassandraTestNode.uniqueKeyspaceName("guardrail");
    EngineNode node = startNode(keyspace, Map.of(
        "adengine.lifecycle.guardrail.interval", "500ms",
        "adengine.lifecycle.guardrail.window", "8s",
        "adengine.lifecycle.guardrail.settle", "4s",
        "adengine.lifecycle.guardrail.sustain", "3s",
        "adengine.lifecycle.guardrail.min-impressions", 500,
        "adengine.lifecycle.guardrail.min-requests", 200));
    ActorSystem<Void> client = clientSystem("guardrail-client");
    Clients api = Clients.of(client, node.grpcPort());
    try {
      String bundled = await(api.admin().listModels(ListModelsRequest.getDefaultInstance())).getActiveVersion();

      // given the bundled model serving for 15 s: no breach, no rollback
      simulate(node, true, Duration.ofSeconds(15));
      ListModelsResponse before = await(api.admin().listModels(ListModelsRequest.getDefaultInstance()));
      assertEquals(bundled, before.getActiveVersion());
      assertEquals(1, before.getHistoryCount(), "activations while the calibrated model served: "
          + before.getHistoryList());

      // when an overconfident version is registered and deployed
      CtrModel bad = overconfident();
      ModelRegistryRepository repo = new ModelRegistryRepository(node.session(), node.settings().keyspace());
      assertTrue(await(repo.register(new ModelRegistryRepository.ModelVersion(bad.version(), Instant.now(),
          "guardrail-test", null, bundled, "test", bad.schemaHash(), 0, 0, 0, 0, 0, 0, 0, 0, Map.of(), Map.of(), null,
          ModelRegistry.bytes(bad)))));
      ActivationView deployed = await(api.admin().deployModel(DeployModelRequest.newBuilder().setActor("guardrail-test")
          .setVersion(bad.version()).setReason("deliberately overconfident").build()));
      assertEquals(bad.version(), deployed.getVersion());
      awaitValue(Duration.ofSeconds(10), () -> {
        assertEquals(bad.version(), bid(api).getModelVersion());
        return true;
      });

      // and traffic goes on
      simulate(node, false, Duration.ofSeconds(25));

      // then the guardrail rolled it back, and says why
      ListModelsResponse after = await(api.admin().listModels(ListModelsRequest.getDefaultInstance()));
      ActivationView last = after.getHistory(0);
      System.out.println("latest activation: " + last.getAction() + " " + last.getVersion() + " by "
          + last.getActor() + ": " + last.getReason());
      assertEquals("AUTO_ROLLBACK", last.getAction());
      assertEquals(bundled, last.getVersion());
      assertEquals(bad.version(), last.getPreviousVersion());
      assertTrue(last.getReason().contains("calibration"), "reason: " + last.getReason());
      assertEquals(bundled, bid(api).getModelVersion(), "the node serves the previous version again");
      api.close();
    } finally {
      client.terminate();
      EngineTestSupport.stop(node);
      EngineTestSupport.dropKeyspace(keyspace);
    }
  }

  private static dev.adengine.api.v1.BidResponse bid(Clients api) {
    return await(api.auction().bid(BidRequest.newBuilder().setRequestId("guard-" + System.nanoTime())
        .setUserId("u-guard").setDestination("paris").setDevice(Device.MOBILE).setPlacement(Placement.SEARCH_RESULTS)
        .setSlots(3).setTmaxMs(100).build()));
  }

  private static void simulate(EngineNode node, boolean setup, Duration d) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SimulationSummary s = TrafficSimulator.run(SimulatorOptions.builder()
        .target("127.0.0.1", node.grpcPort())
        .rate(150)
        .tmaxMs(1000) // the engine's cap: the test is about the guardrail, not latency (see ExperimentSimulationTest)
        .duration(d)
        .seed(31L)
        .trafficSeed(setup ? 31L : 32L)
        .campaigns(200)
        .setup(setup)
        .reportEvery(Duration.ofSeconds(10))
        .today(LocalDate.now(ZoneOffset.UTC))
        .build(), new PrintStream(out, true, StandardCharsets.UTF_8));
    System.out.println(s.render());
    assertTrue(s.ok() > 1_000, "requests answered: " + s.ok());
  }
}
