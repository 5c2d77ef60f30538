package dev.adengine.persistence;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.persistence.CatalogRepository.CatalogRow;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CatalogRepositoryTest {

  private static final int PAGE_SIZE = 7;

  private static CqlSession session;
  private static CatalogRepository catalog;

  @BeforeAll
  static void createKeyspace() {
    session = CassandraTestNode.freshKeyspace("catalog_repository_test");
    catalog = new CatalogRepository(session, CassandraTestNode.keyspaceOf(session), PAGE_SIZE);
  }

  @AfterAll
  static void dropKeyspace() {
    CassandraTestNode.dropKeyspace(session);
  }

  @Test
  void shouldKeepNewestRevisionWhenOlderRevisionArrivesLast() {
    // given
    Await.result(catalog.upsertCampaign("c-order", "a-1", 5, "v5".getBytes(UTF_8)));

    // when
    Await.result(catalog.upsertCampaign("c-order", "a-0", 3, "v3".getBytes(UTF_8)));

    // then
    CatalogRow stored = Await.result(catalog.findCampaign("c-order")).orElseThrow();
    assertEquals(5, stored.revision());
    assertEquals("a-1", stored.parentId());
    assertArrayEquals("v5".getBytes(UTF_8), stored.payload());
  }

  @Test
  void shouldReplaceAdvertiserWhenNewerRevisionArrives() {
    // given
    Await.result(catalog.upsertAdvertiser("adv-newer", 2, "v2".getBytes(UTF_8)));
    Await.result(catalog.upsertAdvertiser("adv-older-last", 9, "v9".getBytes(UTF_8)));

    // when
    Await.result(catalog.upsertAdvertiser("adv-newer", 4, "v4".getBytes(UTF_8)));
    Await.result(catalog.upsertAdvertiser("adv-older-last", 8, "v8".getBytes(UTF_8)));

    // then
    Map<String, CatalogRow> byId = byId(Await.result(catalog.loadAdvertisers()));
    assertEquals(4, byId.get("adv-newer").revision());
    assertArrayEquals("v4".getBytes(UTF_8), byId.get("adv-newer").payload());
    assertEquals(9, byId.get("adv-older-last").revision());
    assertArrayEquals("v9".getBytes(UTF_8), byId.get("adv-older-last").payload());
    assertNull(byId.get("adv-newer").parentId());
  }

  @Test
  void shouldLoadEveryRowWhenRowsSpanSeveralPages() {
    // given: five pages' worth of campaigns and advertisers
    int rows = PAGE_SIZE * 5 + 3;
    CompletableFuture<?>[] writes =
        IntStream.range(0, rows)
            .mapToObj(
                i ->
                    CompletableFuture.allOf(
                        catalog
                            .upsertCampaign("paged-c-" + i, "paged-a-" + i, i, bytes(i))
                            .toCompletableFuture(),
                        catalog.upsertAdvertiser("paged-a-" + i, i, bytes(i)).toCompletableFuture()))
            .toArray(CompletableFuture[]::new);
    Await.result(CompletableFuture.allOf(writes));

    // when
    List<CatalogRow> campaigns = Await.result(catalog.loadCampaigns());
    List<CatalogRow> advertisers = Await.result(catalog.loadAdvertisers());

    // then
    Map<String, CatalogRow> pagedCampaigns = withPrefix(campaigns, "paged-c-");
    Map<String, CatalogRow> pagedAdvertisers = withPrefix(advertisers, "paged-a-");
    assertEquals(rows, pagedCampaigns.size());
    assertEquals(rows, pagedAdvertisers.size());
    for (int i = 0; i < rows; i++) {
      CatalogRow campaign = pagedCampaigns.get("paged-c-" + i);
      assertEquals("paged-a-" + i, campaign.parentId());
      assertEquals(i, campaign.revision());
      assertArrayEquals(bytes(i), campaign.payload());
    }
  }

  @Test
  void shouldReturnEmptyWhenCampaignUnknown() {
    // given
    String unknown = "never-stored";

    // when
    Optional<CatalogRow> found = Await.result(catalog.findCampaign(unknown));

    // then
    assertTrue(found.isEmpty());
  }

  private static byte[] bytes(int i) {
    return ("payload-" + i).getBytes(UTF_8);
  }

  private static Map<String, CatalogRow> byId(List<CatalogRow> rows) {
    return rows.stream().collect(Collectors.toMap(CatalogRow::id, row -> row));
  }

  private static Map<String, CatalogRow> withPrefix(List<CatalogRow> rows, String prefix) {
    return byId(rows.stream().filter(row -> row.id().startsWith(prefix)).toList());
  }
}
