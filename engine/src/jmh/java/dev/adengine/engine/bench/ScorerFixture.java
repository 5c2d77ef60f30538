package dev.adengine.engine.bench;

import dev.adengine.models.scoring.FlatForest;
import dev.adengine.models.scoring.SmileFrames;
import java.util.SplittableRandom;
import smile.classification.GradientTreeBoost;
import smile.data.Tuple;
import smile.data.type.StructType;
import smile.math.MathEx;

/**
 * The click model {@link ScorerBench} scores and the rows it scores it on: a binary Smile
 * gradient-boosted forest of production shape (200 trees of at most 8 leaves, depth at most 6,
 * over 37 features) trained with fixed seeds on synthetic ad-like data, its {@link FlatForest}, and
 * {@value #ROWS} held-out rows both as {@code double[]} and as Smile tuples. When the trained
 * production model exists, load it in {@link #build()} instead of training; the rest stays.
 */
public record ScorerFixture(GradientTreeBoost model, FlatForest flat, String[] names, double[][] rows,
    Tuple[] tuples) {
  /** Rows scored in turn (a power of two, so the benchmark cycles with a mask). */
  public static final int ROWS = 4096;
  static final int FEATURES = 37;
  static final int TRAINING_ROWS = 20_000;

  /**
   * Trains (about 10 s on a slow core) and compiles the model, and checks that Smile and the flat
   * forest give the same probability on every row, so the benchmark compares equal work.
   */
  public static ScorerFixture build() {
    String[] names = new String[FEATURES];
    for (int c = 0; c < FEATURES; c++) {
      names[c] = "f" + c;
    }
    double[][] train = rows(TRAINING_ROWS, new SplittableRandom(1));
    int[] clicks = labels(train, new SplittableRandom(2));
    MathEx.setSeed(3); // Smile's subsampling draws from this thread's generator
    // trees, maxDepth, maxNodes (leaves), nodeSize, shrinkage, subsample
    GradientTreeBoost model = GradientTreeBoost.fit(SmileFrames.formula(), SmileFrames.of(train, clicks, names), 200, 6,
        8, 50, 0.08, 0.7);
    FlatForest flat = FlatForest.compile(model, names);

    double[][] rows = rows(ROWS, new SplittableRandom(4));
    StructType schema = SmileFrames.schema(names);
    Tuple[] tuples = new Tuple[ROWS];
    double[] posteriori = new double[2];
    for (int i = 0; i < ROWS; i++) {
      tuples[i] = SmileFrames.row(rows[i], schema);
      model.predict(tuples[i], posteriori);
      double diff = Math.abs(posteriori[1] - flat.probability(rows[i]));
      if (!(diff <= 1e-9)) {
        throw new IllegalStateException("row " + i + ": Smile " + posteriori[1] + ", flat " + flat.probability(rows[i]));
      }
    }
    return new ScorerFixture(model, flat, names, rows, tuples);
  }

  /**
   * Five kinds of columns in turn: integer star ratings 1..5, uniform [0,1), Gaussian, a
   * three-level category code, log-scaled counts.
   */
  static double[][] rows(int n, SplittableRandom random) {
    double[][] x = new double[n][FEATURES];
    for (double[] row : x) {
      for (int c = 0; c < FEATURES; c++) {
        row[c] = switch (c % 5) {
          case 0 -> random.nextInt(1, 6);
          case 1 -> random.nextDouble();
          case 2 -> random.nextGaussian();
          case 3 -> random.nextInt(0, 3);
          default -> Math.log1p(Math.floor(random.nextDouble() * 100));
        };
      }
    }
    return x;
  }

  /** Clicks drawn from a logistic of a nonlinear score with interactions and thresholds. */
  static int[] labels(double[][] x, SplittableRandom random) {
    int[] y = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      double[] r = x[i];
      double z = -1 + 0.6 * (r[0] - 3) + (r[1] > 0.5 ? 1.2 : -0.4) * r[2] + (r[3] == 2 ? 0.8 : 0) + 0.3 * r[4] * r[6]
          - Math.abs(r[7]) + (r[10] >= 4 && r[11] < 0.3 ? 1.5 : 0) + Math.sin(3 * r[12]) + 0.2 * r[15] * r[17]
          - 0.1 * r[24];
      y[i] = random.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    }
    return y;
  }
}
