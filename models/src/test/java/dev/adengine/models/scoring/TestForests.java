package dev.adengine.models.scoring;

import java.util.List;
import java.util.SplittableRandom;
import smile.classification.GradientTreeBoost;
import smile.math.MathEx;

/**
 * The two Smile models the batch scorers' tests score, trained once per test JVM on
 * {@link FlatForestTest}'s synthetic rows: {@link #wide()} (250 trees of up to 24 leaves) and
 * {@link #small()} (200 trees of up to 8 leaves, the production shape), and rows with NaN.
 */
final class TestForests {
  private static GradientTreeBoost wide;
  private static GradientTreeBoost small;

  private TestForests() {}

  private static synchronized void train() {
    if (wide != null) {
      return;
    }
    double[][] x = FlatForestTest.rows(20_000, new SplittableRandom(11));
    int[] y = FlatForestTest.labels(x, new SplittableRandom(12));
    MathEx.setSeed(13);
    // trees, maxDepth, maxNodes (leaves), nodeSize, shrinkage, subsample
    wide = GradientTreeBoost.fit(SmileFrames.formula(), SmileFrames.of(x, y, FlatForestTest.NAMES), 250, 7, 24, 5,
        0.08, 0.7);
    MathEx.setSeed(14);
    small = GradientTreeBoost.fit(SmileFrames.formula(), SmileFrames.of(x, y, FlatForestTest.NAMES), 200, 5, 8, 5,
        0.1, 0.7);
  }

  static GradientTreeBoost wide() {
    train();
    return wide;
  }

  static GradientTreeBoost small() {
    train();
    return small;
  }

  /** Adds 5,000 rows with about a quarter of their values NaN; returns how many. */
  static int addNanRows(List<double[]> rows, SplittableRandom random) {
    double[][] nan = FlatForestTest.rows(5_000, random);
    for (double[] row : nan) {
      for (int c = 0; c < row.length; c++) {
        if (random.nextInt(4) == 0) {
          row[c] = Double.NaN;
        }
      }
      rows.add(row);
    }
    return nan.length;
  }
}
