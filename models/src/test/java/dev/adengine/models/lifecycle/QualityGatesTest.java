package dev.adengine.models.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.models.eval.Metrics;
import dev.adengine.models.lifecycle.QualityGates.Check;
import dev.adengine.models.lifecycle.QualityGates.Result;
import dev.adengine.models.lifecycle.QualityGates.Thresholds;
import java.util.List;
import org.junit.jupiter.api.Test;

class QualityGatesTest {
  static final Thresholds T = Thresholds.defaults();

  /** Metrics of a model on the same 150,000 hold-out rows with 1,500 clicks. */
  static Metrics metrics(double auc, double logLoss, double calibrationError) {
    return new Metrics(150_000, 1_500, auc, logLoss, calibrationError, 0.0100, 0.0100);
  }

  static final Metrics ACTIVE = metrics(0.7870, 0.0512, 0.0005);

  @Test
  void shouldPassEveryCheckWhenTheCandidateIsGoodAndNoWorseThanActive() {
    // given: slightly worse than active, within every margin
    Metrics candidate = metrics(0.7800, 0.0530, 0.0020);

    // when
    Result r = QualityGates.check(candidate, ACTIVE, T);

    // then
    assertTrue(r.passed());
    assertEquals(List.of(), r.failures());
    assertEquals(List.of("auc", "normalized_log_loss", "calibration_error", "auc_vs_active", "log_loss_vs_active",
        "calibration_error_vs_active"), r.checks().stream().map(Check::metric).toList());
    // 0.0530 over the entropy of a 1% click rate (0.0560015)
    assertEquals(0.0530 / 0.0560015, r.checks().get(1).value(), 1e-6);
    assertEquals("passed 6 checks", r.summary());
    assertEquals("auc_vs_active 0.7800 >= 0.7770 (active 0.7870 - 0.0100)", r.checks().get(3).description());
  }

  @Test
  void shouldFailNamingEveryBadMetricWhenTheCandidateIsPoor() {
    // given: ranks barely better than chance, scores worse than predicting the base rate, badly calibrated
    Metrics candidate = metrics(0.5412, 0.0600, 0.0120);

    // when
    Result r = QualityGates.check(candidate, null, T);

    // then: all three fail, each named
    assertFalse(r.passed());
    assertEquals(List.of("auc", "normalized_log_loss", "calibration_error"),
        r.failures().stream().map(Check::metric).toList());
    // sampling noise of 150,000 rows in 20 bins at 1%: sqrt(2 / pi) x sqrt(0.0099 / 7500) = 0.00092
    assertEquals("rejected: auc 0.5412 < 0.6500 (min); normalized_log_loss 1.0714 > 0.9700 (max; log loss 0.0600"
        + " / base-rate entropy 0.0560); calibration_error 0.0120 > 0.0068 (max 0.0050 + twice the sampling noise"
        + " 0.0009)", r.summary());
    Check auc = r.failures().get(0);
    assertEquals(0.5412, auc.value());
    assertEquals(0.65, auc.limit());
  }

  @Test
  void shouldFailTheRelativeCheckWhenAGoodCandidateIsWorseThanActiveBeyondTheMargin() {
    // given: passes every absolute gate, but its log loss is 0.0030 above the active model's
    Metrics candidate = metrics(0.7850, 0.0542, 0.0010);

    // when
    Result r = QualityGates.check(candidate, ACTIVE, T);

    // then
    assertFalse(r.passed());
    assertEquals(List.of("log_loss_vs_active"), r.failures().stream().map(Check::metric).toList());
    assertEquals("rejected: log_loss_vs_active 0.0542 > 0.0532 (active 0.0512 + 0.0020)", r.summary());
  }

  @Test
  void shouldFailOnAucVsActiveWhenTheCandidateRanksWorseBeyondTheDrop() {
    // when
    Result r = QualityGates.check(metrics(0.7700, 0.0512, 0.0005), ACTIVE, T);

    // then
    assertEquals(List.of("auc_vs_active"), r.failures().stream().map(Check::metric).toList());
    assertEquals("rejected: auc_vs_active 0.7700 < 0.7770 (active 0.7870 - 0.0100)", r.summary());
  }

  @Test
  void shouldSkipTheRelativeChecksWhenNoModelIsActive() {
    // when
    Result r = QualityGates.check(metrics(0.7000, 0.0530, 0.0030), null, T);

    // then
    assertTrue(r.passed());
    assertEquals(List.of("auc", "normalized_log_loss", "calibration_error"),
        r.checks().stream().map(Check::metric).toList());
    assertEquals("passed 3 checks", r.summary());
  }

  @Test
  void shouldFailWhenTheAucIsUndefined() {
    // when: a hold-out with one class has no AUC
    Result r = QualityGates.check(metrics(Double.NaN, 0.0500, 0.0005), null, T);

    // then
    assertEquals("rejected: auc NaN < 0.6500 (min)", r.summary());
  }

  @Test
  void shouldRefuseToCompareWhenTheModelsWereEvaluatedOnDifferentRows() {
    // given
    Metrics other = new Metrics(100_000, 1_000, 0.78, 0.05, 0.001, 0.01, 0.01);

    // when / then
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QualityGates.check(other, ACTIVE, T));
    assertEquals("candidate and active model must be evaluated on the same rows: 100000 rows 1000 clicks vs "
        + "150000 rows 1500 clicks", e.getMessage());
  }
}
