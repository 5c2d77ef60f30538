package dev.adengine.engine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.remote.FailureDetector;
import org.apache.pekko.remote.FailureDetectorWithAddress;
import org.junit.jupiter.api.Test;

class LocalPauseAwareFailureDetectorTest {

  /** A detector whose verdict the test sets. */
  private static final class Scripted implements FailureDetector, FailureDetectorWithAddress {
    boolean available = true;
    int heartbeats;
    String address;

    @Override
    public boolean isAvailable() {
      return available;
    }

    @Override
    public boolean isMonitoring() {
      return heartbeats > 0;
    }

    @Override
    public void heartbeat() {
      heartbeats++;
    }

    @Override
    public void setAddress(String address) {
      this.address = address;
    }
  }

  @Test
  void shouldKeepItsLastVerdictWhileThisNodesObservationsAreUnreliable() {
    // given a node whose observations are reliable, watching a peer that is available
    Scripted phi = new Scripted();
    boolean[] unreliable = {false};
    LocalPauseAwareFailureDetector fd = new LocalPauseAwareFailureDetector(phi, now -> unreliable[0]);
    assertTrue(fd.isAvailable());

    // when this node was paused and the peer's heartbeats look old (phi says unavailable)
    unreliable[0] = true;
    phi.available = false;

    // then the peer is still available: the pause is this node's, not evidence about the peer
    assertTrue(fd.isAvailable());

    // and once this node's observations are reliable again, phi's verdict counts
    unreliable[0] = false;
    assertFalse(fd.isAvailable());

    // and a peer judged unavailable before a pause stays unavailable during it (no false recovery)
    unreliable[0] = true;
    phi.available = true;
    assertFalse(fd.isAvailable());
    unreliable[0] = false;
    assertTrue(fd.isAvailable());
  }

  @Test
  void shouldPassHeartbeatsMonitoringAndTheAddressThrough() {
    Scripted phi = new Scripted();
    LocalPauseAwareFailureDetector fd = new LocalPauseAwareFailureDetector(phi, now -> false);
    assertFalse(fd.isMonitoring());
    fd.heartbeat();
    fd.heartbeat();
    assertEquals(2, phi.heartbeats);
    assertTrue(fd.isMonitoring());
    fd.setAddress("pekko://adengine@127.0.0.1:25520");
    assertEquals("pekko://adengine@127.0.0.1:25520", phi.address);
  }

  @Test
  void shouldCallAPauseLongerThanTheThresholdUnreliableUntilTheGraceHasPassed() {
    // given a watch ticking every 100 ms, pauses over 2 s count, 3 s of grace after one
    long ms = 1_000_000L;
    long t = 1_000 * ms;
    LocalPauseWatch watch = new LocalPauseWatch(Duration.ofMillis(100), Duration.ofSeconds(2), Duration.ofSeconds(3), t);

    // when it wakes on time, or 1.5 s late (a busy machine, not a pause)
    t += 100 * ms;
    assertEquals(0, watch.beat(t));
    assertFalse(watch.unreliable(t));
    t += 1_600 * ms;
    watch.beat(t);

    // then nothing is unreliable
    assertFalse(watch.unreliable(t));
    assertEquals(0, watch.pauses());

    // and while it has not woken for more than the threshold, this node's view is unreliable
    assertFalse(watch.unreliable(t + 2_000 * ms));
    assertTrue(watch.unreliable(t + 2_200 * ms));

    // when it wakes 10 s late (a SIGSTOP of 10 s)
    t += 10_100 * ms;
    watch.beat(t);

    // then the view stays unreliable for the grace, then is reliable again
    assertEquals(1, watch.pauses());
    assertTrue(watch.unreliable(t));
    for (int i = 0; i < 29; i++) {
      t += 100 * ms;
      watch.beat(t);
    }
    assertTrue(watch.unreliable(t), "2.9 s after the pause ended");
    for (int i = 0; i < 2; i++) {
      t += 100 * ms;
      watch.beat(t);
    }
    assertFalse(watch.unreliable(t), "3.1 s after the pause ended");
  }

  @Test
  void shouldRejectAThresholdNotAboveTheTick() {
    assertThrows(IllegalArgumentException.class,
        () -> new LocalPauseWatch(Duration.ofMillis(100), Duration.ofMillis(100), Duration.ofSeconds(3), 0));
  }

  @Test
  void shouldBeWhatTheEngineConfiguresForTheClusterAndBuildAsPekkoBuildsIt() {
    // given the engine's configuration
    var config = ConfigFactory.load(ConfigFactory.parseResources("application.conf"))
        .getConfig("pekko.cluster.failure-detector");

    // then the cluster uses this detector, and it can be made from the block as Pekko makes it
    assertEquals(LocalPauseAwareFailureDetector.class.getName(), config.getString("implementation-class"));
    ActorSystem system = ActorSystem.create("fd-test", ConfigFactory.parseString("pekko.actor.provider = local"));
    try {
      FailureDetector fd = new LocalPauseAwareFailureDetector(config, system.eventStream());
      assertTrue(fd.isAvailable(), "no heartbeat yet: available, as Pekko's own detector");
      assertFalse(fd.isMonitoring());
      fd.heartbeat();
      assertTrue(fd.isMonitoring());
    } finally {
      system.terminate();
    }
  }
}
