package dev.adengine.engine.campaign;

import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/** An actor test kit for event-sourced entity tests: in-memory journal, the engine's CBOR bindings. */
public final class EntityTestKits {
  private EntityTestKits() {}

  public static ActorTestKit start(String name) {
    return ActorTestKit.create(name, EventSourcedBehaviorTestKit.config()
        .withFallback(ConfigFactory.parseResources("serialization.conf"))
        .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING")));
  }
}
