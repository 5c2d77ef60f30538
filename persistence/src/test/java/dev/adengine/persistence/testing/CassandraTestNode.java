package dev.adengine.persistence.testing;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import dev.adengine.persistence.CassandraSessions;
import dev.adengine.persistence.CassandraSettings;
import dev.adengine.persistence.Migrations;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The real Cassandra node tests run against: the one answering on {@code
 * ADENGINE_CASSANDRA_HOST:ADENGINE_CASSANDRA_PORT} (default 127.0.0.1:9042), or else one started
 * with the project's {@code bin/cassandra start}. Each test class takes its own keyspace from
 * {@link #freshKeyspace(String)} and drops it with {@link #dropKeyspace(CqlSession)}.
 *
 * <p>The node is left running after the tests so later test runs reuse it; {@code bin/cassandra
 * stop} stops it. Every keyspace named by {@link #uniqueKeyspaceName} is dropped after the test
 * class that named it ({@link DropTestKeyspaces}), whether or not the class drops it itself: a node
 * that keeps them accumulates hundreds of tables over a few suite runs, and each costs it heap
 * until it runs out (seen twice: a benchmark and a test run on a developer's node died of it).
 */
public final class CassandraTestNode {

  /** bin/cassandra waits up to 180 s for CQL; allow for the first Maven download on top. */
  private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(420);

  private static final Duration CONNECT_RETRY = Duration.ofSeconds(30);
  private static final Duration SCHEMA_TIMEOUT = Duration.ofSeconds(30);
  private static final int MAX_KEYSPACE_LENGTH = 48;
  private static final int SUFFIX_HEX_CHARS = 12;

  private static CassandraSettings running;
  /** Keyspaces named by {@link #uniqueKeyspaceName} and not yet dropped by {@link #dropNamedKeyspaces}. */
  private static final Set<String> NAMED = ConcurrentHashMap.newKeySet();

  private CassandraTestNode() {}

  /**
   * Returns the settings of a node that answers on the CQL port, starting one with {@code
   * bin/cassandra start} (found by walking up from the working directory) if none does.
   *
   * @throws IllegalStateException when no node answers and none could be started
   */
  public static synchronized CassandraSettings ensureRunning() {
    if (running != null) {
      return running;
    }
    CassandraSettings settings = CassandraSettings.fromEnv("adengine_test");
    if (!answers(settings)) {
      startWithScript(settings);
    }
    running = settings;
    return settings;
  }

  /** A new session without a keyspace; the caller closes it. */
  public static CqlSession connect() {
    return CassandraSessions.connect(ensureRunning(), CONNECT_RETRY);
  }

  /**
   * Creates a keyspace named {@code prefix} plus a random suffix, applies the migrations to it
   * and returns a session bound to it; the caller ends with {@link #dropKeyspace(CqlSession)}.
   */
  public static CqlSession freshKeyspace(String prefix) {
    CassandraSettings settings = ensureRunning().withKeyspace(uniqueKeyspaceName(prefix));
    try (CqlSession setup = CassandraSessions.connect(settings, CONNECT_RETRY)) {
      Migrations.apply(setup, settings.keyspace(), 1);
    }
    return CassandraSessions.connectToKeyspace(settings, CONNECT_RETRY);
  }

  /** The keyspace a session from {@link #freshKeyspace(String)} is bound to. */
  public static String keyspaceOf(CqlSession session) {
    return session
        .getKeyspace()
        .map(CqlIdentifier::asInternal)
        .orElseThrow(() -> new IllegalArgumentException("session has no keyspace bound"));
  }

  /** Drops the session's keyspace and closes the session. */
  public static void dropKeyspace(CqlSession session) {
    try (session) {
      session.execute(
          SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + keyspaceOf(session))
              .setTimeout(SCHEMA_TIMEOUT));
    }
  }

  /** Drops {@code keyspace} using {@code session}, which stays open. */
  public static void dropKeyspace(CqlSession session, String keyspace) {
    session.execute(
        SimpleStatement.newInstance(
                "DROP KEYSPACE IF EXISTS " + CassandraSettings.requireValidKeyspace(keyspace))
            .setTimeout(SCHEMA_TIMEOUT));
  }

  /**
   * {@code prefix} in lower case, reduced to letters, digits and underscores, plus {@code _} and
   * 12 random hex digits; at most 48 characters.
   */
  public static String uniqueKeyspaceName(String prefix) {
    String clean = prefix.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    if (clean.isEmpty() || !Character.isLetter(clean.charAt(0))) {
      clean = "t" + clean;
    }
    int maxPrefix = MAX_KEYSPACE_LENGTH - 1 - SUFFIX_HEX_CHARS;
    if (clean.length() > maxPrefix) {
      clean = clean.substring(0, maxPrefix);
    }
    byte[] random = new byte[SUFFIX_HEX_CHARS / 2];
    ThreadLocalRandom.current().nextBytes(random);
    String name = clean + "_" + HexFormat.of().formatHex(random);
    NAMED.add(name);
    return name;
  }

  /**
   * Drops every keyspace named by {@link #uniqueKeyspaceName} since the last call (if it exists),
   * on the node the tests use; does nothing when none answers. A keyspace that cannot be
   * dropped (the node is gone, a timeout) is reported on stderr and left: this is clean-up, and must
   * not fail a test that passed.
   *
   * @return the keyspaces dropped or already gone
   */
  public static List<String> dropNamedKeyspaces() {
    List<String> names = new ArrayList<>(NAMED);
    NAMED.removeAll(names);
    CassandraSettings settings;
    synchronized (CassandraTestNode.class) {
      settings = running != null ? running : CassandraSettings.fromEnv("adengine_test");
    }
    List<String> dropped = new ArrayList<>();
    if (names.isEmpty() || !answers(settings)) {
      return dropped;
    }
    try (CqlSession session = CassandraSessions.connect(settings, CONNECT_RETRY)) {
      for (String keyspace : names) {
        try {
          dropKeyspace(session, keyspace);
          dropped.add(keyspace);
        } catch (RuntimeException e) {
          System.err.println("[test] keyspace " + keyspace + " not dropped: " + e);
        }
      }
    } catch (RuntimeException e) {
      System.err.println("[test] keyspaces " + names + " not dropped: " + e);
    }
    return dropped;
  }

  private static boolean answers(CassandraSettings settings) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(settings.host(), settings.port()), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void startWithScript(CassandraSettings settings) {
    Path script = findScript();
    Path output;
    try {
      output = Files.createTempFile("bin-cassandra-start", ".log");
    } catch (IOException e) {
      throw new IllegalStateException("Cannot create a temporary file for bin/cassandra output", e);
    }
    try {
      Process process =
          new ProcessBuilder(script.toString(), "start")
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      boolean exited = process.waitFor(SCRIPT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      if (!exited) {
        process.destroy();
        throw new IllegalStateException(
            script + " start did not finish within " + SCRIPT_TIMEOUT + "\n" + read(output));
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            "No Cassandra answered on "
                + settings.host()
                + ":"
                + settings.port()
                + " and '"
                + script
                + " start' failed with exit code "
                + process.exitValue()
                + ":\n"
                + read(output));
      }
    } catch (IOException e) {
      throw new IllegalStateException("Cannot run " + script, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while starting Cassandra", e);
    } finally {
      try {
        Files.deleteIfExists(output);
      } catch (IOException ignored) {
        // a leftover temp file is harmless
      }
    }
    if (!answers(settings)) {
      throw new IllegalStateException(
          script + " start succeeded but nothing answers on " + settings.host() + ":" + settings.port());
    }
  }

  private static Path findScript() {
    Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path dir = start; dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("bin").resolve("cassandra");
      if (Files.isExecutable(candidate)
          && Files.exists(dir.resolve("persistence/cassandra-node/pom.xml"))) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        "No Cassandra answers on the configured port and no executable bin/cassandra was found"
            + " above "
            + start
            + ". Start a node (bin/cassandra start) or set ADENGINE_CASSANDRA_HOST/PORT.");
  }

  private static String read(Path output) {
    try {
      return Files.readString(output, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(output unavailable: " + e + ")";
    }
  }
}
