package dev.adengine.persistence;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The feature log ({@code feature_log} table) and its labels ({@code feature_log_labels}): what
 * the ranker saw and scored for each request, and whether its ads were then shown and clicked.
 * The retraining pipeline reads a time window of both and joins them by (request, ad).
 *
 * <p>Both tables are partitioned by (hour, bucket): the serving hour of the request ({@link
 * #hourOf(long)} of its {@code servedAtMs}) and {@link #bucketOf(String)} of its id, so an hour of
 * traffic is spread over {@link #BUCKETS} partitions and a window is read partition by partition.
 * A label is keyed by the <em>serving</em> time of its request, not by the time of the impression
 * or click, which is why {@link #markImpression} and {@link #markClick} take {@code servedAtMs}:
 * label and log row then share a partition, whichever is written first.
 *
 * <p>Consistency: log rows are written at {@code LOCAL_ONE}. They are high volume, and a lost row
 * only drops one sample (the writer upstream counts what it failed to log). Labels are written at
 * {@code LOCAL_QUORUM}: a lost click would not drop a sample but turn a positive into a negative,
 * biasing the next model. Reads are {@code LOCAL_QUORUM}, like the other repositories.
 *
 * <p>{@link #read} and {@link #labels} return whole windows in memory: sized for training windows
 * of the current traffic, not for unbounded history.
 *
 * <p>All methods are non-blocking; statements are prepared (blocking) in the constructor.
 */
public final class FeatureLogRepository {

  /**
   * Partitions per hour. Part of the stored key: changing it makes the rows already written
   * unreachable by {@link #read}, so it needs a migration, not an edit.
   */
  public static final int BUCKETS = 16;

  private static final long HOUR_MS = 3_600_000L;

  /** Partition queries in flight at once for a window read (a day is 24 * 16 partitions). */
  private static final int MAX_OUTSTANDING = 8;

  /**
   * Log rows carry every candidate's features (about 16 KB with 50 candidates): pages of 100 rows
   * (~1.6 MB), not the driver's 5,000, each allowed {@link #READ_TIMEOUT} (a training run reads
   * while the node serves; the driver's 2 s default timed out under the demo's load).
   */
  private static final int LOG_PAGE_SIZE = 100;
  private static final java.time.Duration READ_TIMEOUT = java.time.Duration.ofSeconds(15);

  /**
   * One logged request. {@code experimentId}, {@code arm} and {@code shadowVersion} are null when
   * the request was in no experiment or no shadow model ran. {@code context} and {@code
   * candidates} are the engine's encodings, opaque here; they are copied in and out, and two
   * requests are equal when their bytes are.
   */
  public record LoggedRequest(
      String requestId,
      long servedAtMs,
      String node,
      String experimentId,
      String arm,
      String modelVersion,
      String shadowVersion,
      String schemaHash,
      byte[] context,
      byte[] candidates) {
    public LoggedRequest {
      Objects.requireNonNull(requestId, "requestId");
      context = Objects.requireNonNull(context, "context").clone();
      candidates = Objects.requireNonNull(candidates, "candidates").clone();
    }

    @Override
    public byte[] context() {
      return context.clone();
    }

    @Override
    public byte[] candidates() {
      return candidates.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof LoggedRequest r
          && servedAtMs == r.servedAtMs
          && requestId.equals(r.requestId)
          && Objects.equals(node, r.node)
          && Objects.equals(experimentId, r.experimentId)
          && Objects.equals(arm, r.arm)
          && Objects.equals(modelVersion, r.modelVersion)
          && Objects.equals(shadowVersion, r.shadowVersion)
          && Objects.equals(schemaHash, r.schemaHash)
          && Arrays.equals(context, r.context)
          && Arrays.equals(candidates, r.candidates);
    }

    @Override
    public int hashCode() {
      return Objects.hash(requestId, servedAtMs, node, experimentId, arm, modelVersion, shadowVersion, schemaHash,
          Arrays.hashCode(context), Arrays.hashCode(candidates));
    }

    @Override
    public String toString() {
      return "LoggedRequest[requestId=" + requestId + ", servedAtMs=" + servedAtMs + ", node=" + node
          + ", experimentId=" + experimentId + ", arm=" + arm + ", modelVersion=" + modelVersion
          + ", shadowVersion=" + shadowVersion + ", schemaHash=" + schemaHash + ", context=" + context.length
          + " bytes, candidates=" + candidates.length + " bytes]";
    }
  }

  /**
   * What happened to one ad of a logged request: when it was shown and when clicked, each null
   * until it happens. The label row stores no serving time of its own (its partition gives only
   * the hour), so a label carries none; join it to its {@link LoggedRequest} by {@code requestId}.
   */
  public record Label(String requestId, String adId, Long impressionAtMs, Long clickAtMs) {
    public Label {
      Objects.requireNonNull(requestId, "requestId");
      Objects.requireNonNull(adId, "adId");
    }
  }

  private record Partition(long hour, int bucket) {}

  private static final String LOG_COLUMNS = "request_id, served_at_ms, node, experiment_id, arm, model_version,"
      + " shadow_version, schema_hash, context, candidates";

  private final CqlSession session;
  private final PreparedStatement insert;
  private final PreparedStatement setImpression;
  private final PreparedStatement setClick;
  private final PreparedStatement selectLog;
  private final PreparedStatement selectLabels;

  public FeatureLogRepository(CqlSession session, String keyspace) {
    this.session = Objects.requireNonNull(session, "session");
    String ks = CassandraSettings.requireValidKeyspace(keyspace);
    insert = session.prepare("INSERT INTO " + ks + ".feature_log (hour, bucket, " + LOG_COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    setImpression = session.prepare("UPDATE " + ks + ".feature_log_labels SET impression_at_ms = ?"
        + " WHERE hour = ? AND bucket = ? AND request_id = ? AND ad_id = ?");
    setClick = session.prepare("UPDATE " + ks + ".feature_log_labels SET click_at_ms = ?"
        + " WHERE hour = ? AND bucket = ? AND request_id = ? AND ad_id = ?");
    selectLog = session.prepare("SELECT " + LOG_COLUMNS + " FROM " + ks
        + ".feature_log WHERE hour = ? AND bucket = ?");
    selectLabels = session.prepare("SELECT request_id, ad_id, impression_at_ms, click_at_ms FROM " + ks
        + ".feature_log_labels WHERE hour = ? AND bucket = ?");
  }

  /**
   * The bucket of a request: {@code String.hashCode} is specified by the JLS, so every node and
   * every JVM version computes the same bucket for the same id.
   */
  public static int bucketOf(String requestId) {
    return Math.floorMod(requestId.hashCode(), BUCKETS);
  }

  /** The hour an epoch-millisecond instant falls in: hours since the epoch. */
  public static long hourOf(long epochMs) {
    return Math.floorDiv(epochMs, HOUR_MS);
  }

  /**
   * Stores the request in the partition of its serving hour and bucket. Writing it again
   * overwrites it; a null optional column is left unset rather than written as a tombstone, so
   * it does not clear a value written before.
   */
  public CompletionStage<Void> write(LoggedRequest r) {
    BoundStatementBuilder b = insert.boundStatementBuilder()
        .setLong(0, hourOf(r.servedAtMs()))
        .setInt(1, bucketOf(r.requestId()))
        .setString(2, r.requestId())
        .setLong(3, r.servedAtMs())
        .setByteBuffer(10, ByteBuffer.wrap(r.context()))
        .setByteBuffer(11, ByteBuffer.wrap(r.candidates()));
    setIfPresent(b, 4, r.node());
    setIfPresent(b, 5, r.experimentId());
    setIfPresent(b, 6, r.arm());
    setIfPresent(b, 7, r.modelVersion());
    setIfPresent(b, 8, r.shadowVersion());
    setIfPresent(b, 9, r.schemaHash());
    BoundStatement statement = b.setConsistencyLevel(ConsistencyLevel.LOCAL_ONE).setIdempotence(true).build();
    return session.executeAsync(statement).thenApply(rs -> null);
  }

  /**
   * Records that {@code adId} of the request served at {@code servedAtMs} was shown at {@code
   * atMs}. Sets only the impression column, so it merges with a click written before or after it.
   */
  public CompletionStage<Void> markImpression(String requestId, String adId, long servedAtMs, long atMs) {
    return mark(setImpression, requestId, adId, servedAtMs, atMs);
  }

  /**
   * Records that {@code adId} of the request served at {@code servedAtMs} was clicked at {@code
   * atMs}. Sets only the click column, so it merges with an impression written before or after it.
   */
  public CompletionStage<Void> markClick(String requestId, String adId, long servedAtMs, long atMs) {
    return mark(setClick, requestId, adId, servedAtMs, atMs);
  }

  /**
   * Every request served in {@code [fromMs, toMs)}, ordered by serving time, then request id. Reads
   * every bucket of every hour the window touches, at most 8 partitions at a time, and drops the
   * rows of the first and last hour that fall outside the window.
   */
  public CompletionStage<List<LoggedRequest>> read(long fromMs, long toMs) {
    return window(fromMs, toMs, selectLog, LOG_PAGE_SIZE, FeatureLogRepository::toLogged)
        .thenApply(rows -> rows.stream()
            .filter(r -> r.servedAtMs() >= fromMs && r.servedAtMs() < toMs)
            .sorted(Comparator.comparingLong(LoggedRequest::servedAtMs).thenComparing(LoggedRequest::requestId))
            .toList());
  }

  /**
   * The labels of the partitions {@link #read} reads for the same window, ordered by request id,
   * then ad id. Label rows store no serving time, so this cannot cut at {@code fromMs} and {@code
   * toMs} within an hour: for a window that does not start and end on whole hours it also returns
   * labels of requests just outside it, which a join with {@link #read}'s requests drops.
   */
  public CompletionStage<List<Label>> labels(long fromMs, long toMs) {
    return window(fromMs, toMs, selectLabels, 0, FeatureLogRepository::toLabel)
        .thenApply(rows -> rows.stream()
            .sorted(Comparator.comparing(Label::requestId).thenComparing(Label::adId))
            .toList());
  }

  private CompletionStage<Void> mark(PreparedStatement update, String requestId, String adId, long servedAtMs,
      long atMs) {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(adId, "adId");
    BoundStatement statement = update.bind(atMs, hourOf(servedAtMs), bucketOf(requestId), requestId, adId)
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
        .setIdempotent(true);
    return session.executeAsync(statement).thenApply(rs -> null);
  }

  /** The rows of every (hour, bucket) partition of the hours {@code [fromMs, toMs)} touches. */
  private <T> CompletionStage<List<T>> window(long fromMs, long toMs, PreparedStatement select, int pageSize,
      Function<Row, T> mapper) {
    if (toMs < fromMs) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException("toMs " + toMs + " is before fromMs " + fromMs));
    }
    if (toMs == fromMs) {
      return CompletableFuture.completedFuture(List.of());
    }
    List<Partition> partitions = new ArrayList<>();
    for (long hour = hourOf(fromMs); hour <= hourOf(toMs - 1); hour++) {
      for (int bucket = 0; bucket < BUCKETS; bucket++) {
        partitions.add(new Partition(hour, bucket));
      }
    }
    return AsyncPages.concatBounded(partitions, MAX_OUTSTANDING, p -> {
      BoundStatement statement = select.bind(p.hour(), p.bucket())
          .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
          .setTimeout(READ_TIMEOUT);
      if (pageSize > 0) {
        statement = statement.setPageSize(pageSize);
      }
      return AsyncPages.all(session.executeAsync(statement), mapper);
    });
  }

  private static void setIfPresent(BoundStatementBuilder b, int index, String value) {
    if (value != null) {
      b.setString(index, value);
    }
  }

  private static LoggedRequest toLogged(Row row) {
    return new LoggedRequest(
        row.getString("request_id"),
        row.getLong("served_at_ms"),
        row.getString("node"),
        row.getString("experiment_id"),
        row.getString("arm"),
        row.getString("model_version"),
        row.getString("shadow_version"),
        row.getString("schema_hash"),
        bytes(row.getByteBuffer("context")),
        bytes(row.getByteBuffer("candidates")));
  }

  private static Label toLabel(Row row) {
    return new Label(
        row.getString("request_id"),
        row.getString("ad_id"),
        row.isNull("impression_at_ms") ? null : row.getLong("impression_at_ms"),
        row.isNull("click_at_ms") ? null : row.getLong("click_at_ms"));
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer == null ? 0 : buffer.remaining()];
    if (buffer != null) {
      buffer.duplicate().get(bytes);
    }
    return bytes;
  }
}
