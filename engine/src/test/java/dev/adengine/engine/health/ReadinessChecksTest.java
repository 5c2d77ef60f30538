package dev.adengine.engine.health;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The node's readiness checks and the cached Cassandra probe, on a fake clock. */
class ReadinessChecksTest {
  private final AtomicLong now = new AtomicLong(1_000_000);
  private final CassandraProbe probe = new CassandraProbe(new CassandraProbe.Settings(Duration.ofSeconds(2),
      Duration.ofSeconds(1), Duration.ofSeconds(6), "SELECT release_version FROM system.local"), now::get);

  @Test
  void shouldBeReadyOnlyWhenEveryCheckPassesAndSayWhichFailsWhenOneDoes() {
    NodeState state = new NodeState();
    assertFalse(state.ready(), "no checks registered yet: starting");
    AtomicBoolean model = new AtomicBoolean(true);
    state.readiness(List.of(
        new NodeState.Check(NodeState.REPLICA, () -> NodeState.Status.ok("3 campaigns")),
        new NodeState.Check(NodeState.MODEL, () -> model.get() ? NodeState.Status.ok("serving v1")
            : NodeState.Status.failing("no model is active"))));
    assertTrue(state.ready());

    model.set(false);
    assertFalse(state.ready());
    assertEquals(List.of(new NodeState.Result("replica", true, "3 campaigns"),
        new NodeState.Result("model", false, "no model is active")), state.results());
    assertFalse(state.status(NodeState.CASSANDRA).ok(), "an unregistered check fails");
  }

  @Test
  void shouldPassOnlyWhileTheLastProbeSucceededRecentlyWhenProbed() {
    // before any answer: failing
    assertFalse(probe.status().ok());
    assertTrue(probe.status().detail().startsWith("no probe answered yet"), probe.status().detail());

    // an answer: passing, until it is older than stale-after
    probe.probe(() -> CompletableFuture.completedFuture("5.0.9"));
    assertTrue(probe.status().ok(), probe.status().detail());
    now.addAndGet(6_001);
    assertFalse(probe.status().ok());
    assertEquals("no probe answered for 6001 ms (stale after 6000 ms)", probe.status().detail());

    // a failed probe: failing with the driver's reason
    probe.probe(() -> CompletableFuture.failedFuture(new IllegalStateException("All host(s) tried for query")));
    assertFalse(probe.status().ok());
    assertEquals("the last probe failed 0 ms ago: IllegalStateException: All host(s) tried for query",
        probe.status().detail());
  }

  @Test
  void shouldNotStartASecondProbeWhileOneIsInFlight() {
    CompletableFuture<String> hanging = new CompletableFuture<>();
    AtomicLong started = new AtomicLong();
    probe.probe(() -> {
      started.incrementAndGet();
      return hanging;
    });
    probe.probe(() -> {
      started.incrementAndGet();
      return CompletableFuture.completedFuture("x");
    });
    assertEquals(1, started.get());
    assertFalse(probe.status().ok(), "a probe that never answers does not make Cassandra reachable");
    hanging.complete("5.0.9");
    assertTrue(probe.status().ok());
  }
}
