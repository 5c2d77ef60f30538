package dev.adengine.persistence;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Versioned CQL schema migrations, applied at start-up.
 *
 * <p>Migrations are the classpath resources {@code db/migration/V<NNNN>__<name>.cql} listed in
 * {@code db/migration/index.txt} (classpath directories cannot be listed reliably inside jars).
 * A file holds {@code ;}-separated statements and {@code --} comments; {@code ${keyspace}} is
 * replaced by the target keyspace. Applied versions are recorded in {@code
 * <keyspace>.schema_migrations} with a SHA-256 checksum of the file; a file changed after it was
 * applied fails the start-up rather than leaving the schema in an unknown state.
 *
 * <p>Safe to run twice and from several nodes at once: every statement is expected to use
 * {@code IF NOT EXISTS}, and a version is recorded with a lightweight transaction, so exactly
 * one caller records it.
 *
 * <p>While it runs, the session's schema metadata is switched off and afterwards back to its
 * configured setting ({@code setSchemaMetadataEnabled(null)}).
 */
public final class Migrations {

  public static final String INDEX_RESOURCE = "db/migration/index.txt";
  static final String RESOURCE_DIR = "db/migration/";

  /** Schema changes wait for schema agreement; slow on a busy machine, so allow more time. */
  static final Duration SCHEMA_TIMEOUT = Duration.ofSeconds(30);

  private static final Logger log = LoggerFactory.getLogger(Migrations.class);
  private static final Pattern FILE_NAME = Pattern.compile("V(\\d{4})__([A-Za-z0-9_]+)\\.cql");
  private static final String KEYSPACE_PLACEHOLDER = "${keyspace}";

  private Migrations() {}

  /** One migration file. */
  public record Migration(int version, String name, String fileName, String text, String checksum) {}

  /**
   * Blocking start-up call: creates {@code keyspace} if absent (SimpleStrategy, {@code
   * replicationFactor}) and applies the pending migrations from the classpath in version order.
   * Call once from main wiring code, never from an actor.
   *
   * @return the versions this call recorded as applied, ascending (empty when up to date)
   * @throws MigrationException when an applied migration's file has changed, or the files cannot
   *     be read
   */
  public static List<Integer> apply(CqlSession session, String keyspace, int replicationFactor) {
    return apply(session, keyspace, replicationFactor, load(Migrations.class.getClassLoader()));
  }

  /** As {@link #apply(CqlSession, String, int)}, with the migrations given. */
  public static List<Integer> apply(
      CqlSession session, String keyspace, int replicationFactor, List<Migration> migrations) {
    CassandraSettings.requireValidKeyspace(keyspace);
    if (replicationFactor < 1) {
      throw new IllegalArgumentException("replicationFactor must be >= 1");
    }
    // Each schema change otherwise waits ~1 s for the driver's debounced metadata refresh
    // (the same switch pekko-persistence-cassandra uses when it creates its tables).
    session.setSchemaMetadataEnabled(false);
    try {
      return applyPending(session, keyspace, replicationFactor, migrations);
    } finally {
      session.setSchemaMetadataEnabled(null);
    }
  }

  private static List<Integer> applyPending(
      CqlSession session, String keyspace, int replicationFactor, List<Migration> migrations) {
    execute(
        session,
        "CREATE KEYSPACE IF NOT EXISTS "
            + keyspace
            + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': "
            + replicationFactor
            + "}");
    execute(
        session,
        "CREATE TABLE IF NOT EXISTS "
            + keyspace
            + ".schema_migrations ("
            + "version int PRIMARY KEY, name text, checksum text, applied_at timestamp)");

    Map<Integer, String> appliedChecksums = appliedChecksums(session, keyspace);
    List<Integer> recorded = new ArrayList<>();
    for (Migration migration : migrations) {
      String appliedChecksum = appliedChecksums.get(migration.version());
      if (appliedChecksum != null) {
        requireSameChecksum(keyspace, migration, appliedChecksum);
        continue;
      }
      for (String statement : splitStatements(migration.text())) {
        execute(session, statement.replace(KEYSPACE_PLACEHOLDER, keyspace));
      }
      if (record(session, keyspace, migration)) {
        log.info("Applied migration {} to keyspace {}", migration.fileName(), keyspace);
        recorded.add(migration.version());
      }
    }
    return List.copyOf(recorded);
  }

  /**
   * Reads the migrations listed in {@link #INDEX_RESOURCE}, sorted by version.
   *
   * @throws MigrationException when the index or a listed file is missing or malformed
   */
  public static List<Migration> load(ClassLoader classLoader) {
    String index = readResource(classLoader, INDEX_RESOURCE);
    List<Migration> migrations = new ArrayList<>();
    Map<Integer, String> seen = new HashMap<>();
    for (String line : index.split("\n")) {
      String fileName = line.strip();
      if (fileName.isEmpty() || fileName.startsWith("#")) {
        continue;
      }
      Matcher matcher = FILE_NAME.matcher(fileName);
      if (!matcher.matches()) {
        throw new MigrationException(
            INDEX_RESOURCE + " lists '" + fileName + "', expected V<NNNN>__<name>.cql");
      }
      int version = Integer.parseInt(matcher.group(1));
      String previous = seen.putIfAbsent(version, fileName);
      if (previous != null) {
        throw new MigrationException(
            "Migration version " + version + " is used by both " + previous + " and " + fileName);
      }
      String text = readResource(classLoader, RESOURCE_DIR + fileName);
      migrations.add(new Migration(version, matcher.group(2), fileName, text, checksum(text)));
    }
    migrations.sort(Comparator.comparingInt(Migration::version));
    return List.copyOf(migrations);
  }

