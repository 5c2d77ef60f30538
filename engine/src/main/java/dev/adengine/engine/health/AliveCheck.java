package dev.adengine.engine.health;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;

/** Liveness (/alive): the actor system answers; management itself runs on it. */
public final class AliveCheck implements Supplier<CompletionStage<Boolean>> {
  private final ActorSystem system;

  public AliveCheck(ActorSystem system) {
    this.system = system;
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(!system.whenTerminated().isCompleted());
  }
}
