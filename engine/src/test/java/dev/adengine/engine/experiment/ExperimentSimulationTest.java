package dev.adengine.engine.experiment;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adengine.api.v1.ArmParamsSpec;
import dev.adengine.api.v1.ArmReportView;
import dev.adengine.api.v1.ArmSpec;
import dev.adengine.api.v1.ComparisonView;
import dev.adengine.api.v1.CreateExperimentRequest;
import dev.adengine.api.v1.ExperimentReportRequest;
import dev.adengine.api.v1.ExperimentReportView;
import dev.adengine.api.v1.StartExperimentRequest;
import dev.adengine.api.v1.StopExperimentRequest;
import dev.adengine.engine.EngineNode;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.engine.sim.SimulationSummary;
import dev.adengine.engine.sim.SimulatorOptions;
import dev.adengine.engine.sim.TrafficSimulator;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.models.scoring.Platt;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end with the traffic simulator, whose users click by the ground-truth model: an arm that
 * ranks with the trained model is found significantly better (CTR) than a control that ranks
 * with a deliberately bad one, and ten A/A experiments over the next run of traffic find (almost)
 * nothing.
 */
class ExperimentSimulationTest {
  private static final int AA_EXPERIMENTS = 10;
  /**
   * With 10 independent A/A tests at the 5% level the count of false positives is Binomial(10,
   * 0.05): P(X >= 4) = 0.10%, so more than 3 fails the test (and a broken test or assignment that
   * flags every second one fails it surely).
   */
  private static final int MAX_AA_FALSE_POSITIVES = 3;

  @TempDir
  Path dir;

  private static ArmSpec arm(String name, int bp, boolean control, ArmParamsSpec params) {
    return ArmSpec.newBuilder().setName(name).setBasisPoints(bp).setControl(control).setParams(params).build();
  }

  /**
   * The bundled model with stage 1's calibration reversed: candidates are picked worst-first by
   * stage 1 (with top K 1, stage 2 rescores only the slots' worth it picked). Worse in any world
   * where the trained model ranks better than chance.
   */
  private Path invertedModel() throws Exception {
    CtrModel m = ModelHolder.load("");
    Platt p = m.stage1Calibration();
    CtrModel inverted = new CtrModel("inverted-stage1", m.schemaHash(), m.featureNames(), m.metadata(), m.logistic(),
        new Platt(-p.a(), p.b()), m.forest(), m.stage2Blend());
    Path file = dir.resolve("inverted.bin");
    Files.write(file, inverted.toBytes());
    return file;
  }

  @Test
  void shouldFindTheBetterRankerAndNoAaDifferenceWhenUsersClickByTheGroundTruth() throws Exception {
    EngineNode node = startNode(CassandraTestNode.uniqueKeyspaceName("expsim"), Map.of(
        "adengine.ranking.arm-models", List.of(invertedModel().toString()),
        "adengine.experiments.stats-interval", "250ms"));
    ActorSystem<Void> client = clientSystem("expsim-client");
    Clients api = Clients.of(client, node.grpcPort());
    try {
      // given a control that ranks with the bad model and a treatment with the trained one
      await(api.admin().createExperiment(CreateExperimentRequest.newBuilder().setActor("sim-test")
          .setExperimentId("ranker").setLayerId("ranking").setAllocationBasisPoints(10_000)
          .addArms(arm("control", 5_000, true, ArmParamsSpec.newBuilder().setModelVersion("inverted-stage1")
              .setTopK(1).build()))
          .addArms(arm("trained", 5_000, false, ArmParamsSpec.getDefaultInstance()))
          .build()));
      await(api.admin().startExperiment(StartExperimentRequest.newBuilder().setActor("sim-test")
          .setExperimentId("ranker").build()));

      // when the simulator sends 45 s of traffic and plays the users
      SimulationSummary first = simulate(node, true, 11L);
      ExperimentReportView ranker = settledReport(api, "ranker", first);
      System.out.println(ranker.getRendered());

      // then the trained ranker's CTR is significantly higher than the control's
      ArmReportView trained = arm(ranker, "trained");
      ComparisonView ctr = trained.getCtr();
      assertTrue(ctr.getSignificant() && ctr.getDifference() > 0, "CTR lift of the trained ranker: " + ctr);
      assertFalse(ranker.getSampleRatio().getMismatch(), "sample ratio: " + ranker.getSampleRatio());
      assertEquals(0, node.experiments().modelFallbacks(), "the arm's model version is loaded");

      // given the ranker stopped and ten A/A experiments (arms with the same parameters), each
      // in its own layer, so with its own independent split of the users
      await(api.admin().stopExperiment(StopExperimentRequest.newBuilder().setActor("sim-test")
          .setExperimentId("ranker").build()));
      for (int i = 0; i < AA_EXPERIMENTS; i++) {
        await(api.admin().createExperiment(CreateExperimentRequest.newBuilder().setActor("sim-test")
            .setExperimentId("aa-" + i).setLayerId("aa-layer-" + i).setAllocationBasisPoints(10_000)
            .addArms(arm("a", 5_000, true, ArmParamsSpec.getDefaultInstance()))
            .addArms(arm("b", 5_000, false, ArmParamsSpec.getDefaultInstance()))
            .build()));
        await(api.admin().startExperiment(StartExperimentRequest.newBuilder().setActor("sim-test")
            .setExperimentId("aa-" + i).build()));
      }

      // when another 45 s of traffic runs
      SimulationSummary second = simulate(node, false, 12L);

      // then few of them flag a CTR difference
      List<String> flagged = new ArrayList<>();
      for (int i = 0; i < AA_EXPERIMENTS; i++) {
        ExperimentReportView aa = settledReport(api, "aa-" + i, second);
        ComparisonView c = arm(aa, "b").getCtr();
        System.out.printf("aa-%d: CTR a %.5f b %.5f p %.4f%s%n", i, c.getControlValue(), c.getTreatmentValue(),
            c.getPValue(), c.getSignificant() ? "  *" : "");
        if (c.getSignificant()) {
          flagged.add("aa-" + i);
        }
        assertTrue(arm(aa, "b").getImpressions() > 1_000, "enough impressions to test");
      }
      System.out.println("A/A false positives: " + flagged.size() + " of " + AA_EXPERIMENTS + " " + flagged);
      assertTrue(flagged.size() <= MAX_AA_FALSE_POSITIVES, "A/A experiments flagged: " + flagged);
      api.close();
    } finally {
      client.terminate();
      EngineTestSupport.stop(node);
    }
  }

