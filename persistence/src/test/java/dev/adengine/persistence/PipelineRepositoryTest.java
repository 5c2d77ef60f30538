package dev.adengine.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.persistence.PipelineRepository.Run;
import dev.adengine.persistence.PipelineRepository.Step;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each test uses its own pipeline name and run ids, so the tests share the keyspace. */
class PipelineRepositoryTest {

  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");

  private static CqlSession session;
  private static PipelineRepository pipelines;

  @BeforeAll
  static void createKeyspace() {
    session = CassandraTestNode.freshKeyspace("pipeline_repository_test");
    pipelines = new PipelineRepository(session, CassandraTestNode.keyspaceOf(session));
  }

  @AfterAll
  static void dropKeyspace() {
    CassandraTestNode.dropKeyspace(session);
  }

  private static Run running(String pipeline, Instant startedAt) {
    return new Run(pipeline, PipelineRepository.newRunId(startedAt), "schedule", startedAt, null,
        PipelineRepository.RUNNING, "EXTRACT", null, null, "node-1");
  }

  @Test
  void shouldMakeRunIdsThatSortByTimeWhenTheMillisHaveFewerDigits() {
    // given instants whose epoch millis have 3, 4 and 13 digits
    Instant a = Instant.ofEpochMilli(999);
    Instant b = Instant.ofEpochMilli(1000);
    Instant c = Instant.parse("2026-03-01T10:00:00Z");

    // when
    String idA = PipelineRepository.newRunId(a);
    String idB = PipelineRepository.newRunId(b);
    String idC = PipelineRepository.newRunId(c);

    // then
    assertTrue(idA.matches("run-0000000000000000999-[0-9a-f]{4}"), idA);
    assertTrue(idC.matches("run-0000001772359200000-[0-9a-f]{4}"), idC);
    assertEquals(List.of(idA, idB, idC), List.of(idC, idA, idB).stream().sorted().toList());
  }

  @Test
  void shouldListRunsNewestFirstWhenSavedInAnyOrder() {
    // given three runs a day apart, saved out of order, and a run of another pipeline
    Run monday = running("ctr-daily", T0);
    Run tuesday = running("ctr-daily", T0.plusSeconds(86_400));
    Run wednesday = running("ctr-daily", T0.plusSeconds(2 * 86_400));
    for (Run r : List.of(tuesday, wednesday, monday, running("ctr-weekly", T0.plusSeconds(3 * 86_400)))) {
      Await.result(pipelines.saveRun(r));
    }

    // when
    List<Run> all = Await.result(pipelines.runs("ctr-daily", 10));
    List<Run> latestTwo = Await.result(pipelines.runs("ctr-daily", 2));

    // then
    assertEquals(List.of(wednesday, tuesday, monday), all);
    assertEquals(List.of(wednesday, tuesday), latestTwo);
    assertEquals(List.of(), Await.result(pipelines.runs("never-ran", 10)));
  }

  @Test
  void shouldReadBackTheLatestStateWhenARunIsUpsertedFromRunningToSucceeded() {
    // given a run saved while it was running
    Run started = new Run("ctr-upsert", PipelineRepository.newRunId(T0), "manual:alice", T0, null,
        PipelineRepository.RUNNING, "TRAIN", "ctr-9", "training on 2026-02-22..2026-03-01", "node-2");
    Await.result(pipelines.saveRun(started));

    // when it is saved again as succeeded
    Run finished = started.withStatus(PipelineRepository.SUCCEEDED, "PROMOTE", T0.plusSeconds(1800), "promoted");
    Await.result(pipelines.saveRun(finished));

    // then the run reads back as succeeded, once
    assertEquals(Optional.of(finished), Await.result(pipelines.run("ctr-upsert", started.runId())));
    assertEquals(List.of(finished), Await.result(pipelines.runs("ctr-upsert", 10)));
    assertEquals(Optional.empty(), Await.result(pipelines.run("ctr-upsert", "run-unknown")));
  }

  @Test
  void shouldListStepsInSeqOrderWhenSavedOutOfOrderAndUpdated() {
    // given the steps of a run, saved out of order, the last one saved running and then done
    String runId = PipelineRepository.newRunId(T0);
    Step extract = new Step(runId, 1, "EXTRACT", "SUCCEEDED", T0, T0.plusSeconds(60), "120000 rows");
    Step train = new Step(runId, 2, "TRAIN", "SUCCEEDED", T0.plusSeconds(60), T0.plusSeconds(600), null);
    Step validateRunning = new Step(runId, 3, "VALIDATE", "RUNNING", T0.plusSeconds(600), null, null);
    Step validateDone = new Step(runId, 3, "VALIDATE", "REJECTED", T0.plusSeconds(600), T0.plusSeconds(660),
        "auc 0.771 < 0.779");
    for (Step s : List.of(validateRunning, extract, train, validateDone)) {
      Await.result(pipelines.saveStep(s));
    }

    // when
    List<Step> steps = Await.result(pipelines.steps(runId));

    // then
    assertEquals(List.of(extract, train, validateDone), steps);
    assertEquals(List.of(), Await.result(pipelines.steps("run-unknown")));
  }
}
