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

/** A node incarnation is dead only on evidence; absence from this node's view is not evidence. */
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
    Cluster c = Cluster.get(system);
    return ClusterLiveness.address(c.selfMember()) + "#" + Long.toUnsignedString(c.selfMember().uniqueAddress().longUid(), 36);
  }

  private static String name(ActorSystem<?> system) {
    return ClusterLiveness.address(Cluster.get(system).selfMember());
  }

  @Test
  void shouldNotCallAnyOtherNodeDeadBeforeThisNodeHasJoined() {
    ActorSystem<Void> a = ActorSystem.create(Behaviors.empty(), "liveness", config());
    ActorSystem<Void> b = ActorSystem.create(Behaviors.empty(), "liveness", config());
    try {
      ClusterLiveness liveness = ClusterLiveness.start(a, name(a));
      // given a node that has not joined: its view of the members is empty
      // then another live node is of unknown fate, not dead (it used to be "not a member", so dead)
      assertEquals(Liveness.UNKNOWN, liveness.liveness(id(b)));
      // and so is an earlier incarnation of this node until its own join is accepted
      assertEquals(Liveness.UNKNOWN, liveness.liveness(name(a) + "#" + Long.toUnsignedString(42L, 36)));
      assertEquals(Liveness.UNKNOWN, liveness.liveness("no-uid"));
      assertEquals(Liveness.MEMBER, liveness.liveness(id(a)));
      // and an incarnation it saw removed is dead
      liveness.sawGone(7L);
      assertEquals(Liveness.GONE, liveness.liveness("somewhere:1#" + Long.toUnsignedString(7L, 36)));
    } finally {
      a.terminate();
      b.terminate();
    }
  }

  @Test
  void shouldTellMembersFromRemovedAndReplacedIncarnationsOnceJoined() {
    ActorSystem<Void> a = ActorSystem.create(Behaviors.empty(), "liveness", config());
    ActorSystem<Void> b = ActorSystem.create(Behaviors.empty(), "liveness", config());
    try {
      ClusterLiveness liveness = ClusterLiveness.start(a, name(a));
      Cluster.get(a).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
      awaitAssert(Duration.ofSeconds(20), () -> assertEquals(MemberStatus.up(), Cluster.get(a).selfMember().status()));
      // an earlier incarnation of this node (same address, other uid) is dead once this one is admitted
      assertEquals(Liveness.GONE, liveness.liveness(name(a) + "#" + Long.toUnsignedString(42L, 36)));
      // a node that never joined is still unknown: absence from the view proves nothing
      assertEquals(Liveness.UNKNOWN, liveness.liveness(id(b)));

      // when b joins, it is a member
      Cluster.get(b).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
      awaitAssert(Duration.ofSeconds(20), () -> assertEquals(Liveness.MEMBER, liveness.liveness(id(b))));
      // and an older incarnation at b's address is dead (the cluster admitted b only after removing it)
      assertEquals(Liveness.GONE, liveness.liveness(name(b) + "#" + Long.toUnsignedString(42L, 36)));

      // when b is downed (as the split-brain resolver downs a killed node), it is dead, and stays so
      // once it is removed from the view: this node saw it go
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
