package dev.adengine.engine;

import dev.adengine.engine.events.EventIngest;
import dev.adengine.engine.events.EventIngest.Liveness;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * What this node knows of another node incarnation, named as in grants and served records
 * ({@code name#uid}, the uid being the cluster member's unique-address uid): a click on an ad that
 * a dead incarnation served is booked against it without its (lost) ledger, so "dead" must be
 * known, never inferred from this node's view alone.
 *
 * <p>A node's view of the members is empty until its join is accepted (a restarted node serves
 * gRPC before that), and may briefly lack a member that has just joined: absence from the view
 * proves nothing. An incarnation is {@link Liveness#GONE} only on evidence: this node saw it
 * downed or removed; it is Down or Removed in the current view; or a newer incarnation holds its
 * place (its address, or this node's own name), which the cluster admits only once the old one
 * is removed. A member of the view is {@link Liveness#MEMBER}; anything else is
 * {@link Liveness#UNKNOWN}. Lookups read the cluster's current state and a concurrent set: they
 * never block.
 */
final class ClusterLiveness implements EventIngest.Members {
  private final Cluster cluster;
  private final String selfName;
  private final long selfUid;
  /** Uids of incarnations this node saw downed or removed (one entry per removed member). */
  private final Set<Long> gone = ConcurrentHashMap.newKeySet();

  private ClusterLiveness(ActorSystem<?> system, String selfName) {
    this.cluster = Cluster.get(system);
    this.selfName = selfName;
    this.selfUid = cluster.selfMember().uniqueAddress().longUid();
  }

  /** Starts watching member events; call before the node joins, so that no removal is missed. */
  static ClusterLiveness start(ActorSystem<?> system, String selfName) {
    ClusterLiveness liveness = new ClusterLiveness(system, selfName);
    system.systemActorOf(liveness.watcher(), "cluster-liveness", Props.empty());
    return liveness;
  }

  private Behavior<Object> watcher() {
    return Behaviors.setup(ctx -> {
      cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberEvent.class));
      return Behaviors.receiveMessage(msg -> {
        if (msg instanceof ClusterEvent.MemberRemoved e) {
          gone.add(e.member().uniqueAddress().longUid());
        } else if (msg instanceof ClusterEvent.MemberDowned e) {
          gone.add(e.member().uniqueAddress().longUid());
        }
        return Behaviors.same();
      });
    });
  }

  /** Records that an incarnation was downed or removed (what the watcher does; for tests). */
  void sawGone(long uid) {
    gone.add(uid);
  }

  @Override
  public Liveness liveness(String nodeId) {
    int hash = nodeId.lastIndexOf('#');
    if (hash < 0) {
      return Liveness.UNKNOWN;
    }
    String name = nodeId.substring(0, hash);
    long uid;
    try {
      uid = Long.parseUnsignedLong(nodeId.substring(hash + 1), 36);
    } catch (NumberFormatException e) {
      return Liveness.UNKNOWN;
    }
    if (uid == selfUid) {
      return Liveness.MEMBER;
    }
    if (gone.contains(uid)) {
      return Liveness.GONE;
    }
    boolean admitted = admitted(cluster.selfMember().status());
    if (admitted && name.equals(selfName)) {
      // An earlier incarnation of this very node (same address, or same configured name).
      return Liveness.GONE;
    }
    Liveness byAddress = Liveness.UNKNOWN;
    for (Member m : cluster.state().getMembers()) {
      if (m.uniqueAddress().longUid() == uid) {
        MemberStatus status = m.status();
        return status == MemberStatus.down() || status == MemberStatus.removed() ? Liveness.GONE : Liveness.MEMBER;
      }
      if (name.equals(address(m))) {
        // Another incarnation holds this address: the cluster removed this one before admitting it.
        byAddress = Liveness.GONE;
      }
    }
    return byAddress;
  }

  /** {@code host:port}, as a node is named when no node id is configured. */
  static String address(Member m) {
    return m.address().getHost().orElse("local") + ":" + m.address().getPort().orElse(0);
  }

  /** Whether this node's join was accepted, so that its view holds every member. */
  private static boolean admitted(MemberStatus s) {
    return s == MemberStatus.joining() || s == MemberStatus.weaklyUp() || s == MemberStatus.up()
        || s == MemberStatus.leaving() || s == MemberStatus.exiting();
  }
}
