package dev.adengine.persistence.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import dev.adengine.persistence.CassandraSessions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class DropTestKeyspacesTest {

  @Test
  void shouldDropEveryKeyspaceATestNamedWhetherOrNotItWasCreated() {
    // given a keyspace created with the schema, and one only named (a test that failed before creating it)
    CqlSession made = CassandraTestNode.freshKeyspace("drop_named");
    String created = CassandraTestNode.keyspaceOf(made);
    made.close();
    String named = CassandraTestNode.uniqueKeyspaceName("drop_named_only");
    assertTrue(exists(created), "created");

    // when the test class is over
    List<String> dropped = CassandraTestNode.dropNamedKeyspaces();

    // then both are accounted for, the created one is gone, and a second call has nothing left to do
    assertTrue(dropped.containsAll(List.of(created, named)), dropped.toString());
    assertFalse(exists(created), "still there: " + created);
    assertEquals(List.of(), CassandraTestNode.dropNamedKeyspaces());
  }

  private static boolean exists(String keyspace) {
    try (CqlSession s = CassandraSessions.connect(CassandraTestNode.ensureRunning(), Duration.ofSeconds(30))) {
      return s.getMetadata().getKeyspace(keyspace).isPresent()
          || s.execute("SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = '" + keyspace + "'")
              .one() != null;
    }
  }
}
