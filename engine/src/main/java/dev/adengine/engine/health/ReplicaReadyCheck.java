package dev.adengine.engine.health;

import org.apache.pekko.actor.ActorSystem;

/** Readiness (/ready): the catalog replica is loaded. */
public final class ReplicaReadyCheck extends NamedReadyCheck {
  public ReplicaReadyCheck(ActorSystem system) {
    super(system, NodeState.REPLICA);
  }
}
