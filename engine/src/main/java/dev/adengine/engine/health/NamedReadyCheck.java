package dev.adengine.engine.health;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * A Pekko Management readiness check that reads one of the node's named checks ({@link NodeState}).
 * A failing check fails its future with a message that starts with the check's name and says why:
 * Pekko Management names a Java check by an internal lambda's class, so the name must be in the
 * message for {@code /ready}'s 500 answer ("Health Check Failed: Check [...] failed: cassandra:
 * ...") to say which check failed.
 */
abstract class NamedReadyCheck implements Supplier<CompletionStage<Boolean>> {
  private final NodeState state;
  private final String name;

  NamedReadyCheck(ActorSystem system, String name) {
    this.state = NodeState.get(Adapter.toTyped(system));
    this.name = name;
  }

  @Override
  public CompletionStage<Boolean> get() {
    NodeState.Status s = state.status(name);
    return s.ok() ? CompletableFuture.completedFuture(true)
        : CompletableFuture.failedFuture(new NotReady(name + ": " + s.detail()));
  }

  /** A failing check's reason; no stack trace (it is an answer, not an error). */
  static final class NotReady extends RuntimeException {
    NotReady(String message) {
      super(message, null, false, false);
    }
  }
}