  private static SimulationSummary simulate(EngineNode node, boolean setup, long seed) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SimulationSummary summary = TrafficSimulator.run(SimulatorOptions.builder()
        .target("127.0.0.1", node.grpcPort())
        // 4,500 requests at 100/s, with 1 s (the engine's cap) to answer, not the simulator's 100 ms:
        // the test is about the experiments' statistics, not latency. At 150/s and 100 ms a CI run
        // on an overloaded machine answered 2,699 of 4,500; at 150/s and 1 s, a local run on the
        // same machine 2,237 in its first 30 s (a cold node and Cassandra: p50 1.4 s from the
        // intended send time) and all 4,500 in its second
        .rate(100)
        .tmaxMs(1000)
        .duration(Duration.ofSeconds(45))
        .seed(seed)
        .campaigns(200)
        .setup(setup)
        .reportEvery(Duration.ofSeconds(10))
        .today(LocalDate.now(ZoneOffset.UTC))
        .build(), new PrintStream(out, true, StandardCharsets.UTF_8));
    System.out.println(summary.render());
    assertTrue(summary.ok() > 3_000, "answered requests: " + summary.ok());
    return summary;
  }

  /** The report once every request and accepted event of {@code run} is in the published stats. */
  private static ExperimentReportView settledReport(Clients api, String experimentId, SimulationSummary run) {
    return awaitValue(Duration.ofSeconds(20), () -> {
      ExperimentReportView r = await(api.admin().getExperimentReport(ExperimentReportRequest.newBuilder()
          .setExperimentId(experimentId).build()));
      long requests = 0;
      long events = 0;
      for (ArmReportView a : r.getArmsList()) {
        requests += a.getRequests();
        events += a.getImpressions() + a.getClicks();
      }
      // The node counts every request it answered OK; the simulator, those whose answer reached it
      // within tmax. A request answered just after its deadline is in the first count and a
      // DEADLINE_EXCEEDED in the second (34 of 4,500 in one CI run on a loaded machine).
      long late = run.errorsByStatus().getOrDefault("DEADLINE_EXCEEDED", 0L);
      assertTrue(requests >= run.ok() && requests <= run.ok() + late, "requests in the report: " + requests
          + ", answered OK " + run.ok() + ", past their deadline " + late);
      if (run.eventBatchErrorsByStatus().isEmpty()) {
        assertEquals(run.eventsAccepted(), events, "events in the report");
      } else {
        // likewise an event batch the node accepted after the simulator's deadline for it: counted
        // by the node, not by the simulator (33 such batches, 4,156 events, in the same CI run)
        assertTrue(events >= run.eventsAccepted() && events <= run.eventsSent(), "events in the report: " + events
            + ", accepted " + run.eventsAccepted() + ", sent " + run.eventsSent() + ", failed batches "
            + run.eventBatchErrorsByStatus());
      }
      return r;
    });
  }

  private static ArmReportView arm(ExperimentReportView r, String name) {
    return r.getArmsList().stream().filter(a -> a.getArm().equals(name)).findFirst().orElseThrow();
  }
}
