package dev.adengine.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import dev.adengine.persistence.Migrations.Migration;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each test migrates its own new keyspace, dropped afterwards. */
class MigrationsTest {

  private static CqlSession session;
  private final List<String> keyspaces = new ArrayList<>();

  @BeforeAll
  static void connect() {
    session = CassandraTestNode.connect();
  }

  @AfterAll
  static void close() {
    session.close();
  }

  @AfterEach
  void dropKeyspaces() {
    keyspaces.forEach(keyspace -> CassandraTestNode.dropKeyspace(session, keyspace));
  }

  @Test
  void shouldApplyEveryMigrationOnceWhenAppliedTwice() {
    // given
    String keyspace = newKeyspaceName();

    // when
    List<Integer> first = Migrations.apply(session, keyspace, 1);
    List<Integer> second = Migrations.apply(session, keyspace, 1);

    // then
    assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9), first);
    assertEquals(List.of(), second);
    assertEquals(
        Set.of(
            "schema_migrations", "advertisers", "campaigns", "events", "served",
            "messages", "metadata", "all_persistence_ids", "snapshots", "charges",
            "experiment_configs", "feature_log", "feature_log_labels", "model_versions",
            "model_activations", "pipeline_runs", "pipeline_steps"),
        tables(keyspace));
    List<Row> recorded =
        session.execute("SELECT version, name, checksum FROM " + keyspace + ".schema_migrations").all();
    assertEquals(9, recorded.size());
  }

  @Test
  void shouldFailNamingTheFileWhenAnAppliedMigrationChanged() {
    // given
    String keyspace = newKeyspaceName();
    List<Migration> shipped = Migrations.load(Migrations.class.getClassLoader());
    Migrations.apply(session, keyspace, 1, shipped);
    Migration original = shipped.get(1);
    String editedText = original.text() + "\n-- edited after release\n";
    List<Migration> edited =
        List.of(
            shipped.get(0),
            new Migration(
                original.version(),
                original.name(),
                original.fileName(),
                editedText,
                Migrations.checksum(editedText)),
            shipped.get(2));

    // when
    MigrationException error =
        assertThrows(MigrationException.class, () -> Migrations.apply(session, keyspace, 1, edited));

    // then
    assertTrue(error.getMessage().contains("V0002__events.cql"), error.getMessage());
    assertTrue(error.getMessage().contains("was changed after it was applied"), error.getMessage());
    assertTrue(error.getMessage().contains(original.checksum()), error.getMessage());
  }

  @Test
  void shouldRecordEachVersionExactlyOnceWhenTwoNodesMigrateConcurrently() {
    // given
    String keyspace = newKeyspaceName();
    CqlSession otherNode = CassandraTestNode.connect();

    // when
    List<Integer> applied;
    try (otherNode) {
      CompletableFuture<List<Integer>> a =
          CompletableFuture.supplyAsync(() -> Migrations.apply(session, keyspace, 1));
      CompletableFuture<List<Integer>> b =
          CompletableFuture.supplyAsync(() -> Migrations.apply(otherNode, keyspace, 1));
      applied = new ArrayList<>(Await.result(a));
      applied.addAll(Await.result(b));
    }

    // then
    applied.sort(Integer::compare);
    assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9), applied);
    assertEquals(List.of(), Migrations.apply(session, keyspace, 1));
  }

  @Test
  void shouldAcceptThePekkoPersistencePluginStatementsWhenMigrated() {
    // given
    String keyspace = newKeyspaceName();
    Migrations.apply(session, keyspace, 1);

    // when: prepare the statements pekko-persistence-cassandra 1.1.0 issues against its
    // journal and snapshot tables (CassandraJournalStatements, CassandraSnapshotStatements)
    List<String> statements =
        List.of(
            "INSERT INTO " + keyspace + ".messages (persistence_id, partition_nr, sequence_nr,"
                + " timestamp, timebucket, writer_uuid, ser_id, ser_manifest, event_manifest,"
                + " event, meta_ser_id, meta_ser_manifest, meta, tags)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "SELECT * FROM " + keyspace + ".messages WHERE persistence_id = ? AND"
                + " partition_nr = ? AND sequence_nr >= ? AND sequence_nr <= ?",
            "SELECT sequence_nr FROM " + keyspace + ".messages WHERE persistence_id = ? AND"
                + " partition_nr = ? ORDER BY sequence_nr DESC LIMIT 1",
            "DELETE FROM " + keyspace + ".messages WHERE persistence_id = ? AND"
                + " partition_nr = ? AND sequence_nr >= 0 AND sequence_nr <= ?",
            "INSERT INTO " + keyspace + ".metadata (persistence_id, deleted_to) VALUES ( ?, ? )",
            "SELECT deleted_to FROM " + keyspace + ".metadata WHERE persistence_id = ?",
            "INSERT INTO " + keyspace + ".all_persistence_ids (persistence_id) VALUES ( ? )",
            "INSERT INTO " + keyspace + ".snapshots (persistence_id, sequence_nr, timestamp,"
                + " ser_manifest, ser_id, snapshot_data, meta_ser_id, meta_ser_manifest, meta)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "SELECT persistence_id, sequence_nr, timestamp FROM " + keyspace + ".snapshots"
                + " WHERE persistence_id = ? ORDER BY sequence_nr DESC LIMIT ?");
    List<PreparedStatement> prepared = statements.stream().map(session::prepare).toList();
    session.execute(
        prepared
            .get(0)
            .bind(
                "cart-1", 0L, 1L, Uuids.timeBased(), "20260101T00", "writer-1", 33, "M", "",
                ByteBuffer.wrap(new byte[] {1, 2, 3}), null, null, null, Set.of()));
    Row event = session.execute(prepared.get(1).bind("cart-1", 0L, 1L, 1L)).one();

    // then: a missing table or column fails the prepare; the event reads back
    assertEquals(ByteBuffer.wrap(new byte[] {1, 2, 3}), event.getByteBuffer("event"));
    assertEquals(
        864000,
        session
            .execute(
                "SELECT gc_grace_seconds FROM system_schema.tables WHERE keyspace_name = ?"
                    + " AND table_name = 'messages'",
                keyspace)
            .one()
            .getInt("gc_grace_seconds"));
  }

  private String newKeyspaceName() {
    String keyspace = CassandraTestNode.uniqueKeyspaceName("migrations_test");
    keyspaces.add(keyspace);
    return keyspace;
  }

  private Set<String> tables(String keyspace) {
    return session
        .execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", keyspace)
        .all()
        .stream()
        .map(row -> row.getString("table_name"))
        .collect(Collectors.toSet());
  }
}
