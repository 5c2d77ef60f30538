package dev.adengine.persistence;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Latest revision of each advertiser and campaign ({@code advertisers}, {@code campaigns}).
 *
 * <p>Every write uses the revision as its Cassandra write timestamp ({@code USING TIMESTAMP}), so
 * whatever order upserts arrive in, the row ends at the highest revision: an older revision
 * arriving last loses. Consequences: revisions must be non-negative and must increase with each
 * change; two writes of the same revision must carry the same payload (Cassandra breaks the tie
 * by comparing values); and nothing else may write these tables with a wall-clock timestamp.
 *
 * <p>All methods are non-blocking; the statements are prepared (blocking) in the constructor,
 * which belongs in start-up wiring.
 */
public final class CatalogRepository {

  /**
   * One stored row.
   *
   * @param id       advertiser id or campaign id
   * @param parentId the campaign's advertiser id; null for advertisers
   * @param revision revision of the aggregate, also the row's write timestamp
   * @param payload  the serialized aggregate
   */
  public record CatalogRow(String id, String parentId, long revision, byte[] payload) {
    public CatalogRow {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(payload, "payload");
    }
  }

  private final CqlSession session;
  private final int pageSize;
  private final PreparedStatement upsertAdvertiser;
  private final PreparedStatement upsertCampaign;
  private final PreparedStatement selectAdvertisers;
  private final PreparedStatement selectCampaigns;
  private final PreparedStatement selectCampaign;

  /** Full-table loads use the driver's configured page size. */
  public CatalogRepository(CqlSession session, String keyspace) {
    this(session, keyspace, 0);
  }

  /**
   * @param pageSize rows per page for {@link #loadAdvertisers()} and {@link #loadCampaigns()};
   *     0 or less uses the driver's configured page size
   */
  public CatalogRepository(CqlSession session, String keyspace, int pageSize) {
    this.session = Objects.requireNonNull(session, "session");
    this.pageSize = pageSize;
    String ks = CassandraSettings.requireValidKeyspace(keyspace);
    upsertAdvertiser =
        session.prepare(
            "INSERT INTO " + ks + ".advertisers (advertiser_id, revision, payload, updated_at)"
                + " VALUES (:id, :revision, :payload, :updated_at) USING TIMESTAMP :ts");
    upsertCampaign =
        session.prepare(
            "INSERT INTO " + ks + ".campaigns"
                + " (campaign_id, advertiser_id, revision, payload, updated_at)"
                + " VALUES (:id, :advertiser_id, :revision, :payload, :updated_at)"
                + " USING TIMESTAMP :ts");
    selectAdvertisers =
        session.prepare("SELECT advertiser_id, revision, payload FROM " + ks + ".advertisers");
    selectCampaigns =
        session.prepare(
            "SELECT campaign_id, advertiser_id, revision, payload FROM " + ks + ".campaigns");
    selectCampaign =
        session.prepare(
            "SELECT campaign_id, advertiser_id, revision, payload FROM " + ks + ".campaigns"
                + " WHERE campaign_id = ?");
  }

  /** Stores {@code revision} of an advertiser unless a higher revision is already stored. */
  public CompletionStage<Void> upsertAdvertiser(
      String advertiserId, long revision, byte[] payload) {
    return write(upsertAdvertiser.bind()
        .setString("id", Objects.requireNonNull(advertiserId, "advertiserId")), revision, payload);
  }

  /** Stores {@code revision} of a campaign unless a higher revision is already stored. */
  public CompletionStage<Void> upsertCampaign(
      String campaignId, String advertiserId, long revision, byte[] payload) {
    return write(upsertCampaign.bind()
        .setString("id", Objects.requireNonNull(campaignId, "campaignId"))
        .setString("advertiser_id", Objects.requireNonNull(advertiserId, "advertiserId")), revision, payload);
  }

  /**
   * Writes a catalog row at its revision, with the revision as the write timestamp: an older
   * revision can never overwrite a newer one, whatever order the writes arrive in.
   */
  private CompletionStage<Void> write(BoundStatement row, long revision, byte[] payload) {
    requireRevision(revision);
    BoundStatement statement = row
        .setLong("revision", revision)
        .setByteBuffer("payload", ByteBuffer.wrap(payload.clone()))
        .setInstant("updated_at", Instant.now())
        .setLong("ts", revision)
        .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
        .setIdempotent(true);
    return session.executeAsync(statement).thenApply(rs -> null);
  }

  /** Every advertiser, read page by page; {@code parentId} is null. */
  public CompletionStage<List<CatalogRow>> loadAdvertisers() {
    return AsyncPages.all(
        session.executeAsync(paged(selectAdvertisers.bind())),
        row ->
            new CatalogRow(
                row.getString("advertiser_id"), null, row.getLong("revision"), bytes(row)));
  }

  /** Every campaign, read page by page; {@code parentId} is the advertiser id. */
  public CompletionStage<List<CatalogRow>> loadCampaigns() {
    return AsyncPages.all(
        session.executeAsync(paged(selectCampaigns.bind())), CatalogRepository::campaignRow);
  }

  /** The campaign, or empty if it was never stored. */
  public CompletionStage<Optional<CatalogRow>> findCampaign(String campaignId) {
    BoundStatement statement =
        selectCampaign
            .bind(Objects.requireNonNull(campaignId, "campaignId"))
            .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM);
    return AsyncPages.first(session.executeAsync(statement), CatalogRepository::campaignRow);
  }

  private BoundStatement paged(BoundStatement statement) {
    BoundStatement withConsistency = statement.setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM);
    return pageSize > 0 ? withConsistency.setPageSize(pageSize) : withConsistency;
  }

  private static CatalogRow campaignRow(Row row) {
    return new CatalogRow(
        row.getString("campaign_id"),
        row.getString("advertiser_id"),
        row.getLong("revision"),
        bytes(row));
  }

  private static byte[] bytes(Row row) {
    ByteBuffer buffer = row.getByteBuffer("payload");
    if (buffer == null) {
      return new byte[0];
    }
    byte[] copy = new byte[buffer.remaining()];
    buffer.duplicate().get(copy);
    return copy;
  }

  private static void requireRevision(long revision) {
    if (revision < 0) {
      throw new IllegalArgumentException("revision must be >= 0, was " + revision);
    }
  }
}
