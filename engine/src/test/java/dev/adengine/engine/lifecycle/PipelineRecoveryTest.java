package dev.adengine.engine.lifecycle;

import static dev.adengine.engine.testing.EngineTestSupport.await;
import static dev.adengine.engine.testing.EngineTestSupport.awaitValue;
import static dev.adengine.engine.testing.EngineTestSupport.clientSystem;
import static dev.adengine.engine.testing.EngineTestSupport.startNode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.ListModelsRequest;
import dev.adengine.api.v1.Placement;
import dev.adengine.engine.EngineNode;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.persistence.ModelRegistryRepository;
import dev.adengine.persistence.PipelineRepository;
import dev.adengine.persistence.PipelineRepository.Run;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.Test;

/**
 * A retraining run interrupted by a crash is finished cleanly by the pipeline singleton's next
 * incarnation: one cut off before its candidate was registered is marked FAILED (nothing to undo,
 * nothing deployed), one cut off after registering resumes and promotes its candidate. The crash
 * is the run's persisted state as a dead node leaves it: a RUNNING row and its steps.
 */
class PipelineRecoveryTest {

  @Test
  void shouldFailAnInterruptedRunBeforeRegisterAndResumeOneAfterWhenThePipelineRestarts() throws Exception {
    String keyspace = CassandraTestNode.uniqueKeyspaceName("piperecover");
    EngineNode node = startNode(keyspace);
    PipelineRepository runs = new PipelineRepository(node.session(), keyspace);
    ModelRegistryRepository registry = new ModelRegistryRepository(node.session(), keyspace);
    ActorSystem<Void> client = clientSystem("piperecover-client");
    try {
      // given a run that died while training (no candidate yet)
      Instant t1 = Instant.now();
      String died = PipelineRepository.newRunId(t1);
      await(runs.saveRun(new Run(RetrainPipeline.NAME, died, "test", t1, null, RetrainPipeline.RUNNING,
          RetrainPipeline.TRAIN, null, null, "dead-node")));

      // when the pipeline starts again (its node restarts)
      EngineTestSupport.stop(node);
      node = startNode(keyspace);

      // then the run is failed, saying nothing was deployed
      runs = new PipelineRepository(node.session(), keyspace); // the stopped node closed its session
      registry = new ModelRegistryRepository(node.session(), keyspace);
      Run failed = awaitFinished(runs, died);
      assertEquals(RetrainPipeline.FAILED, failed.status());
      assertTrue(failed.detail().contains("nothing was registered or deployed"), failed.detail());

      // given a run that died after registering its candidate
      CtrModel bundled = ModelHolder.load("");
      CtrModel candidate = new CtrModel("resumed-candidate", bundled.schemaHash(), bundled.featureNames(),
          bundled.metadata(), bundled.logistic(), bundled.stage1Calibration(), bundled.forest(),
          bundled.stage2Blend());
      assertTrue(await(registry.register(new ModelRegistryRepository.ModelVersion(candidate.version(), Instant.now(),
          "test", "run-x", bundled.version(), "test", candidate.schemaHash(), 0, 0, 0, 0, 0, 0, 0, 0, Map.of(),
          Map.of(), null, ModelRegistry.bytes(candidate)))));
      Instant t2 = Instant.now();
      String registered = PipelineRepository.newRunId(t2);
      await(runs.saveRun(new Run(RetrainPipeline.NAME, registered, "test", t2, null, RetrainPipeline.RUNNING,
          RetrainPipeline.REGISTER, candidate.version(), null, "dead-node")));

      // when the pipeline starts again
      EngineTestSupport.stop(node);
      node = startNode(keyspace);

      // then the run resumes: the candidate is promoted and served
      runs = new PipelineRepository(node.session(), keyspace);
      Run resumed = awaitFinished(runs, registered);
      assertEquals(RetrainPipeline.SUCCEEDED, resumed.status(), resumed.detail());
      assertEquals(RetrainPipeline.PROMOTE, resumed.step());
      Clients api = Clients.of(client, node.grpcPort());
      assertEquals(candidate.version(), await(api.admin().listModels(ListModelsRequest.getDefaultInstance()))
          .getActiveVersion());
      awaitValue(Duration.ofSeconds(10), () -> {
        assertEquals(candidate.version(), await(api.auction().bid(BidRequest.newBuilder()
            .setRequestId("resume-" + System.nanoTime()).setUserId("u1").setDestination("paris")
            .setDevice(Device.MOBILE).setPlacement(Placement.SEARCH_RESULTS).setSlots(2).setTmaxMs(100).build()))
            .getModelVersion());
        return true;
      });
      api.close();
    } finally {
      client.terminate();
      EngineTestSupport.stop(node);
      EngineTestSupport.dropKeyspace(keyspace);
    }
  }

  private static Run awaitFinished(PipelineRepository runs, String runId) {
    return awaitValue(Duration.ofSeconds(30), () -> {
      Run r = await(runs.run(RetrainPipeline.NAME, runId)).orElseThrow();
      assertNotEquals(RetrainPipeline.RUNNING, r.status(), "run " + runId);
      return r;
    });
  }
}
