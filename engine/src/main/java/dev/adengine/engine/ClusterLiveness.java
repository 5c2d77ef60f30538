package dev.adengine.engine;

import dev.adengine.engine.events.EventIngest;
import dev.adengine.engine.events.EventIngest.Liveness;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * What this node knows of another node incarnation, named as in grants and served records
 * ({@code name#uid}, the uid being the cluster member's unique-address uid). A click on an ad that
 * a dead incarnation served is booked against it without its (lost) ledger, so "dead" must come
 * from a view of the cluster that can tell.
 *
 * <p>A node's view of the members is empty until its join is accepted, and a restarted node
 * serves gRPC, and so events, before that: then absence from the view proves nothing and the
 * answer is {@link Liveness#UNKNOWN}. Once this node has been admitted (the cluster's welcome
 * carries the whole membership), an incarnation absent from its view, or Down or Removed in it, is
 * {@link Liveness#GONE}: the cluster makes a joining node Up only once every reachable member has
 * seen it join, and a node serves ads only with a grant, which it gets only as a member. (Left
 * open: a member that was unreachable while another joined may lack it for a gossip round.)
 * Lookups read the cluster's current state: they never block.
 */
final class ClusterLiveness implements EventIngest.Members {
  private final Cluster cluster;
  private final long selfUid;

  ClusterLiveness(ActorSystem<?> system) {
    this.cluster = Cluster.get(system);
    this.selfUid = cluster.selfMember().uniqueAddress().longUid();
  }

  @Override
  public Liveness liveness(String nodeId) {
    int hash = nodeId.lastIndexOf('#');
    if (hash < 0) {
      return Liveness.UNKNOWN;
    }
    long uid;
    try {
      uid = Long.parseUnsignedLong(nodeId.substring(hash + 1), 36);
    } catch (NumberFormatException e) {
      return Liveness.UNKNOWN;
    }
    if (uid == selfUid) {
      return Liveness.MEMBER;
    }
    for (Member m : cluster.state().getMembers()) {
      if (m.uniqueAddress().longUid() == uid) {
        MemberStatus status = m.status();
        return status == MemberStatus.down() || status == MemberStatus.removed() ? Liveness.GONE : Liveness.MEMBER;
      }
    }
    return admitted(cluster.selfMember().status()) ? Liveness.GONE : Liveness.UNKNOWN;
  }

  /** Whether this node's join was accepted, so that its view holds every member. */
  private static boolean admitted(MemberStatus s) {
    return s == MemberStatus.joining() || s == MemberStatus.weaklyUp() || s == MemberStatus.up()
        || s == MemberStatus.leaving() || s == MemberStatus.exiting();
  }
}
