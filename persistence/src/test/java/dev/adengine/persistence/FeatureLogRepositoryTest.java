package dev.adengine.persistence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.persistence.FeatureLogRepository.Label;
import dev.adengine.persistence.FeatureLogRepository.LoggedRequest;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each test writes to its own day, so the tests share the keyspace without seeing each other's rows. */
class FeatureLogRepositoryTest {

  private static final long MINUTE_MS = 60_000L;
  private static final int FOURTEEN_DAYS_SECONDS = 1_209_600;

  private static CqlSession session;
  private static FeatureLogRepository log;

  @BeforeAll
  static void createKeyspace() {
    session = CassandraTestNode.freshKeyspace("feature_log_repository_test");
    log = new FeatureLogRepository(session, CassandraTestNode.keyspaceOf(session));
  }

  @AfterAll
  static void dropKeyspace() {
    CassandraTestNode.dropKeyspace(session);
  }

  private static long ms(String instant) {
    return Instant.parse(instant).toEpochMilli();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static LoggedRequest request(String requestId, long servedAtMs) {
    return new LoggedRequest(requestId, servedAtMs, "node-1", "rank-v8", "treatment", "ctr-7", "ctr-8",
        "schema-abc", bytes("ctx:" + requestId), bytes("cands:" + requestId));
  }

  @Test
  void shouldPinBucketsAndHoursWhenComputedFromIdsAndTimes() {
    // given ids whose String.hashCode is known (one negative)
    // when / then: the buckets are the stored partition keys, so they must never change
    assertEquals(2, FeatureLogRepository.bucketOf("req-1"));
    assertEquals(3, FeatureLogRepository.bucketOf("req-2"));
    assertEquals(12, FeatureLogRepository.bucketOf("7f3c9a2e-request"));
    assertEquals(7, FeatureLogRepository.bucketOf("session-9999"));
    assertEquals(0, FeatureLogRepository.bucketOf("polygenelubricants"));
    assertEquals(0L, FeatureLogRepository.hourOf(3_599_999L));
    assertEquals(1L, FeatureLogRepository.hourOf(3_600_000L));
    assertEquals(-1L, FeatureLogRepository.hourOf(-1L));
    assertEquals(491_474L, FeatureLogRepository.hourOf(ms("2026-01-25T02:30:00Z")));
  }

  @Test
  void shouldReturnExactlyTheWindowsRequestsWhenRowsSpanAnHourBoundaryAndManyBuckets() {
    // given 60 requests a minute apart from 10:00 to 10:59 and 60 more from 11:00 to 11:59,
    // spread over the buckets, two of them served in the same millisecond
    List<LoggedRequest> all = new ArrayList<>();
    long start = ms("2026-03-01T10:00:00Z");
    for (int i = 0; i < 120; i++) {
      all.add(request("req-" + i, start + i * MINUTE_MS));
    }
    all.add(new LoggedRequest("req-twin", start + 70 * MINUTE_MS, "node-2", null, null, "ctr-7", null,
        "schema-abc", new byte[0], bytes("only-candidates")));
    all.add(request("req-before", start - 1));
    all.add(request("req-next-day", start + 24 * 60 * MINUTE_MS));
    for (LoggedRequest r : all) {
      Await.result(log.write(r));
    }
    long from = start + 30 * MINUTE_MS + 1;
    long to = start + 90 * MINUTE_MS;

    // when the window 10:30:00.001 .. 11:30 (exclusive) is read
    List<LoggedRequest> read = Await.result(log.read(from, to));

    // then exactly the requests served in the window, in serving order (ties by request id)
    List<LoggedRequest> expected = all.stream()
        .filter(r -> r.servedAtMs() >= from && r.servedAtMs() < to)
        .sorted(Comparator.comparingLong(LoggedRequest::servedAtMs).thenComparing(LoggedRequest::requestId))
        .toList();
    assertEquals(60, expected.size());
    assertEquals("req-31", expected.get(0).requestId());
    assertEquals("req-89", expected.get(59).requestId());
    assertEquals(List.of("req-70", "req-twin"), List.of(expected.get(39).requestId(), expected.get(40).requestId()));
    assertEquals(expected, read);
    Set<Integer> buckets = read.stream().map(r -> FeatureLogRepository.bucketOf(r.requestId()))
        .collect(Collectors.toSet());
    assertTrue(buckets.size() >= 8, "the window's requests fell in only " + buckets + " buckets");
    LoggedRequest twin = read.get(40);
    assertEquals(null, twin.experimentId());
    assertEquals(null, twin.shadowVersion());
    assertArrayEquals(new byte[0], twin.context());
    assertArrayEquals(bytes("only-candidates"), twin.candidates());
  }

  @Test
  void shouldReturnNothingWhenTheWindowIsEmptyOrHoldsNoRequests() {
    // given a request at 08:00 on its own day
    long at = ms("2026-03-02T08:00:00Z");
    Await.result(log.write(request("req-lonely", at)));

    // when windows that do not contain it are read
    List<LoggedRequest> justBefore = Await.result(log.read(at - 3_600_000L, at));
    List<LoggedRequest> justAfter = Await.result(log.read(at + 1, at + 3_600_000L));
    List<LoggedRequest> empty = Await.result(log.read(at, at));

    // then none returns it, and a window of one millisecond does
    assertEquals(List.of(), justBefore);
    assertEquals(List.of(), justAfter);
    assertEquals(List.of(), empty);
    assertEquals(List.of(request("req-lonely", at)), Await.result(log.read(at, at + 1)));
  }

  @Test
  void shouldMergeImpressionAndClickWhenLabelsArriveInEitherOrderAroundTheLogRow() {
    // given two requests served in the same hour
    long servedA = ms("2026-03-03T14:10:00Z");
    long servedB = ms("2026-03-03T14:50:00Z");

    // when request A's impression arrives before its log row and its click after it,
    // and request B's click arrives before its impression, both after its log row
    Await.result(log.markImpression("req-a", "ad-1", servedA, servedA + 100));
    Await.result(log.write(request("req-a", servedA)));
    Await.result(log.markClick("req-a", "ad-1", servedA, servedA + 5_000));
    Await.result(log.markImpression("req-a", "ad-2", servedA, servedA + 120));
    Await.result(log.write(request("req-b", servedB)));
    Await.result(log.markClick("req-b", "ad-9", servedB, servedB + 7_000));
    Await.result(log.markImpression("req-b", "ad-9", servedB, servedB + 200));
    Await.result(log.markClick("req-b", "ad-9", servedB, servedB + 7_000));

    // then each (request, ad) has one label holding both, and both log rows are there
    long hourStart = ms("2026-03-03T14:00:00Z");
    assertEquals(
        List.of(
            new Label("req-a", "ad-1", servedA + 100, servedA + 5_000),
            new Label("req-a", "ad-2", servedA + 120, null),
            new Label("req-b", "ad-9", servedB + 200, servedB + 7_000)),
        Await.result(log.labels(hourStart, hourStart + 3_600_000L)));
    assertEquals(List.of(request("req-a", servedA), request("req-b", servedB)),
        Await.result(log.read(hourStart, hourStart + 3_600_000L)));
    assertEquals(List.of(), Await.result(log.labels(hourStart + 3_600_000L, hourStart + 7_200_000L)));
  }

  @Test
  void shouldExpireLogAndLabelRowsWithinFourteenDaysWhenWritten() {
    // given
    long at = ms("2026-03-04T09:00:00Z");

    // when
    Await.result(log.write(request("req-ttl", at)));
    Await.result(log.markClick("req-ttl", "ad-1", at, at + 1));

    // then
    long hour = FeatureLogRepository.hourOf(at);
    int bucket = FeatureLogRepository.bucketOf("req-ttl");
    int logTtl = session.execute("SELECT TTL(node) AS ttl FROM feature_log WHERE hour = ? AND bucket = ?"
        + " AND request_id = 'req-ttl'", hour, bucket).one().getInt("ttl");
    int labelTtl = session.execute("SELECT TTL(click_at_ms) AS ttl FROM feature_log_labels WHERE hour = ?"
        + " AND bucket = ? AND request_id = 'req-ttl' AND ad_id = 'ad-1'", hour, bucket).one().getInt("ttl");
    assertTrue(logTtl > FOURTEEN_DAYS_SECONDS - 600 && logTtl <= FOURTEEN_DAYS_SECONDS, "ttl was " + logTtl);
    assertTrue(labelTtl > FOURTEEN_DAYS_SECONDS - 600 && labelTtl <= FOURTEEN_DAYS_SECONDS, "ttl was " + labelTtl);
  }

  @Test
  void shouldFailWhenTheWindowEndsBeforeItStarts() {
    // given
    long from = ms("2026-03-05T10:00:00Z");

    // when
    CompletionException error = assertThrows(CompletionException.class,
        () -> log.read(from, from - 1).toCompletableFuture().join());

    // then
    assertTrue(error.getCause() instanceof IllegalArgumentException, error.toString());
  }
}
