package dev.adengine.engine.budget;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PacingSimulationTest {
  private static ActorTestKit testKit;

  @BeforeAll
  static void startTestKit() {
    testKit = ActorTestKit.create("PacingSimulationTest", EventSourcedBehaviorTestKit.config()
        .withFallback(ConfigFactory.parseResources("serialization.conf"))
        .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING")));
  }

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldPaceWhenADayIsSimulated() {
    long began = System.nanoTime();
    List<PacingSimulation.Outcome> outcomes =
        new PacingSimulation(PacingSimulation.Settings.defaults(), testKit.system()).run(PacingSimulation.campaigns());
    System.out.println(PacingSimulation.markdown(PacingSimulation.Settings.defaults(), outcomes, List.of(),
        (System.nanoTime() - began) / 1_000_000));
  }
}
