package dev.adengine.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.persistence.ServedRepository.ServedAd;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ServedRepositoryTest {

  private static final int TWO_DAYS_SECONDS = 172_800;

  private static CqlSession session;
  private static ServedRepository served;

  @BeforeAll
  static void createKeyspace() {
    session = CassandraTestNode.freshKeyspace("served_repository_test");
    served = new ServedRepository(session, CassandraTestNode.keyspaceOf(session));
  }

  @AfterAll
  static void dropKeyspace() {
    CassandraTestNode.dropKeyspace(session);
  }

  @Test
  void shouldReadBackServedAdWhenRecorded() {
    // given
    ServedAd ad = new ServedAd("req-42", "ad-7", "camp-3", "adv-1", "CPC", 350_000, "node-2", 1_767_225_600_123L, "2026-01-01");
    ServedAd sibling = new ServedAd("req-42", "ad-8", "camp-4", "adv-1", "CPM", 2_000, "node-2", 1_767_225_600_124L, "2026-01-01",
        "ranking-v7/treatment,auction/control");

    // when
    Await.result(served.record(ad));
    Await.result(served.record(sibling));

    // then
    assertEquals(Optional.of(ad), Await.result(served.find("req-42", "ad-7")));
    assertEquals(Optional.of(sibling), Await.result(served.find("req-42", "ad-8")));
  }

  @Test
  void shouldReadBackEveryAdOfARequestWhenItsStatementsAreBatchedWithAnotherRequests() {
    // given the ads of two requests, as the serving node writes them (StatementBatcher)
    List<ServedAd> ads = List.of(
        new ServedAd("req-batch", "ad-1", "camp-1", "adv-1", "CPC", 410_000, "node-1", 1_767_225_600_200L, "2026-01-01"),
        new ServedAd("req-batch", "ad-2", "camp-2", "adv-2", "CPM", 3_000, "node-1", 1_767_225_600_200L, "2026-01-01",
            "ranking-v7/control"),
        new ServedAd("req-other", "ad-3", "camp-3", "adv-1", "CPC", 90_000, "node-1", 1_767_225_600_201L, "2026-01-01"));
    StatementBatcher batcher = new StatementBatcher(session, Duration.ofMillis(5), 10, ConsistencyLevel.LOCAL_QUORUM);

    // when they go in one batch
    Await.result(batcher.add(ads.stream().map(served::statement).toList()));

    // then each reads back, with the table's two-day TTL
    for (ServedAd ad : ads) {
      assertEquals(Optional.of(ad), Await.result(served.find(ad.requestId(), ad.adId())));
    }
    int ttl = session.execute("SELECT TTL(price_micros) AS ttl FROM served WHERE request_id = 'req-other' AND ad_id = 'ad-3'")
        .one().getInt("ttl");
    assertTrue(ttl > TWO_DAYS_SECONDS - 600 && ttl <= TWO_DAYS_SECONDS, "ttl was " + ttl);
  }

  @Test
  void shouldExpireServedAdWithinTwoDaysWhenRecorded() {
    // given
    ServedAd ad = new ServedAd("req-ttl", "ad-1", "camp-1", "adv-1", "CPC", 1, "node-1", 1L, "1970-01-01");

    // when
    Await.result(served.record(ad));

    // then
    int ttl =
        session
            .execute("SELECT TTL(campaign_id) AS ttl FROM served WHERE request_id = 'req-ttl' AND ad_id = 'ad-1'")
            .one()
            .getInt("ttl");
    assertTrue(ttl > TWO_DAYS_SECONDS - 600 && ttl <= TWO_DAYS_SECONDS, "ttl was " + ttl);
  }

  @Test
  void shouldReturnEmptyWhenNothingServedForRequest() {
    // given
    String unknownRequest = "req-unknown";

    // when
    Optional<ServedAd> found = Await.result(served.find(unknownRequest, "ad-1"));

    // then
    assertTrue(found.isEmpty());
  }
}
