package dev.adengine.persistence;

import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where the Cassandra node is and which keyspace the application owns.
 *
 * @param host              contact point host
 * @param port              CQL native transport port
 * @param localDatacenter   datacenter the driver treats as local ("datacenter1" for a single
 *                          node with {@code SimpleSnitch})
 * @param keyspace          the application's keyspace (also used by the Pekko persistence plugin)
 * @param replicationFactor SimpleStrategy replication factor used when the keyspace is created
 */
public record CassandraSettings(
    String host, int port, String localDatacenter, String keyspace, int replicationFactor) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 9042;
  public static final String DEFAULT_DATACENTER = "datacenter1";
  public static final int DEFAULT_REPLICATION_FACTOR = 1;

  /** Environment variable names, shared with {@code bin/cassandra}. */
  public static final String ENV_HOST = "ADENGINE_CASSANDRA_HOST";
  public static final String ENV_PORT = "ADENGINE_CASSANDRA_PORT";
  public static final String ENV_DATACENTER = "ADENGINE_CASSANDRA_DATACENTER";
  public static final String ENV_KEYSPACE = "ADENGINE_KEYSPACE";
  public static final String ENV_REPLICATION_FACTOR = "ADENGINE_CASSANDRA_REPLICATION_FACTOR";

  private static final Pattern KEYSPACE_NAME = Pattern.compile("[a-zA-Z][a-zA-Z0-9_]{0,47}");

  public CassandraSettings {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(localDatacenter, "localDatacenter");
    requireValidKeyspace(keyspace);
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be in 1..65535, was " + port);
    }
    if (replicationFactor < 1) {
      throw new IllegalArgumentException("replicationFactor must be >= 1, was " + replicationFactor);
    }
  }

  /** Reads the settings from the process environment, falling back to the local defaults. */
  public static CassandraSettings fromEnv(String defaultKeyspace) {
    return fromEnv(System.getenv(), defaultKeyspace);
  }

  /** Reads the settings from {@code env}, falling back to the local defaults. */
  public static CassandraSettings fromEnv(Map<String, String> env, String defaultKeyspace) {
    return new CassandraSettings(
        env.getOrDefault(ENV_HOST, DEFAULT_HOST),
        intValue(env, ENV_PORT, DEFAULT_PORT),
        env.getOrDefault(ENV_DATACENTER, DEFAULT_DATACENTER),
        env.getOrDefault(ENV_KEYSPACE, defaultKeyspace),
        intValue(env, ENV_REPLICATION_FACTOR, DEFAULT_REPLICATION_FACTOR));
  }

  /** The same node with another keyspace. */
  public CassandraSettings withKeyspace(String otherKeyspace) {
    return new CassandraSettings(host, port, localDatacenter, otherKeyspace, replicationFactor);
  }

  /**
   * Checks that {@code keyspace} is a plain, unquoted CQL identifier (letters, digits and
   * underscores, at most 48 characters). Keyspace names are spliced into CQL text, so
   * anything else is refused.
   */
  public static String requireValidKeyspace(String keyspace) {
    Objects.requireNonNull(keyspace, "keyspace");
    if (!KEYSPACE_NAME.matcher(keyspace).matches()) {
      throw new IllegalArgumentException(
          "keyspace must match " + KEYSPACE_NAME.pattern() + ", was '" + keyspace + "'");
    }
    return keyspace;
  }

  private static int intValue(Map<String, String> env, String name, int defaultValue) {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      return defaultValue;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be an integer, was '" + value + "'", e);
    }
  }
}
