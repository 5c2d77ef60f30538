package dev.adengine.persistence;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * The durable charge log ({@code charges} table): one idempotent row per billable charge, booked
 * against the node whose allowance paid for it. It is what a campaign entity settles a silent
 * node's grant from, and what billing is reconciled against.
 *
 * <p>All methods are non-blocking; statements are prepared (blocking) in the constructor.
 */
public final class ChargeRepository {

  /** One charge. {@code day} is the campaign's budget day of the win; money is integer micros. */
  public record Charge(String campaignId, String day, String node, String chargeId, long amountMicros, String kind,
      long atMs) {
    public Charge {
      Objects.requireNonNull(campaignId, "campaignId");
      Objects.requireNonNull(day, "day");
      Objects.requireNonNull(node, "node");
      Objects.requireNonNull(chargeId, "chargeId");
      if (amountMicros < 0) {
        throw new IllegalArgumentException("negative charge " + amountMicros);
      }
    }

    public static String winId(String requestId, String adId) {
      return "win:" + requestId + ":" + adId;
    }

    public static String clickId(String eventId) {
      return "click:" + eventId;
    }
  }

  private final CqlSession session;
  private final PreparedStatement insert;
  private final PreparedStatement sumNode;
  private final PreparedStatement sumCampaign;
  private final PreparedStatement find;

  public ChargeRepository(CqlSession session, String keyspace) {
    this.session = Objects.requireNonNull(session, "session");
    String ks = CassandraSettings.requireValidKeyspace(keyspace);
    insert = session.prepare("INSERT INTO " + ks + ".charges (campaign_id, day, node, charge_id, amount_micros, kind,"
        + " at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
    sumNode = session.prepare("SELECT sum(amount_micros) AS total FROM " + ks
        + ".charges WHERE campaign_id = ? AND day = ? AND node = ?");
    sumCampaign = session.prepare("SELECT sum(amount_micros) AS total FROM " + ks
        + ".charges WHERE campaign_id = ? AND day = ?");
    find = session.prepare("SELECT amount_micros FROM " + ks
        + ".charges WHERE campaign_id = ? AND day = ? AND node = ? AND charge_id = ?");
  }

  /** Stores the charge; storing the same charge again changes nothing. */
  public CompletionStage<Void> record(Charge c) {
    return session.executeAsync(statement(c)).thenApply(rs -> null);
  }

  /** The statement that stores the charge (idempotent), for a {@link StatementBatcher}. */
  public BoundStatement statement(Charge c) {
    return insert.bind(c.campaignId(), c.day(), c.node(), c.chargeId(), c.amountMicros(), c.kind(), c.atMs())
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
        .setIdempotent(true);
  }

  /** Whether the charge is stored (booked against {@code node} for the campaign's day). */
  public CompletionStage<Boolean> exists(String campaignId, String day, String node, String chargeId) {
    return session.executeAsync(find.bind(campaignId, day, node, chargeId)
            .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM))
        .thenApply(rs -> rs.one() != null);
  }

  /** What the node's charges for the campaign's day add up to. */
  public CompletionStage<Long> sumForNode(String campaignId, String day, String node) {
    return session.executeAsync(sumNode.bind(campaignId, day, node).setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM))
        .thenApply(rs -> total(rs.one()));
  }

  /** What all charges for the campaign's day add up to. */
  public CompletionStage<Long> sumForCampaign(String campaignId, String day) {
    return session.executeAsync(sumCampaign.bind(campaignId, day).setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM))
        .thenApply(rs -> total(rs.one()));
  }

  private static long total(Row row) {
    return row == null || row.isNull("total") ? 0L : row.getLong("total");
  }
}
