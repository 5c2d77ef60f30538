package dev.adengine.persistence;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Versioned experiment configs and their audit log ({@code experiment_configs} table): every
 * version of a named config is kept, immutable, together with the change that produced it (who,
 * what, when).
 *
 * <p>The config itself is opaque here: {@code payload} is the experiments module's {@code
 * ExperimentConfigCodec} bytes (this module depends on the driver only). A version is saved only
 * if it directly follows the latest one and nobody saved it first: a read of the latest version,
 * then {@code INSERT ... IF NOT EXISTS} on (config, version), a lightweight transaction. Of two
 * admins who both change version {@code n}, one saves {@code n + 1} and the other gets {@link
 * SaveResult#saved()} false, reloads and retries.
 *
 * <p>All methods are non-blocking; statements are prepared (blocking) in the constructor.
 */
public final class ExperimentRepository {

  /** Audit actions for the changes the admin API makes; others may be used. */
  public static final String CREATED = "CREATED";
  public static final String STARTED = "STARTED";
  public static final String RAMPED = "RAMPED";
  public static final String RESPLIT = "RESPLIT";
  public static final String STOPPED = "STOPPED";
  public static final String LAYER_ADDED = "LAYER_ADDED";
  public static final String HOLDOUT_SET = "HOLDOUT_SET";

  /**
   * Who changed what: the audit record saved with the version the change produced.
   *
   * @param experimentId the experiment changed, or null for a config-wide change
   * @param fromBasisPoints the allocation before (ramps), or null
   * @param toBasisPoints the allocation after (creations, ramps), or null
   * @param detail free text (a reason, a ticket), or null
   */
  public record Change(String actor, String action, String experimentId, Integer fromBasisPoints,
      Integer toBasisPoints, String detail) {
    public Change {
      if (actor == null || actor.isBlank()) {
        throw new IllegalArgumentException("actor is required");
      }
      if (action == null || action.isBlank()) {
        throw new IllegalArgumentException("action is required");
      }
    }

    public static Change created(String actor, String experimentId, int allocationBasisPoints) {
      return new Change(actor, CREATED, experimentId, null, allocationBasisPoints, null);
    }

    public static Change started(String actor, String experimentId) {
      return new Change(actor, STARTED, experimentId, null, null, null);
    }

    public static Change ramped(String actor, String experimentId, int fromBasisPoints, int toBasisPoints) {
      return new Change(actor, RAMPED, experimentId, fromBasisPoints, toBasisPoints, null);
    }

    public static Change stopped(String actor, String experimentId, String reason) {
      return new Change(actor, STOPPED, experimentId, null, null, reason);
    }

    /** The global holdout's share changed (a config-wide change: no experiment id). */
    public static Change holdoutSet(String actor, int fromBasisPoints, int toBasisPoints, String reason) {
      return new Change(actor, HOLDOUT_SET, null, fromBasisPoints, toBasisPoints, reason);
    }

    public Change withDetail(String newDetail) {
      return new Change(actor, action, experimentId, fromBasisPoints, toBasisPoints, newDetail);
    }
  }

  /** One audit-log entry: the change that produced {@code version}, and when it was saved. */
  public record AuditEntry(long version, Change change, Instant at) {}

  /** One stored version: the config bytes and the change that produced them. */
  public record StoredConfig(String configName, long version, byte[] payload, AuditEntry audit) {
    public StoredConfig {
      payload = payload.clone();
    }

    @Override
    public byte[] payload() {
      return payload.clone();
    }
  }

  /**
   * What {@link #save} did.
   *
   * @param saved true when this call stored the version
   * @param latestVersion the latest stored version after the call (0 when none): the saved one,
   *     or the one a concurrent writer saved first
   */
  public record SaveResult(boolean saved, long latestVersion) {}

  private static final String COLUMNS =
      "version, payload, actor, action, experiment_id, from_bp, to_bp, detail, changed_at";
  private static final String AUDIT_COLUMNS = "version, actor, action, experiment_id, from_bp, to_bp, detail, changed_at";

  private final CqlSession session;
  private final PreparedStatement insert;
  private final PreparedStatement selectLatest;
  private final PreparedStatement selectVersion;
  private final PreparedStatement selectAudit;

  public ExperimentRepository(CqlSession session, String keyspace) {
    this.session = Objects.requireNonNull(session, "session");
    String ks = CassandraSettings.requireValidKeyspace(keyspace);
    insert = session.prepare("INSERT INTO " + ks + ".experiment_configs (config_name, " + COLUMNS
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS");
    selectLatest = session.prepare("SELECT " + COLUMNS + " FROM " + ks
        + ".experiment_configs WHERE config_name = ? LIMIT 1");
    selectVersion = session.prepare("SELECT " + COLUMNS + " FROM " + ks
        + ".experiment_configs WHERE config_name = ? AND version = ?");
    selectAudit = session.prepare("SELECT " + AUDIT_COLUMNS + " FROM " + ks
        + ".experiment_configs WHERE config_name = ? ORDER BY version ASC");
  }

  /**
   * Saves {@code version} of {@code configName} if the latest stored version is {@code version -
   * 1} (none, for version 1) and no one saves {@code version} first.
   */
  public CompletionStage<SaveResult> save(String configName, long version, byte[] payload, Change change,
      Instant at) {
    Objects.requireNonNull(configName, "configName");
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(change, "change");
    Objects.requireNonNull(at, "at");
    if (version < 1) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("versions start at 1, got " + version));
    }
    return latestVersion(configName).thenCompose(latest -> {
      if (latest != version - 1) {
        return CompletableFuture.completedFuture(new SaveResult(false, latest));
      }
      return session.executeAsync(insert.bind(configName, version, ByteBuffer.wrap(payload.clone()), change.actor(),
              change.action(), change.experimentId(), change.fromBasisPoints(), change.toBasisPoints(),
              change.detail(), at)
          .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
          .setSerialConsistencyLevel(ConsistencyLevel.LOCAL_SERIAL))
          .thenApply(rs -> new SaveResult(rs.wasApplied(), version));
    });
  }

  /**
   * The latest version, read at serial consistency (a save in flight is completed or rolled back
   * first), or empty when none was saved.
   */
  public CompletionStage<Optional<StoredConfig>> latest(String configName) {
    return AsyncPages.first(session.executeAsync(selectLatest.bind(configName)
        .setConsistencyLevel(ConsistencyLevel.LOCAL_SERIAL)), row -> toStored(configName, row));
  }

  /** One stored version, or empty. */
  public CompletionStage<Optional<StoredConfig>> version(String configName, long version) {
    return AsyncPages.first(session.executeAsync(selectVersion.bind(configName, version)
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)), row -> toStored(configName, row));
  }

  /** Every change to the config, oldest first. */
  public CompletionStage<List<AuditEntry>> auditLog(String configName) {
    return AsyncPages.all(session.executeAsync(selectAudit.bind(configName)
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)), ExperimentRepository::toAudit);
  }

  /** The changes to one experiment, oldest first. */
  public CompletionStage<List<AuditEntry>> auditLog(String configName, String experimentId) {
    return auditLog(configName).thenApply(entries -> entries.stream()
        .filter(e -> experimentId.equals(e.change().experimentId()))
        .toList());
  }

  private CompletionStage<Long> latestVersion(String configName) {
    return latest(configName).thenApply(stored -> stored.map(StoredConfig::version).orElse(0L));
  }

  private static StoredConfig toStored(String configName, Row row) {
    ByteBuffer buffer = row.getByteBuffer("payload");
    byte[] payload = new byte[buffer == null ? 0 : buffer.remaining()];
    if (buffer != null) {
      buffer.duplicate().get(payload);
    }
    return new StoredConfig(configName, row.getLong("version"), payload, toAudit(row));
  }

  private static AuditEntry toAudit(Row row) {
    return new AuditEntry(row.getLong("version"),
        new Change(row.getString("actor"), row.getString("action"), row.getString("experiment_id"),
            row.isNull("from_bp") ? null : row.getInt("from_bp"),
            row.isNull("to_bp") ? null : row.getInt("to_bp"),
            row.getString("detail")),
        row.getInstant("changed_at"));
  }
}
