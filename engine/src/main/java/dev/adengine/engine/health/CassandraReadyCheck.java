package dev.adengine.engine.health;

import org.apache.pekko.actor.ActorSystem;

/** Readiness (/ready): Cassandra answered the node's last probe, recently ({@link CassandraProbe}). */
public final class CassandraReadyCheck extends NamedReadyCheck {
  public CassandraReadyCheck(ActorSystem system) {
    super(system, NodeState.CASSANDRA);
  }
}
