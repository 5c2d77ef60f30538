package dev.adengine.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.persistence.Migrations.Migration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationScriptTest {

  @Test
  void shouldSplitStatementsWhenScriptHasCommentsAndQuotedSemicolons() {
    // given
    String script =
        """
        -- a leading comment; with a semicolon
        CREATE TABLE t (a text PRIMARY KEY) WITH comment = 'x; -- not a comment';
        /* block; comment */ INSERT INTO t (a) VALUES ('it''s; fine'); // trailing
        ;
        SELECT "odd;name" FROM t
        """;

    // when
    List<String> statements = Migrations.splitStatements(script);

    // then
    assertEquals(
        List.of(
            "CREATE TABLE t (a text PRIMARY KEY) WITH comment = 'x; -- not a comment'",
            "INSERT INTO t (a) VALUES ('it''s; fine')",
            "SELECT \"odd;name\" FROM t"),
        statements);
  }

  @Test
  void shouldListShippedMigrationsInVersionOrderWhenLoadedFromIndex() {
    // given
    ClassLoader classLoader = Migrations.class.getClassLoader();

    // when
    List<Migration> migrations = Migrations.load(classLoader);

    // then
    assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9), migrations.stream().map(Migration::version).toList());
    assertEquals(
        List.of("catalog", "events", "pekko_persistence", "charges", "experiments", "served_experiments",
            "feature_log", "model_registry", "pipeline_runs"),
        migrations.stream().map(Migration::name).toList());
    assertTrue(migrations.stream().allMatch(m -> m.checksum().length() == 64));
    assertTrue(migrations.stream().allMatch(m -> m.text().contains("${keyspace}.")));
  }
}
