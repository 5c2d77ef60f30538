package dev.adengine.engine.health;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.typesafe.config.Config;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Whether Cassandra answers, for readiness, without ever blocking the caller: a probe query runs
 * asynchronously every {@code interval} (at most one in flight) with a short driver timeout, and its
 * last outcome and time are cached. {@link #status} reads the cache: the node counts Cassandra as
 * reachable only while the last probe succeeded and is younger than {@code staleAfter}, so a probe
 * that never comes back (a hung connection) turns the check to failing too.
 */
public final class CassandraProbe implements Supplier<NodeState.Status> {

  /** The {@code adengine.health.cassandra-probe} block. */
  public record Settings(Duration interval, Duration timeout, Duration staleAfter, String query) {
    public static Settings from(Config root) {
      Config c = root.getConfig("adengine.health.cassandra-probe");
      return new Settings(c.getDuration("interval"), c.getDuration("timeout"), c.getDuration("stale-after"),
          c.getString("query"));
    }
  }

  /** One probe's outcome: when it finished, and the failure's description (null when it succeeded). */
  private record Outcome(long atMillis, String failure) {}

  private final Settings settings;
  private final LongSupplier clock;
  private final long startedAtMillis;
  private final AtomicBoolean inFlight = new AtomicBoolean();
  private volatile Outcome last;

  public CassandraProbe(Settings settings, LongSupplier clock) {
    this.settings = settings;
    this.clock = clock;
    this.startedAtMillis = clock.getAsLong();
  }

  /** Starts probing {@code session} on {@code scheduler}'s timer; the probe stops with the system. */
  public CassandraProbe start(CqlSession session, org.apache.pekko.actor.typed.Scheduler scheduler,
      scala.concurrent.ExecutionContext executor) {
    SimpleStatement statement = SimpleStatement.newInstance(settings.query()).setTimeout(settings.timeout())
        .setIdempotent(true);
    scheduler.scheduleWithFixedDelay(Duration.ZERO, settings.interval(), () -> probe(() -> session.executeAsync(
        statement)), executor);
    return this;
  }

  /** Runs one probe unless one is still in flight; {@code query} starts the asynchronous query. */
  void probe(Supplier<? extends CompletionStage<?>> query) {
    if (!inFlight.compareAndSet(false, true)) {
      return;
    }
    try {
      query.get().whenComplete((rs, err) -> {
        last = new Outcome(clock.getAsLong(), err == null ? null : describe(err));
        inFlight.set(false);
      });
    } catch (RuntimeException e) {
      last = new Outcome(clock.getAsLong(), describe(e));
      inFlight.set(false);
    }
  }

  private static String describe(Throwable err) {
    Throwable t = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
        ? err.getCause() : err;
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m.replace('\n', ' '));
  }

  @Override
  public NodeState.Status get() {
    return status();
  }

  /** The cached verdict: passing only while the last probe succeeded within {@code staleAfter}. */
  public NodeState.Status status() {
    long now = clock.getAsLong();
    Outcome o = last;
    long stale = settings.staleAfter().toMillis();
    if (o == null) {
      return NodeState.Status.failing("no probe answered yet (probing for " + (now - startedAtMillis) + " ms)");
    }
    long age = now - o.atMillis();
    if (o.failure() != null) {
      return NodeState.Status.failing("the last probe failed " + age + " ms ago: " + o.failure());
    }
    if (age > stale) {
      return NodeState.Status.failing("no probe answered for " + age + " ms (stale after " + stale + " ms)");
    }
    return NodeState.Status.ok("answered " + age + " ms ago");
  }
}
