package dev.adengine.persistence;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The model registry: every trained model version ({@code model_versions} table) and the log of
 * which version is active ({@code model_activations}).
 *
 * <p>Versions are immutable. {@link #register} is {@code INSERT ... IF NOT EXISTS}, a
 * lightweight transaction: a version name, once registered, always means the same model bytes,
 * and registering it again changes nothing. There is no update and no delete.
 *
 * <p>Activations are an append-only log per scope: the row with the highest {@code seq} is the
 * active version, and each row names the version it replaced. {@link #activate} reads the latest
 * row (at serial consistency, so an activation in flight is completed or rolled back first), then
 * inserts {@code seq + 1} with {@code IF NOT EXISTS}; of two concurrent activations one takes the
 * seq and the other re-reads and takes the next, so neither is lost and the chain of {@code
 * previousVersion} stays unbroken. Whether the version exists is the caller's check.
 *
 * <p>If a stage fails with a write timeout, the outcome of the lightweight transaction is unknown:
 * read {@link #find} or {@link #active} before retrying.
 *
 * <p>The model and reference bytes are opaque here (this module depends on the driver only). All
 * methods are non-blocking; statements are prepared (blocking) in the constructor.
 */
public final class ModelRegistryRepository {

  /** The scope of the cluster's active model. */
  public static final String DEFAULT_SCOPE = "default";

  /** Activation actions the engine writes; others may be used. */
  public static final String ACTIVATE = "ACTIVATE";
  public static final String ROLLBACK = "ROLLBACK";
  public static final String AUTO_ROLLBACK = "AUTO_ROLLBACK";
  public static final String SHADOW = "SHADOW";
  public static final String SHADOW_OFF = "SHADOW_OFF";

  /** Attempts of {@link #activate} when concurrent activations keep taking the next seq. */
  private static final int MAX_ACTIVATE_ATTEMPTS = 8;

  /**
   * One registered model version: where it came from, what it was trained and validated on, how
   * well it did. {@code hyperParams} and {@code metrics} are copied into immutable maps (null reads
   * as empty). {@code model} and {@code reference} are copied in and out; {@code reference} may be
   * null, and both are null in the versions {@link #list()} returns. Two versions are equal when
   * their bytes are.
   */
  public record ModelVersion(
      String version,
      Instant createdAt,
      String createdBy,
      String pipelineRun,
      String parentVersion,
      String gitCommit,
      String schemaHash,
      long trainFromMs,
      long trainToMs,
      long holdoutFromMs,
      long holdoutToMs,
      long trainRows,
      long trainClicks,
      long holdoutRows,
      long holdoutClicks,
      Map<String, String> hyperParams,
      Map<String, Double> metrics,
      byte[] reference,
      byte[] model) {
    public ModelVersion {
      if (version == null || version.isBlank()) {
        throw new IllegalArgumentException("version is required");
      }
      hyperParams = hyperParams == null ? Map.of() : Map.copyOf(hyperParams);
      metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
      reference = reference == null ? null : reference.clone();
      model = model == null ? null : model.clone();
    }

    @Override
    public byte[] reference() {
      return reference == null ? null : reference.clone();
    }

    @Override
    public byte[] model() {
      return model == null ? null : model.clone();
    }

    /** This version without its model and reference bytes, as {@link #list()} returns it. */
    public ModelVersion withoutBlobs() {
      return new ModelVersion(version, createdAt, createdBy, pipelineRun, parentVersion, gitCommit, schemaHash,
          trainFromMs, trainToMs, holdoutFromMs, holdoutToMs, trainRows, trainClicks, holdoutRows, holdoutClicks,
          hyperParams, metrics, null, null);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ModelVersion v
          && version.equals(v.version)
          && Objects.equals(createdAt, v.createdAt)
          && Objects.equals(createdBy, v.createdBy)
          && Objects.equals(pipelineRun, v.pipelineRun)
          && Objects.equals(parentVersion, v.parentVersion)
          && Objects.equals(gitCommit, v.gitCommit)
          && Objects.equals(schemaHash, v.schemaHash)
          && trainFromMs == v.trainFromMs
          && trainToMs == v.trainToMs
          && holdoutFromMs == v.holdoutFromMs
          && holdoutToMs == v.holdoutToMs
          && trainRows == v.trainRows
          && trainClicks == v.trainClicks
          && holdoutRows == v.holdoutRows
          && holdoutClicks == v.holdoutClicks
          && hyperParams.equals(v.hyperParams)
          && metrics.equals(v.metrics)
          && Arrays.equals(reference, v.reference)
          && Arrays.equals(model, v.model);
    }

    @Override
    public int hashCode() {
      return Objects.hash(version, createdAt, createdBy, pipelineRun, parentVersion, gitCommit, schemaHash,
          trainFromMs, trainToMs, holdoutFromMs, holdoutToMs, trainRows, trainClicks, holdoutRows, holdoutClicks,
          hyperParams, metrics, Arrays.hashCode(reference), Arrays.hashCode(model));
    }

    @Override
    public String toString() {
      return "ModelVersion[version=" + version + ", createdAt=" + createdAt + ", createdBy=" + createdBy
          + ", pipelineRun=" + pipelineRun + ", parentVersion=" + parentVersion + ", gitCommit=" + gitCommit
          + ", schemaHash=" + schemaHash + ", train=[" + trainFromMs + ", " + trainToMs + "), holdout=["
          + holdoutFromMs + ", " + holdoutToMs + "), trainRows=" + trainRows + ", trainClicks=" + trainClicks
          + ", holdoutRows=" + holdoutRows + ", holdoutClicks=" + holdoutClicks + ", hyperParams=" + hyperParams
          + ", metrics=" + metrics + ", reference=" + (reference == null ? "null" : reference.length + " bytes")
          + ", model=" + (model == null ? "null" : model.length + " bytes") + "]";
    }
  }

  /**
   * One row of a scope's activation log: {@code version} became active at {@code at}, replacing
   * {@code previousVersion} (null for the scope's first activation).
   */
  public record Activation(String scope, long seq, String version, String previousVersion, String action,
      String actor, String reason, Instant at) {}

  private static final String META_COLUMNS = "version, created_at, created_by, pipeline_run, parent_version,"
      + " git_commit, schema_hash, train_from_ms, train_to_ms, holdout_from_ms, holdout_to_ms, train_rows,"
      + " train_clicks, holdout_rows, holdout_clicks, hyper_params, metrics";
  private static final String ACTIVATION_COLUMNS = "scope, seq, version, previous_version, action, actor, reason, at";

  private final CqlSession session;
  private final PreparedStatement insertVersion;
  private final PreparedStatement selectVersion;
  private final PreparedStatement selectAllVersions;
  private final PreparedStatement insertActivation;
  private final PreparedStatement selectLatestActivation;
  private final PreparedStatement selectActivations;

  public ModelRegistryRepository(CqlSession session, String keyspace) {
    this.session = Objects.requireNonNull(session, "session");
    String ks = CassandraSettings.requireValidKeyspace(keyspace);
    insertVersion = session.prepare("INSERT INTO " + ks + ".model_versions (" + META_COLUMNS
        + ", reference, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS");
    selectVersion = session.prepare("SELECT " + META_COLUMNS + ", reference, model FROM " + ks
        + ".model_versions WHERE version = ?");
    selectAllVersions = session.prepare("SELECT " + META_COLUMNS + " FROM " + ks + ".model_versions");
    insertActivation = session.prepare("INSERT INTO " + ks + ".model_activations (" + ACTIVATION_COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS");
    selectLatestActivation = session.prepare("SELECT " + ACTIVATION_COLUMNS + " FROM " + ks
        + ".model_activations WHERE scope = ? LIMIT 1");
    selectActivations = session.prepare("SELECT " + ACTIVATION_COLUMNS + " FROM " + ks
        + ".model_activations WHERE scope = ? LIMIT ?");
  }

  /**
   * Registers the version: true if this call stored it, false if a version of that name was
   * already registered (which is left as it was). {@code model} is required.
   */
  public CompletionStage<Boolean> register(ModelVersion v) {
    Objects.requireNonNull(v, "v");
    if (v.model == null) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("version " + v.version() + " has no model"));
    }
    BoundStatement statement = insertVersion.bind(v.version(), v.createdAt(), v.createdBy(), v.pipelineRun(),
            v.parentVersion(), v.gitCommit(), v.schemaHash(), v.trainFromMs(), v.trainToMs(), v.holdoutFromMs(),
            v.holdoutToMs(), v.trainRows(), v.trainClicks(), v.holdoutRows(), v.holdoutClicks(), v.hyperParams(),
            v.metrics(), v.reference == null ? null : ByteBuffer.wrap(v.reference()), ByteBuffer.wrap(v.model()))
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
        .setSerialConsistencyLevel(ConsistencyLevel.LOCAL_SERIAL);
    return session.executeAsync(statement).thenApply(rs -> rs.wasApplied());
  }

  /** The version with its model and reference bytes, or empty if it was never registered. */
  public CompletionStage<Optional<ModelVersion>> find(String version) {
    BoundStatement statement = selectVersion.bind(Objects.requireNonNull(version, "version"))
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM);
    return AsyncPages.first(session.executeAsync(statement), row -> toVersion(row, true));
  }

  /**
   * Every registered version, newest {@code createdAt} first, without model and reference bytes
   * (they are not even read). This scans the whole table, which is fine for a registry of tens to
   * hundreds of versions and would not be for thousands.
   */
  public CompletionStage<List<ModelVersion>> list() {
    BoundStatement statement = selectAllVersions.bind().setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM);
    return AsyncPages.all(session.executeAsync(statement), row -> toVersion(row, false))
        .thenApply(versions -> versions.stream()
            .sorted(Comparator.comparing(ModelVersion::createdAt, Comparator.nullsLast(Comparator.reverseOrder()))
                .thenComparing(ModelVersion::version))
            .toList());
  }

  /**
   * Appends an activation to the scope's log: {@code version} becomes its active version, with
   * the seq after the latest and the latest's version as {@code previousVersion}. Retries when a
   * concurrent activation takes that seq first, and fails with {@link IllegalStateException} if
   * that keeps happening; fails with {@link IllegalArgumentException} when scope, version, action
   * or actor is null or blank. Does not check that the version is registered.
   */
  public CompletionStage<Activation> activate(String scope, String version, String action, String actor,
      String reason, Instant at) {
    Objects.requireNonNull(at, "at");
    String missing = isBlank(scope) ? "scope" : isBlank(version) ? "version" : isBlank(action) ? "action"
        : isBlank(actor) ? "actor" : null;
    if (missing != null) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(missing + " is required"));
    }
    return activate(scope, version, action, actor, reason, at, 1);
  }

  /**
   * The scope's active version: its latest activation, read at serial consistency (an activation
   * in flight is completed or rolled back first), or empty if the scope was never activated.
   */
  public CompletionStage<Optional<Activation>> active(String scope) {
    BoundStatement statement = selectLatestActivation.bind(Objects.requireNonNull(scope, "scope"))
        .setConsistencyLevel(ConsistencyLevel.LOCAL_SERIAL);
    return AsyncPages.first(session.executeAsync(statement), ModelRegistryRepository::toActivation);
  }

  /** The scope's latest {@code limit} activations, newest first. */
  public CompletionStage<List<Activation>> history(String scope, int limit) {
    if (limit < 1) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("limit must be >= 1, was " + limit));
    }
    BoundStatement statement = selectActivations.bind(Objects.requireNonNull(scope, "scope"), limit)
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM);
    return AsyncPages.all(session.executeAsync(statement), ModelRegistryRepository::toActivation);
  }

  private CompletionStage<Activation> activate(String scope, String version, String action, String actor,
      String reason, Instant at, int attempt) {
    return active(scope).thenCompose(latest -> {
      Activation next = new Activation(scope, latest.map(a -> a.seq() + 1).orElse(1L), version,
          latest.map(Activation::version).orElse(null), action, actor, reason, at);
      BoundStatement insert = insertActivation.bind(next.scope(), next.seq(), next.version(), next.previousVersion(),
              next.action(), next.actor(), next.reason(), next.at())
          .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
          .setSerialConsistencyLevel(ConsistencyLevel.LOCAL_SERIAL);
      return session.executeAsync(insert).thenCompose(rs -> {
        if (rs.wasApplied()) {
          return CompletableFuture.completedFuture(next);
        }
        if (attempt >= MAX_ACTIVATE_ATTEMPTS) {
          return CompletableFuture.failedFuture(new IllegalStateException("could not activate " + version
              + " in scope " + scope + ": concurrent activations took the next seq " + attempt + " times"));
        }
        return activate(scope, version, action, actor, reason, at, attempt + 1);
      });
    });
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }

  private static ModelVersion toVersion(Row row, boolean withBlobs) {
    return new ModelVersion(
        row.getString("version"),
        row.getInstant("created_at"),
        row.getString("created_by"),
        row.getString("pipeline_run"),
        row.getString("parent_version"),
        row.getString("git_commit"),
        row.getString("schema_hash"),
        row.getLong("train_from_ms"),
        row.getLong("train_to_ms"),
        row.getLong("holdout_from_ms"),
        row.getLong("holdout_to_ms"),
        row.getLong("train_rows"),
        row.getLong("train_clicks"),
        row.getLong("holdout_rows"),
        row.getLong("holdout_clicks"),
        row.getMap("hyper_params", String.class, String.class),
        row.getMap("metrics", String.class, Double.class),
        withBlobs ? bytes(row.getByteBuffer("reference")) : null,
        withBlobs ? bytes(row.getByteBuffer("model")) : null);
  }

  private static Activation toActivation(Row row) {
    return new Activation(
        row.getString("scope"),
        row.getLong("seq"),
        row.getString("version"),
        row.getString("previous_version"),
        row.getString("action"),
        row.getString("actor"),
        row.getString("reason"),
        row.getInstant("at"));
  }

  /** The buffer's bytes, or null for a null column. */
  private static byte[] bytes(ByteBuffer buffer) {
    if (buffer == null) {
      return null;
    }
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }
}
