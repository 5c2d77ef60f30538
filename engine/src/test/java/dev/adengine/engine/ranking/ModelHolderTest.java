package dev.adengine.engine.ranking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.adengine.models.scoring.CtrModel;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelHolderTest {

  static CtrModel withSchema(CtrModel m, String version, String schemaHash) {
    return new CtrModel(version, schemaHash, m.featureNames(), Map.of(), m.logistic(), m.stage1Calibration(),
        m.forest(), m.stage2Blend());
  }

  @Test
  void shouldSwapInAModelOfTheSameSchemaAndRefuseAnotherWhenDeployed() throws Exception {
    // given
    CtrModel bundled = ModelHolder.load("");
    ModelHolder holder = new ModelHolder(bundled);
    CtrModel next = withSchema(bundled, "next", bundled.schemaHash());

    // when / then: a model of the extractor's schema replaces the active one
    assertSame(bundled, holder.swap(next));
    assertEquals("next", holder.current().version());
    // and one trained on another feature layout is refused, leaving the active model in place
    assertThrows(IllegalStateException.class, () -> holder.swap(withSchema(bundled, "other", "0000000000000000")));
    assertThrows(IllegalStateException.class, () -> new ModelHolder(withSchema(bundled, "other", "0")));
    assertSame(next, holder.current());
  }
}
