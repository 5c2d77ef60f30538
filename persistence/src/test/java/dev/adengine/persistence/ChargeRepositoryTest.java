package dev.adengine.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.persistence.ChargeRepository.Charge;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ChargeRepositoryTest {
  private static CqlSession session;
  private static ChargeRepository charges;

  @BeforeAll
  static void createKeyspace() {
    session = CassandraTestNode.freshKeyspace("charge_repository_test");
    charges = new ChargeRepository(session, CassandraTestNode.keyspaceOf(session));
  }

  @AfterAll
  static void dropKeyspace() {
    CassandraTestNode.dropKeyspace(session);
    session.close();
  }

  @Test
  void shouldSumPerNodeAndPerCampaignWhenChargesAreRecorded() {
    // given charges of two nodes for one campaign's day, and one for another day
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    for (int i = 0; i < 250; i++) {
      writes.add(charges.record(new Charge("c1", "2026-03-01", i % 2 == 0 ? "n1" : "n2", Charge.clickId("e" + i),
          1_000 + i, "CLICK", i)).toCompletableFuture());
    }
    writes.add(charges.record(new Charge("c1", "2026-03-02", "n1", Charge.winId("r1", "a1"), 77, "WIN", 1))
        .toCompletableFuture());
    CompletableFuture.allOf(writes.toArray(new CompletableFuture[0])).join();

    // when / then
    long n1 = 0;
    long n2 = 0;
    for (int i = 0; i < 250; i++) {
      if (i % 2 == 0) {
        n1 += 1_000 + i;
      } else {
        n2 += 1_000 + i;
      }
    }
    assertEquals(n1, Await.result(charges.sumForNode("c1", "2026-03-01", "n1")));
    assertEquals(n2, Await.result(charges.sumForNode("c1", "2026-03-01", "n2")));
    assertEquals(n1 + n2, Await.result(charges.sumForCampaign("c1", "2026-03-01")));
    assertEquals(77L, Await.result(charges.sumForCampaign("c1", "2026-03-02")));
    assertEquals(0L, Await.result(charges.sumForNode("c1", "2026-03-01", "n3")));
  }

  @Test
  void shouldCountAChargeOnceWhenItIsRecordedTwice() {
    Charge c = new Charge("c2", "2026-03-01", "n1", Charge.clickId("dup"), 500, "CLICK", 1);
    Await.result(charges.record(c));
    Await.result(charges.record(c));
    assertEquals(500L, Await.result(charges.sumForCampaign("c2", "2026-03-01")));
  }

  @Test
  void shouldTellWhetherAChargeIsStoredForItsNodeAndDay() {
    Await.result(charges.record(new Charge("c3", "2026-03-01", "n1", Charge.clickId("e1"), 500, "CLICK", 1)));
    assertEquals(true, Await.result(charges.exists("c3", "2026-03-01", "n1", Charge.clickId("e1"))));
    assertEquals(false, Await.result(charges.exists("c3", "2026-03-01", "n1", Charge.clickId("e2"))));
    assertEquals(false, Await.result(charges.exists("c3", "2026-03-01", "n2", Charge.clickId("e1"))));
    assertEquals(false, Await.result(charges.exists("c3", "2026-03-02", "n1", Charge.clickId("e1"))));
  }
}
