package dev.adengine.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CassandraSessionsTest {

  @Test
  void shouldKeepRetryingUntilDeadlineWhenNoNodeListens() throws IOException {
    // given: a port that was free a moment ago, so connections are refused at once
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    CassandraSettings settings =
        new CassandraSettings("127.0.0.1", closedPort, "datacenter1", "unused", 1);
    long started = System.nanoTime();

    // when
    assertThrows(
        AllNodesFailedException.class,
        () -> CassandraSessions.connect(settings, Duration.ofMillis(1500)));

    // then
    Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
    assertTrue(elapsed.compareTo(Duration.ofMillis(1000)) >= 0, "gave up after " + elapsed);
    assertTrue(elapsed.compareTo(Duration.ofSeconds(10)) < 0, "gave up after " + elapsed);
  }

  @Test
  void shouldUseEnvironmentOverridesWhenPresent() {
    // given
    Map<String, String> env =
        Map.of(
            "ADENGINE_CASSANDRA_HOST", "10.0.0.7",
            "ADENGINE_CASSANDRA_PORT", "19042",
            "ADENGINE_KEYSPACE", "adengine_prod");

    // when
    CassandraSettings settings = CassandraSettings.fromEnv(env, "adengine");

    // then
    assertEquals(
        new CassandraSettings("10.0.0.7", 19042, "datacenter1", "adengine_prod", 1), settings);
  }

  @Test
  void shouldUseLocalDefaultsWhenEnvironmentEmpty() {
    // given
    Map<String, String> env = Map.of();

    // when
    CassandraSettings settings = CassandraSettings.fromEnv(env, "adengine");

    // then
    assertEquals(new CassandraSettings("127.0.0.1", 9042, "datacenter1", "adengine", 1), settings);
  }

  @Test
  void shouldRefuseKeyspaceWhenNotAPlainIdentifier() {
    // given
    String injected = "adengine; DROP KEYSPACE system";

    // when / then
    assertThrows(
        IllegalArgumentException.class,
        () -> new CassandraSettings("127.0.0.1", 9042, "datacenter1", injected, 1));
  }
}