  /**
   * Splits CQL text into statements at {@code ;}, dropping line comments ({@code --}, {@code //})
   * and block comments; semicolons and comment markers inside quoted strings and quoted
   * identifiers are kept. {@code $$}-quoted function bodies are not supported.
   */
  static List<String> splitStatements(String cql) {
    List<String> statements = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    int i = 0;
    int n = cql.length();
    while (i < n) {
      char c = cql.charAt(i);
      char next = i + 1 < n ? cql.charAt(i + 1) : '\0';
      if (c == '\'' || c == '"') {
        int end = closingQuote(cql, i, c);
        current.append(cql, i, end);
        i = end;
      } else if ((c == '-' && next == '-') || (c == '/' && next == '/')) {
        int end = cql.indexOf('\n', i);
        i = end < 0 ? n : end;
      } else if (c == '/' && next == '*') {
        int end = cql.indexOf("*/", i + 2);
        if (end < 0) {
          throw new MigrationException("Unterminated /* comment in migration");
        }
        current.append(' ');
        i = end + 2;
      } else if (c == ';') {
        addStatement(statements, current);
        i++;
      } else {
        current.append(c);
        i++;
      }
    }
    addStatement(statements, current);
    return statements;
  }

  private static int closingQuote(String cql, int start, char quote) {
    int i = start + 1;
    while (i < cql.length()) {
      if (cql.charAt(i) == quote) {
        if (i + 1 < cql.length() && cql.charAt(i + 1) == quote) {
          i += 2; // doubled quote is an escaped quote
          continue;
        }
        return i + 1;
      }
      i++;
    }
    throw new MigrationException("Unterminated " + quote + " quote in migration");
  }

  private static void addStatement(List<String> statements, StringBuilder current) {
    String statement = current.toString().strip();
    if (!statement.isEmpty()) {
      statements.add(statement);
    }
    current.setLength(0);
  }

  private static Map<Integer, String> appliedChecksums(CqlSession session, String keyspace) {
    ResultSet rows =
        session.execute(
            SimpleStatement.newInstance(
                    "SELECT version, checksum FROM " + keyspace + ".schema_migrations")
                .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
                .setTimeout(SCHEMA_TIMEOUT));
    Map<Integer, String> applied = new HashMap<>();
    for (Row row : rows) {
      applied.put(row.getInt("version"), row.getString("checksum"));
    }
    return applied;
  }

  /** Records {@code migration} with an LWT; false if another caller recorded it first. */
  private static boolean record(CqlSession session, String keyspace, Migration migration) {
    ResultSet result =
        session.execute(
            SimpleStatement.newInstance(
                    "INSERT INTO "
                        + keyspace
                        + ".schema_migrations (version, name, checksum, applied_at)"
                        + " VALUES (?, ?, ?, ?) IF NOT EXISTS",
                    migration.version(),
                    migration.name(),
                    migration.checksum(),
                    Instant.now())
                .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM)
                .setSerialConsistencyLevel(ConsistencyLevel.LOCAL_SERIAL)
                .setTimeout(SCHEMA_TIMEOUT));
    if (result.wasApplied()) {
      return true;
    }
    Row existing = result.one();
    requireSameChecksum(keyspace, migration, existing == null ? null : existing.getString("checksum"));
    return false;
  }

  private static void requireSameChecksum(
      String keyspace, Migration migration, String appliedChecksum) {
    if (!migration.checksum().equals(appliedChecksum)) {
      throw new MigrationException(
          "Migration "
              + migration.fileName()
              + " was changed after it was applied to keyspace "
              + keyspace
              + ": recorded checksum "
              + appliedChecksum
              + ", file checksum "
              + migration.checksum()
              + ". Applied migrations must not be edited; add a new V<NNNN> file instead.");
    }
  }

  private static void execute(CqlSession session, String cql) {
    session.execute(SimpleStatement.newInstance(cql).setTimeout(SCHEMA_TIMEOUT));
  }

  private static String readResource(ClassLoader classLoader, String name) {
    try (InputStream in = classLoader.getResourceAsStream(name)) {
      if (in == null) {
        throw new MigrationException("Classpath resource " + name + " not found");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("\r\n", "\n");
    } catch (IOException e) {
      throw new MigrationException("Cannot read classpath resource " + name, e);
    }
  }

  static String checksum(String text) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is a required JDK algorithm", e);
    }
  }
}
