package dev.adengine.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.engine.health.NodeState;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.models.scoring.CtrModel;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The readiness check {@code model}: a starting node waits for its compiled stage 2 at most
 * {@code stage2-ready-wait}, then reports ready on the scalar path (a node whose cores are contended
 * took minutes to build it, and stayed out of service all that time).
 */
class ModelReadinessTest {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void shouldWaitForTheCompiledStage2AtMostTheReadyWaitThenServeScalar() throws Exception {
    CtrModel scalar = ModelHolder.load("");

    // while it is built, within the wait: not ready, saying why
    NodeState.Status building = EngineNode.modelStatus(scalar, false, Duration.ofSeconds(59), WAIT);
    assertFalse(building.ok());
    assertEquals("serving " + scalar.version() + "; its compiled stage 2 is being built (vector-stage2 = on)",
        building.detail());

    // past the wait, still building: ready, on the scalar path, saying so
    NodeState.Status late = EngineNode.modelStatus(scalar, false, WAIT, WAIT);
    assertTrue(late.ok());
    assertEquals("serving " + scalar.version() + ", stage 2 scalar while its compiled stage 2 is built (longer than"
        + " stage2-ready-wait 60 s)", late.detail());

    // once built (here the build kept the scalar path): ready, saying which path serves
    NodeState.Status built = EngineNode.modelStatus(scalar, true, Duration.ofSeconds(5), WAIT);
    assertTrue(built.ok());
    assertEquals("serving " + scalar.version() + ", stage 2 scalar", built.detail());

    // and with no model at all: not ready, whatever the wait
    assertFalse(EngineNode.modelStatus(null, true, Duration.ofHours(1), WAIT).ok());
  }
}
