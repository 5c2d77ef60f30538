package dev.adengine.persistence;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens {@link CqlSession}s to the configured node.
 *
 * <p>Driver options other than the contact point and local datacenter come from the driver's
 * usual configuration ({@code datastax-java-driver} in {@code application.conf}).
 */
public final class CassandraSessions {

  /** How long {@link #connect(CassandraSettings)} keeps retrying while the node starts. */
  public static final Duration DEFAULT_RETRY_FOR = Duration.ofSeconds(60);

  private static final Logger log = LoggerFactory.getLogger(CassandraSessions.class);
  private static final long RETRY_DELAY_MILLIS = 500;

  private CassandraSessions() {}

  /**
   * Blocking start-up call: connects without binding a keyspace, retrying for up to
   * {@link #DEFAULT_RETRY_FOR} while no node accepts connections. Call once from main wiring
   * code, never from an actor.
   */
  public static CqlSession connect(CassandraSettings settings) {
    return connect(settings, DEFAULT_RETRY_FOR);
  }

  /**
   * Blocking start-up call: connects without binding a keyspace, retrying for up to {@code
   * retryFor}. Throws the driver's last connection error when the time is up.
   */
  public static CqlSession connect(CassandraSettings settings, Duration retryFor) {
    return join(connectAsync(settings, retryFor, false));
  }

  /**
   * Blocking start-up call: like {@link #connect(CassandraSettings, Duration)} but with {@link
   * CassandraSettings#keyspace()} bound as the session keyspace (it must exist).
   */
  public static CqlSession connectToKeyspace(CassandraSettings settings, Duration retryFor) {
    return join(connectAsync(settings, retryFor, true));
  }

  /**
   * Connects asynchronously, retrying every 500 ms until {@code retryFor} has passed while no
   * node is reachable ({@link AllNodesFailedException}); other failures are not retried.
   */
  public static CompletionStage<CqlSession> connectAsync(
      CassandraSettings settings, Duration retryFor, boolean bindKeyspace) {
    long deadlineNanos = System.nanoTime() + retryFor.toNanos();
    CompletableFuture<CqlSession> result = new CompletableFuture<>();
    attempt(settings, bindKeyspace, deadlineNanos, 1, result);
    return result;
  }

  private static void attempt(
      CassandraSettings settings,
      boolean bindKeyspace,
      long deadlineNanos,
      int attemptNumber,
      CompletableFuture<CqlSession> result) {
    builder(settings, bindKeyspace)
        .buildAsync()
        .whenComplete(
            (session, error) -> {
              if (error == null) {
                result.complete(session);
                return;
              }
              Throwable cause = unwrap(error);
              long remainingNanos = deadlineNanos - System.nanoTime();
              if (!(cause instanceof AllNodesFailedException)
                  || remainingNanos < TimeUnit.MILLISECONDS.toNanos(RETRY_DELAY_MILLIS)) {
                result.completeExceptionally(cause);
                return;
              }
              if (attemptNumber == 1 || attemptNumber % 10 == 0) {
                log.info(
                    "Cassandra at {}:{} not reachable yet (attempt {}), retrying: {}",
                    settings.host(),
                    settings.port(),
                    attemptNumber,
                    cause.getMessage());
              }
              CompletableFuture.runAsync(
                  () -> attempt(settings, bindKeyspace, deadlineNanos, attemptNumber + 1, result),
                  CompletableFuture.delayedExecutor(RETRY_DELAY_MILLIS, TimeUnit.MILLISECONDS));
            });
  }

  /** Connections to the local node, and requests each carries at once (the driver's default is 1,024). */
  static final int POOL_CONNECTIONS = 2;
  static final int MAX_REQUESTS_PER_CONNECTION = 4_096;

  private static CqlSessionBuilder builder(CassandraSettings settings, boolean bindKeyspace) {
    CqlSessionBuilder builder =
        CqlSession.builder()
            .addContactPoint(new InetSocketAddress(settings.host(), settings.port()))
            .withLocalDatacenter(settings.localDatacenter())
            // An engine node keeps many writes outstanding at once (served records, charges, events
            // and their lightweight transactions, the feature log and its labels, each bounded on its
            // own, or by its callers): two connections of 4,096 requests each (protocol v5 allows
            // 32,768 per connection), so their bounds add up well below what the pool takes instead of
            // the driver refusing requests ("no connection was available") when Cassandra slows.
            .withConfigLoader(com.datastax.oss.driver.api.core.config.DriverConfigLoader.programmaticBuilder()
                .withInt(com.datastax.oss.driver.api.core.config.DefaultDriverOption.CONNECTION_POOL_LOCAL_SIZE,
                    POOL_CONNECTIONS)
                .withInt(com.datastax.oss.driver.api.core.config.DefaultDriverOption.CONNECTION_MAX_REQUESTS,
                    MAX_REQUESTS_PER_CONNECTION)
                .build());
    return bindKeyspace ? builder.withKeyspace(settings.keyspace()) : builder;
  }

  private static CqlSession join(CompletionStage<CqlSession> stage) {
    try {
      return stage.toCompletableFuture().join();
    } catch (CompletionException e) {
      Throwable cause = unwrap(e);
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw e;
    }
  }

  private static Throwable unwrap(Throwable error) {
    Throwable cause = error;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }
}
