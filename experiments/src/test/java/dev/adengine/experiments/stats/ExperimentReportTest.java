package dev.adengine.experiments.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.experiments.ArmDef;
import dev.adengine.experiments.ArmParams;
import dev.adengine.experiments.ExperimentConfig;
import dev.adengine.experiments.ExperimentDef;
import dev.adengine.experiments.Layer;
import dev.adengine.experiments.stats.ExperimentReport.ArmReport;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExperimentReportTest {

  static ExperimentDef experiment(int controlBp) {
    return ExperimentConfig.EMPTY.withLayer(Layer.of("ranking"))
        .create("rank-v8", "ranking", 10_000, List.of(
            ArmDef.of("control", controlBp, true, ArmParams.DEFAULTS.withModelVersion("v7")),
            ArmDef.of("v8", 10_000 - controlBp, false, ArmParams.DEFAULTS.withModelVersion("v8"))))
        .start("rank-v8").experiment("rank-v8").orElseThrow();
  }

  @Test
  void shouldCompareEachArmWithTheControlWhenReporting() {
    // given stats with known figures
    ArmStats control = ArmStats.of(10_000, 8_000, 8_000, 400, 40_000_000, 8e12, 40_000_000, null);
    ArmStats v8 = ArmStats.of(10_000, 8_200, 8_200, 480, 52_000_000, 1.1e13, 52_000_000, null);

    // when
    ExperimentReport report = ExperimentReport.of(experiment(5000), Map.of("control", control, "v8", v8));

    // then the figures are the tests' on the same counts
    ArmReport c = report.arm("control");
    assertTrue(c.control());
    assertNull(c.ctr());
    ArmReport t = report.arm("v8");
    assertEquals(SignificanceTests.twoProportion(400, 8_000, 480, 8_200, 0.95), t.ctr());
    assertEquals(SignificanceTests.twoProportion(8_000, 10_000, 8_200, 10_000, 0.95), t.fillRate());
    assertEquals(SignificanceTests.welch(SignificanceTests.Moments.of(10_000, 4e7, 8e12),
        SignificanceTests.Moments.of(10_000, 5.2e7, 1.1e13), 0.95), t.revenuePerRequest());
    assertEquals(1200, t.revenuePerRequest().difference(), 1e-9);
    assertEquals(0.3, t.revenuePerRequest().relativeLift(), 1e-12);
    assertFalse(report.sampleRatio().mismatch());
    String text = report.render();
    assertTrue(text.contains("v8 vs control"), text);
    assertTrue(text.contains("sample ratio"), text);
  }

  @Test
  void shouldFlagASampleRatioMismatchWhenRequestsStrayFromTheSplit() {
    // given a 50/50 experiment: 5,210 against 4,790 requests (chi-square 17.6, p = 2.7e-5)
    ExperimentReport skewed = ExperimentReport.of(experiment(5000), Map.of(
        "control", ArmStats.of(5_210, 0, 0, 0, 0, 0, 0, null), "v8", ArmStats.of(4_790, 0, 0, 0, 0, 0, 0, null)));
    // and 5,050 against 4,950 (p = 0.32)
    ExperimentReport fine = ExperimentReport.of(experiment(5000), Map.of(
        "control", ArmStats.of(5_050, 0, 0, 0, 0, 0, 0, null), "v8", ArmStats.of(4_950, 0, 0, 0, 0, 0, 0, null)));
    // and a 90/10 split observed as 9,000 against 1,000
    ExperimentReport uneven = ExperimentReport.of(experiment(9000), Map.of(
        "control", ArmStats.of(9_000, 0, 0, 0, 0, 0, 0, null), "v8", ArmStats.of(1_000, 0, 0, 0, 0, 0, 0, null)));

    assertTrue(skewed.sampleRatio().mismatch());
    assertEquals(2.6691498031812692e-05, skewed.sampleRatio().chiSquare().pValue(), 1e-12);
    assertTrue(skewed.render().contains("MISMATCH"));
    assertFalse(fine.sampleRatio().mismatch());
    assertFalse(uneven.sampleRatio().mismatch());
    assertEquals(1_000, uneven.sampleRatio().expected()[1], 1e-9);
  }

  @Test
  void shouldReportNothingSignificantWhenAnArmHasNoData() {
    ExperimentReport report = ExperimentReport.of(experiment(5000), Map.of());
    ArmReport t = report.arm("v8");
    assertFalse(t.ctr().significant());
    assertFalse(t.revenuePerRequest().significant());
    assertFalse(report.sampleRatio().mismatch());
    assertEquals(0, t.latencyP99Micros());
    // and the table says so with "-", not NaN
    String text = report.render();
    assertFalse(text.contains("NaN") || text.contains("Infinity"), text);
    assertTrue(text.lines().anyMatch(l -> l.matches("v8\\s+0\\s+-\\s+0\\s+0\\s+-\\s+-\\s+0\\.00\\s+-")), text);
    assertTrue(text.contains("CTR          lift -  diff -  CI [-, -]  p -"), text);
  }
}
