package dev.adengine.engine.health;

import org.apache.pekko.actor.ActorSystem;

/** Readiness (/ready): a pCTR model is active on this node. */
public final class ModelReadyCheck extends NamedReadyCheck {
  public ModelReadyCheck(ActorSystem system) {
    super(system, NodeState.MODEL);
  }
}
