package dev.adengine.engine.ranking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.engine.sim.ClickLogGenerator;
import dev.adengine.engine.sim.Market;
import dev.adengine.engine.sim.MarketGenerator;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.models.training.CtrTrainer;
import java.time.LocalDate;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The training pipeline end to end on simulator logs, small enough for the test suite: the full
 * run with its figures is {@code bin/train} (docs/benchmarks/models.md). Also checks that the
 * model shipped in the jar beats the oracle-relative goal on logs it never saw.
 */
class ModelQualityTest {
  static final LocalDate TODAY = LocalDate.of(2026, 11, 28);

  @Test
  void shouldTrainModelsThatRankNearTheOracleAndAreCalibratedWhenTrainedOnSimulatorLogs() {
    // given
    Market market = new MarketGenerator(42, 400, TODAY).generate();
    ClickLogGenerator.Log log = new ClickLogGenerator(market, 11, TODAY).generate(40_000);

    // when
    CtrModel model = CtrTrainer.train("test", FeatureExtractor.NAMES, FeatureExtractor.SCHEMA_HASH,
        log.train().x(), log.train().y(), log.calibration().x(), log.calibration().y(),
        CtrTrainer.Options.defaults().withTrees(60), Map.of()).model();
    TrainModels.Evaluation e = TrainModels.evaluate(model, log.test());

    // then
    double oracle = e.oracle().auc();
    assertTrue(e.stage1().auc() >= 0.95 * oracle, "stage 1 AUC " + e.stage1().auc() + " vs oracle " + oracle);
    assertTrue(e.stage2().auc() >= 0.95 * oracle, "stage 2 AUC " + e.stage2().auc() + " vs oracle " + oracle);
    assertTrue(e.stage2().auc() > e.adCtrBaseline().auc() + 0.1, "trees beat the ad's own CTR by far");
    assertEquals(1.0, e.stage1().calibrationRatio(), 0.15, "stage 1 mean pCTR / observed CTR");
    assertEquals(1.0, e.stage2().calibrationRatio(), 0.15, "stage 2 mean pCTR / observed CTR");
  }

  @Test
  void shouldMeetTheGoalWithTheBundledModelWhenScoringFreshLogs() throws Exception {
    // given: logs from another request stream than the one the bundled model was trained on
    CtrModel bundled = ModelHolder.load("");
    Market market = new MarketGenerator(42, MarketGenerator.DEFAULT_CAMPAIGNS, TODAY).generate();
    ClickLogGenerator.Log log = new ClickLogGenerator(market, 1_234, TODAY).generate(30_000);

    // when
    TrainModels.Evaluation e = TrainModels.evaluate(bundled, log.test());

    // then
    assertEquals(FeatureExtractor.SCHEMA_HASH, bundled.schemaHash());
    assertTrue(e.stage2().auc() >= 0.97 * e.oracle().auc(), "bundled stage 2 " + e.stage2() + " vs " + e.oracle());
    assertTrue(e.stage1().auc() >= 0.97 * e.oracle().auc(), "bundled stage 1 " + e.stage1() + " vs " + e.oracle());
    assertEquals(1.0, e.stage2().calibrationRatio(), 0.15, "bundled stage 2 " + e.stage2());
  }
}
