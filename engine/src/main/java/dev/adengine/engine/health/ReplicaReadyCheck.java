package dev.adengine.engine.health;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/** Readiness (/ready): the catalog replica is loaded and the gRPC server is bound. */
public final class ReplicaReadyCheck implements Supplier<CompletionStage<Boolean>> {
  private final NodeState state;

  public ReplicaReadyCheck(ActorSystem system) {
    this.state = NodeState.get(Adapter.toTyped(system));
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(state.ready());
  }
}
