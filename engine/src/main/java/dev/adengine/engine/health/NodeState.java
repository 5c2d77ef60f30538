package dev.adengine.engine.health;

import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/** Per-ActorSystem handle through which Pekko Management's health checks see the node. */
public final class NodeState implements Extension {
  private static final ExtensionId<NodeState> ID = new ExtensionId<>() {
    @Override
    public NodeState createExtension(ActorSystem<?> system) {
      return new NodeState();
    }
  };

  private volatile BooleanSupplier ready = () -> false;

  public static NodeState get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  public void readiness(BooleanSupplier check) {
    this.ready = check;
  }

  public boolean ready() {
    return ready.getAsBoolean();
  }
}
