package dev.adengine.engine;

import static dev.adengine.engine.testing.EngineTestSupport.awaitAssert;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.adengine.engine.events.EventIngest.Liveness;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.Down;
import org.junit.jupiter.api.Test;

/** A node tells a dead serving node from one it cannot see yet only once its own join is accepted. */
class ClusterLivenessTest {

  private static Config config() {
    return ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = "127.0.0.1"
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.jmx.enabled = off
        pekko.coordinated-shutdown.exit-jvm = off
        pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
        pekko.loglevel = WARNING
        """).withFallback(ConfigFactory.defaultReference());
  }

  private static String id(ActorSystem<?> system) {
    return name(system) + "#" + Long.toUnsignedString(Cluster.get(system).selfMember().uniqueAddress().longUid(), 36);
  }

  /** As EngineNode names a node without a configured id: its host:port. */
  private static String name(ActorSystem<?> system) {
    var address = Cluster.get(system).selfMember().address();
    return address.getHost().orElse("local") + ":" + address.getPort().orElse(0);
  }

  @Test
  void shouldNotCallAnyOtherNodeDeadBeforeThisNodeHasJoined() {
    ActorSystem<Void> a = ActorSystem.create(Behaviors.empty(), "liveness", config());
    ActorSystem<Void> b = ActorSystem.create(Behaviors.empty(), "liveness", config());
    try {
      ClusterLiveness liveness = new ClusterLiveness(a);
      // given a node that has not joined: its view of the members is empty
      // then another live node is of unknown fate, not dead (before: "not a member", so dead)
      assertEquals(Liveness.UNKNOWN, liveness.liveness(id(b)));
      assertEquals(Liveness.UNKNOWN, liveness.liveness("no-uid"));
      assertEquals(Liveness.MEMBER, liveness.liveness(id(a)));
    } finally {
      a.terminate();
      b.terminate();
    }
  }

  @Test
  void shouldTellMembersFromDeadIncarnationsOnceJoined() {
    ActorSystem<Void> a = ActorSystem.create(Behaviors.empty(), "liveness", config());
    ActorSystem<Void> b = ActorSystem.create(Behaviors.empty(), "liveness", config());
    try {
      ClusterLiveness liveness = new ClusterLiveness(a);
      Cluster.get(a).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
      awaitAssert(Duration.ofSeconds(20), () -> assertEquals(MemberStatus.up(), Cluster.get(a).selfMember().status()));
      // once admitted, an incarnation absent from the view is dead (an earlier one of this node, say)
      assertEquals(Liveness.GONE, liveness.liveness(name(a) + "#" + Long.toUnsignedString(42L, 36)));

      // when b joins, it is a member
      Cluster.get(b).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
      awaitAssert(Duration.ofSeconds(20), () -> assertEquals(Liveness.MEMBER, liveness.liveness(id(b))));

      // when b is downed (as the split-brain resolver downs a killed node), it is dead, and stays so
      // once it is removed from the view
      String bId = id(b);
      Cluster.get(a).manager().tell(new Down(Cluster.get(b).selfMember().address()));
      awaitAssert(Duration.ofSeconds(30), () -> assertEquals(Liveness.GONE, liveness.liveness(bId)));
      awaitAssert(Duration.ofSeconds(30), () -> assertEquals(1,
          java.util.stream.StreamSupport.stream(Cluster.get(a).state().getMembers().spliterator(), false).count()));
      assertEquals(Liveness.GONE, liveness.liveness(bId));
    } finally {
      a.terminate();
      b.terminate();
    }
  }
}
