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
 * What was served for a request ({@code served} table), so that a later event can be priced
 * against the ad it refers to. Rows expire after the table's default TTL (two days).
 *
 * <p>All methods are non-blocking; the statements are prepared (blocking) in the constructor,
 * which belongs in start-up wiring.
 */
public final class ServedRepository {

  /**
   * One served ad of one request; {@code day} is the campaign's budget day of the win. Money is
   * integer micros. {@code experimentArms}: the experiment arms the request's user was in, as
   * comma-separated {@code experiment/arm} pairs, or null for none.
   */
  public record ServedAd(
      String requestId,
      String adId,
      String campaignId,
      String advertiserId,
      String pricing,
      long priceMicros,
      String node,
      long servedAtMs,
      String day,
      String experimentArms) {
    public ServedAd {
      Objects.requireNonNull(requestId, "requestId");
      Objects.requireNonNull(adId, "adId");
      if (experimentArms != null && experimentArms.isEmpty()) {
        experimentArms = null;
      }
    }

    /** A served ad whose user was in no experiment. */
    public ServedAd(String requestId, String adId, String campaignId, String advertiserId, String pricing,
        long priceMicros, String node, long servedAtMs, String day) {
      this(requestId, adId, campaignId, advertiserId, pricing, priceMicros, node, servedAtMs, day, null);
    }
  }

  private final CqlSession session;
  private final PreparedStatement insert;
  private final PreparedStatement select;

  public ServedRepository(CqlSession session, String keyspace) {
    this.session = Objects.requireNonNull(session, "session");
    String ks = CassandraSettings.requireValidKeyspace(keyspace);
    insert =
        session.prepare(
            "INSERT INTO " + ks + ".served (request_id, ad_id, campaign_id, advertiser_id,"
                + " pricing, price_micros, node, served_at_ms, day, experiment_arms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    select =
        session.prepare(
            "SELECT request_id, ad_id, campaign_id, advertiser_id, pricing, price_micros, node,"
                + " served_at_ms, day, experiment_arms FROM " + ks + ".served WHERE request_id = ? AND ad_id = ?");
  }

  /** Stores (or overwrites) the served ad. */
  public CompletionStage<Void> record(ServedAd served) {
    return session.executeAsync(bound(served)).thenApply(rs -> null);
  }

  /** The statement that stores (or overwrites) the served ad, for a {@link StatementBatcher}. */
  public BoundStatement statement(ServedAd served) {
    return bound(served);
  }

  private BoundStatement bound(ServedAd served) {
    return insert
        .bind(
            served.requestId(),
            served.adId(),
            served.campaignId(),
            served.advertiserId(),
            served.pricing(),
            served.priceMicros(),
            served.node(),
            served.servedAtMs(),
            served.day(),
            served.experimentArms())
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
        .setIdempotent(true);
  }

  /** The served ad, or empty if unknown or expired. */
  public CompletionStage<Optional<ServedAd>> find(String requestId, String adId) {
    BoundStatement statement =
        select
            .bind(Objects.requireNonNull(requestId, "requestId"), Objects.requireNonNull(adId, "adId"))
            .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM);
    return AsyncPages.first(session.executeAsync(statement), ServedRepository::toServed);
  }

  private static ServedAd toServed(Row row) {
    return new ServedAd(
        row.getString("request_id"),
        row.getString("ad_id"),
        row.getString("campaign_id"),
        row.getString("advertiser_id"),
        row.getString("pricing"),
        row.getLong("price_micros"),
        row.getString("node"),
        row.getLong("served_at_ms"),
        row.getString("day"),
        row.getString("experiment_arms"));
  }
}
