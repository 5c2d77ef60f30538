package dev.adengine.engine.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import dev.adengine.engine.events.ClickCharges;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.persistence.ChargeRepository;
import dev.adengine.persistence.ChargeRepository.Charge;
import dev.adengine.persistence.EventRepository;
import dev.adengine.persistence.EventRepository.StoredEvent;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A serving node's uncommitted click claims, settled at the end of their window against the real
 * charge log and events table ({@link ClickCharges}): a click whose event was stored is spend even
 * when its charge row was never written (the row is written then); only a click never stored as a
 * charged click is released.
 */
class ExpiredClaimChargeTest {
  private static final String NODE = "node-serving#1";
  private static final String CAMPAIGN = "c-expired";
  private static final String DAY = "2026-11-30";
  private static CqlSession session;
  private static String keyspace;
  private static EventRepository events;
  private static ChargeRepository charges;

  @BeforeAll
  static void keyspace() {
    session = CassandraTestNode.freshKeyspace("expired_claims");
    keyspace = CassandraTestNode.keyspaceOf(session);
    events = new EventRepository(session, keyspace);
    charges = new ChargeRepository(session, keyspace);
  }

  @AfterAll
  static void drop() {
    CassandraTestNode.dropKeyspace(session);
    session.close();
  }

  @Test
  void shouldBookAStoredClickAsSpendAndWriteItsMissingChargeWhenItsClaimExpires() throws Exception {
    // given four claimed reservations of this serving node
    BudgetLedger ledger = new BudgetLedger(System::currentTimeMillis,
        new ClickCharges(events, charges, NODE, System::currentTimeMillis));
    ledger.applyGrant(CAMPAIGN, DAY, 10_000);
    String[] ids = {"e-stored-no-charge", "e-charged", "e-never-stored", "e-stored-as-impression"};
    long[] prices = {100, 200, 400, 800};
    for (int i = 0; i < ids.length; i++) {
      assertTrue(ledger.reserveClick(CAMPAIGN, "r" + i, "ad", prices[i], 5_000));
      assertEquals(BudgetLedger.Conversion.CONVERTED, ledger.claimClick("r" + i, "ad", ids[i]));
    }
    // the first click stored, its charge row not written (the ingesting node failed between the two)
    assertTrue(events.insertIfAbsent(new StoredEvent(ids[0], "r0", "ad", CAMPAIGN, "CLICK", 1, 100, "node-other#2"))
        .toCompletableFuture().get());
    // the second stored and charged, its commit lost
    assertTrue(events.insertIfAbsent(new StoredEvent(ids[1], "r1", "ad", CAMPAIGN, "CLICK", 1, 200, "node-other#2"))
        .toCompletableFuture().get());
    charges.record(new Charge(CAMPAIGN, DAY, NODE, Charge.clickId(ids[1]), 200, "CLICK", 1)).toCompletableFuture().get();
    // the third never stored; the fourth's id stored, but as an impression (nothing to charge)
    assertTrue(events.insertIfAbsent(new StoredEvent(ids[3], "r3", "ad", CAMPAIGN, "IMPRESSION", 1, 0, "node-other#2"))
        .toCompletableFuture().get());
    assertEquals(1_500, ledger.get(CAMPAIGN).totals().reserved());

    // when their windows end
    ledger.expireReservations(5_000);

    // then the two stored clicks are spend, the others released
    EngineTestSupport.awaitAssert(Duration.ofSeconds(20), () -> {
      ledger.expireReservations(5_001);
      assertEquals(0, ledger.unresolvedClaims());
      assertEquals(300, ledger.get(CAMPAIGN).totals().spent());
      assertEquals(0, ledger.get(CAMPAIGN).totals().reserved());
    });
    // and the first click's charge row is written, booked against the serving node at its price
    Row row = session.execute(SimpleStatement.newInstance("SELECT node, amount_micros, kind FROM " + keyspace
        + ".charges WHERE campaign_id = ? AND day = ? AND node = ? AND charge_id = ?", CAMPAIGN, DAY, NODE,
        Charge.clickId(ids[0]))).one();
    assertEquals(100, row.getLong("amount_micros"));
    assertEquals("CLICK", row.getString("kind"));
    for (String none : new String[] {ids[2], ids[3]}) {
      assertNull(session.execute(SimpleStatement.newInstance("SELECT amount_micros FROM " + keyspace
          + ".charges WHERE campaign_id = ? AND day = ? AND node = ? AND charge_id = ?", CAMPAIGN, DAY, NODE,
          Charge.clickId(none))).one(), none);
    }
    assertEquals(300, (long) charges.sumForCampaign(CAMPAIGN, DAY).toCompletableFuture().get());
  }
}
