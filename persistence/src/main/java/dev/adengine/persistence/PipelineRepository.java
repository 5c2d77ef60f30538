package dev.adengine.persistence;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The retraining pipeline's record of its runs ({@code pipeline_runs}) and their steps ({@code
 * pipeline_steps}), written as a run progresses. A pipeline resumed on another node trusts this
 * record to know what is done, so writes and reads are both {@code LOCAL_QUORUM}: a read sees
 * every completed write.
 *
 * <p>Run ids sort by time ({@link #newRunId(Instant)}), and runs are clustered newest first, so
 * {@link #runs} reads the latest runs from the head of the pipeline's partition.
 *
 * <p>All methods are non-blocking; statements are prepared (blocking) in the constructor.
 */
public final class PipelineRepository {

  /** Run statuses. */
  public static final String RUNNING = "RUNNING";
  public static final String SUCCEEDED = "SUCCEEDED";
  public static final String REJECTED = "REJECTED";
  public static final String FAILED = "FAILED";

  /**
   * One run of a pipeline. {@code step} is the step running or last run; {@code finishedAt}, {@code
   * candidateVersion} and {@code detail} are null until known.
   */
  public record Run(String pipeline, String runId, String trigger, Instant startedAt, Instant finishedAt,
      String status, String step, String candidateVersion, String detail, String node) {
    public Run {
      Objects.requireNonNull(pipeline, "pipeline");
      Objects.requireNonNull(runId, "runId");
    }

    public Run withStatus(String newStatus, String newStep, Instant newFinishedAt, String newDetail) {
      return new Run(pipeline, runId, trigger, startedAt, newFinishedAt, newStatus, newStep, candidateVersion,
          newDetail, node);
    }
  }

  /** One step of a run; {@code seq} orders the steps of the run (1, 2, ...). */
  public record Step(String runId, int seq, String step, String status, Instant startedAt, Instant finishedAt,
      String detail) {
    public Step {
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(step, "step");
    }
  }

  private static final String RUN_COLUMNS =
      "pipeline, run_id, trigger, started_at, finished_at, status, step, candidate_version, detail, node";
  private static final String STEP_COLUMNS = "run_id, seq, step, status, started_at, finished_at, detail";

  private final CqlSession session;
  private final PreparedStatement insertRun;
  private final PreparedStatement selectRun;
  private final PreparedStatement selectRuns;
  private final PreparedStatement insertStep;
  private final PreparedStatement selectSteps;

  public PipelineRepository(CqlSession session, String keyspace) {
    this.session = Objects.requireNonNull(session, "session");
    String ks = CassandraSettings.requireValidKeyspace(keyspace);
    insertRun = session.prepare("INSERT INTO " + ks + ".pipeline_runs (" + RUN_COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    selectRun = session.prepare("SELECT " + RUN_COLUMNS + " FROM " + ks
        + ".pipeline_runs WHERE pipeline = ? AND run_id = ?");
    selectRuns = session.prepare("SELECT " + RUN_COLUMNS + " FROM " + ks + ".pipeline_runs WHERE pipeline = ? LIMIT ?");
    insertStep = session.prepare("INSERT INTO " + ks + ".pipeline_steps (" + STEP_COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?)");
    selectSteps = session.prepare("SELECT " + STEP_COLUMNS + " FROM " + ks
        + ".pipeline_steps WHERE run_id = ? ORDER BY seq ASC");
  }

  /**
   * A new run id that sorts by start time: {@code "run-"}, the epoch millis zero-padded to 19
   * digits (so string order is time order), {@code "-"} and 4 random hex digits (so two runs
   * started in the same millisecond differ).
   */
  public static String newRunId(Instant startedAt) {
    long ms = startedAt.toEpochMilli();
    if (ms < 0) {
      throw new IllegalArgumentException("run ids start at the epoch, got " + startedAt);
    }
    return String.format(Locale.ROOT, "run-%019d-%04x", ms, ThreadLocalRandom.current().nextInt(0x10000));
  }

  /** Stores the whole run, replacing every column of a run with the same id (a null clears one). */
  public CompletionStage<Void> saveRun(Run r) {
    BoundStatement statement = insertRun.bind(r.pipeline(), r.runId(), r.trigger(), r.startedAt(), r.finishedAt(),
            r.status(), r.step(), r.candidateVersion(), r.detail(), r.node())
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
        .setIdempotent(true);
    return session.executeAsync(statement).thenApply(rs -> null);
  }

  /** The run, or empty. */
  public CompletionStage<Optional<Run>> run(String pipeline, String runId) {
    BoundStatement statement = selectRun.bind(Objects.requireNonNull(pipeline, "pipeline"),
            Objects.requireNonNull(runId, "runId"))
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM);
    return AsyncPages.first(session.executeAsync(statement), PipelineRepository::toRun);
  }

  /** The pipeline's latest {@code limit} runs, newest first. */
  public CompletionStage<List<Run>> runs(String pipeline, int limit) {
    if (limit < 1) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("limit must be >= 1, was " + limit));
    }
    BoundStatement statement = selectRuns.bind(Objects.requireNonNull(pipeline, "pipeline"), limit)
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM);
    return AsyncPages.all(session.executeAsync(statement), PipelineRepository::toRun);
  }

  /** Stores the step, replacing a step of the same run and seq. */
  public CompletionStage<Void> saveStep(Step s) {
    BoundStatement statement = insertStep.bind(s.runId(), s.seq(), s.step(), s.status(), s.startedAt(),
            s.finishedAt(), s.detail())
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
        .setIdempotent(true);
    return session.executeAsync(statement).thenApply(rs -> null);
  }

  /** The run's steps in seq order. */
  public CompletionStage<List<Step>> steps(String runId) {
    BoundStatement statement = selectSteps.bind(Objects.requireNonNull(runId, "runId"))
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM);
    return AsyncPages.all(session.executeAsync(statement), PipelineRepository::toStep);
  }

  private static Run toRun(Row row) {
    return new Run(
        row.getString("pipeline"),
        row.getString("run_id"),
        row.getString("trigger"),
        row.getInstant("started_at"),
        row.getInstant("finished_at"),
        row.getString("status"),
        row.getString("step"),
        row.getString("candidate_version"),
        row.getString("detail"),
        row.getString("node"));
  }

  private static Step toStep(Row row) {
    return new Step(
        row.getString("run_id"),
        row.getInt("seq"),
        row.getString("step"),
        row.getString("status"),
        row.getInstant("started_at"),
        row.getInstant("finished_at"),
        row.getString("detail"));
  }
}
