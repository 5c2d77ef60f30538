package dev.adengine.engine.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.models.features.FeatureExtractor;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;

class ClickLogGeneratorTest {
  static final LocalDate TODAY = LocalDate.of(2026, 11, 28);

  @Test
  void shouldLogImpressionsWithTheirPositionTruthAndClicksWhenGenerating() {
    // given
    Market market = new MarketGenerator(42, 300, TODAY).generate();

    // when
    ClickLogGenerator.Log log = new ClickLogGenerator(market, 3, TODAY).generate(4_000);

    // then: splits by request, about 60/15/25
    int total = log.train().size() + log.calibration().size() + log.test().size();
    assertEquals(0.60, (double) log.train().size() / total, 0.05);
    assertEquals(0.25, (double) log.test().size() / total, 0.05);
    int logPosition = FeatureExtractor.NAMES.indexOf("log_position");
    int inDestination = FeatureExtractor.NAMES.indexOf("in_destination");
    double clicks = 0;
    double expected = 0;
    int elsewhere = 0;
    boolean lowerPositions = false;
    for (ClickLogGenerator.Rows rows : new ClickLogGenerator.Rows[] {log.train(), log.calibration(), log.test()}) {
      for (int i = 0; i < rows.size(); i++) {
        assertTrue(rows.truth()[i] > 0 && rows.truth()[i] < 1);
        clicks += rows.y()[i];
        expected += rows.truth()[i];
        lowerPositions |= rows.x()[i][logPosition] > 0;
        elsewhere += rows.x()[i][inDestination] == 0 ? 1 : 0;
      }
    }
    assertTrue(lowerPositions, "ads are logged below the first slot too");
    assertTrue(elsewhere > 0 && elsewhere < total, "multi-destination campaigns show hotels elsewhere");
    // clicks follow the ground truth: within 4 standard deviations of the expected count
    assertEquals(expected, clicks, 4 * Math.sqrt(expected));
  }

  @Test
  void shouldGiveTheSameLogWhenSeedsAreTheSame() {
    Market market = new MarketGenerator(42, 200, TODAY).generate();
    ClickLogGenerator.Log a = new ClickLogGenerator(market, 9, TODAY).generate(500);
    ClickLogGenerator.Log b = new ClickLogGenerator(market, 9, TODAY).generate(500);
    assertEquals(a.train().size(), b.train().size());
    for (int i = 0; i < a.train().size(); i++) {
      assertEquals(a.train().y()[i], b.train().y()[i]);
      assertEquals(a.train().truth()[i], b.train().truth()[i], 0.0);
    }
  }
}
