package dev.adengine.persistence;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Tracking events, stored once per {@code event_id} ({@code events} table).
 *
 * <p>{@link #insertIfAbsent(StoredEvent)} is a lightweight transaction ({@code INSERT ... IF NOT
 * EXISTS}): of any number of concurrent inserts of one event id, exactly one returns true. The
 * Paxos phase runs at {@code LOCAL_SERIAL} by default, which is correct for one node and for one
 * datacenter of many; pass {@code SERIAL} to serialise across datacenters.
 *
 * <p>If the stage fails with a write timeout the outcome is unknown: the insert may have
 * landed. Retrying is safe, but a retry that returns false cannot tell a real duplicate from the
 * earlier attempt having succeeded; compare {@link #find(String)} with what was sent if that
 * matters.
 *
 * <p>All methods are non-blocking; the statements are prepared (blocking) in the constructor,
 * which belongs in start-up wiring.
 */
public final class EventRepository {

  /** One tracking event as stored. */
  public record StoredEvent(
      String eventId,
      String requestId,
      String adId,
      String campaignId,
      String type,
      long timeMs,
      long chargedMicros,
      String node) {
    public StoredEvent {
      Objects.requireNonNull(eventId, "eventId");
    }
  }

  private final CqlSession session;
  private final ConsistencyLevel serialConsistency;
  private final PreparedStatement insert;
  private final PreparedStatement select;

  /** Uses {@code LOCAL_SERIAL} for the lightweight transaction. */
  public EventRepository(CqlSession session, String keyspace) {
    this(session, keyspace, ConsistencyLevel.LOCAL_SERIAL);
  }

  /**
   * @param serialConsistency {@code LOCAL_SERIAL} or {@code SERIAL}
   */
  public EventRepository(CqlSession session, String keyspace, ConsistencyLevel serialConsistency) {
    if (!serialConsistency.isSerial()) {
      throw new IllegalArgumentException(
          "serialConsistency must be SERIAL or LOCAL_SERIAL, was " + serialConsistency);
    }
    this.session = Objects.requireNonNull(session, "session");
    this.serialConsistency = serialConsistency;
    String ks = CassandraSettings.requireValidKeyspace(keyspace);
    insert =
        session.prepare(
            "INSERT INTO " + ks + ".events (event_id, request_id, ad_id, campaign_id, type,"
                + " time_ms, charged_micros, node, accepted_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, toTimestamp(now())) IF NOT EXISTS");
    select =
        session.prepare(
            "SELECT event_id, request_id, ad_id, campaign_id, type, time_ms, charged_micros, node"
                + " FROM " + ks + ".events WHERE event_id = ?");
  }

  /** True if this call stored the event, false if an event with its id was already stored. */
  public CompletionStage<Boolean> insertIfAbsent(StoredEvent event) {
    BoundStatement statement =
        insert
            .bind(
                event.eventId(),
                event.requestId(),
                event.adId(),
                event.campaignId(),
                event.type(),
                event.timeMs(),
                event.chargedMicros(),
                event.node())
            .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
            .setSerialConsistencyLevel(serialConsistency);
    return session.executeAsync(statement).thenApply(result -> result.wasApplied());
  }

  /** The stored event, or empty. */
  public CompletionStage<Optional<StoredEvent>> find(String eventId) {
    BoundStatement statement =
        select
            .bind(Objects.requireNonNull(eventId, "eventId"))
            .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM);
    return AsyncPages.first(session.executeAsync(statement), EventRepository::toEvent);
  }

  /**
   * The stored event, or empty, read at the serial consistency level: it completes any insert of
   * this id still in its Paxos round, so an empty answer means that no insert whose outcome was
   * unknown (a write timeout) can land later. For deciding whether an event was stored, not for
   * the hot path (it costs a Paxos round).
   */
  public CompletionStage<Optional<StoredEvent>> findSerial(String eventId) {
    BoundStatement statement =
        select
            .bind(Objects.requireNonNull(eventId, "eventId"))
            .setConsistencyLevel(serialConsistency);
    return AsyncPages.first(session.executeAsync(statement), EventRepository::toEvent);
  }

  private static StoredEvent toEvent(Row row) {
    return new StoredEvent(
        row.getString("event_id"),
        row.getString("request_id"),
        row.getString("ad_id"),
        row.getString("campaign_id"),
        row.getString("type"),
        row.getLong("time_ms"),
        row.getLong("charged_micros"),
        row.getString("node"));
  }
}
