package dev.adengine.models.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import smile.classification.GradientTreeBoost;
import smile.data.Tuple;
import smile.data.type.StructType;

/**
 * RankForest against Smile's own {@code predict}, row by row, on two models: FlatForestTest's
 * (250 trees of up to 24 leaves: one tree per byte, bucket-table ranks) and one of the production
 * shape (8 leaves per tree: two trees per byte); every held-out row, rows exactly on split
 * thresholds and next to them, rows with NaN and rows of extreme values, scored in batches whose
 * sizes are mostly not multiples of the vector width. The surefire argLine adds the Vector API
 * module, and the tests assert that the vector path is the one running, so they cannot pass on
 * the scalar fallback.
 */
class RankForestTest {
  private static final double TOLERANCE = 1e-9;
  private static final String[] NAMES = FlatForestTest.NAMES;
  private static final int[] BATCH_SIZES = {1, 3, 8, 13, 50, 7, 16, 2, 9, 64, 5};
  private static GradientTreeBoost wide;
  private static GradientTreeBoost small;
  private static StructType schema;

  @BeforeAll
  static void train() {
    wide = TestForests.wide();
    small = TestForests.small();
    schema = SmileFrames.schema(NAMES);
  }

  @Test
  void shouldRunTheVectorPathInThisJvm() {
    assertTrue(ModuleLayer.boot().findModule(VectorForest.VECTOR_MODULE).isPresent(),
        "the test JVM must run with --add-modules " + VectorForest.VECTOR_MODULE + " (surefire argLine)");
    RankForest vector = RankForest.of(FlatForest.compile(small, NAMES));
    System.out.println("path: " + vector.path());
    assertTrue(vector.vectorized(), vector.path());
    assertTrue(vector.lanes() >= 16, vector.path());
  }

  @Test
  void shouldMatchSmileOnEveryRowIncludingSplitThresholdsAndNanForBothModelShapes() {
    for (GradientTreeBoost model : List.of(wide, small)) {
      FlatForest flat = FlatForest.compile(model, NAMES);
      RankForest vector = RankForest.of(flat);
      assertTrue(vector.vectorized(), vector.path());
      List<double[]> rows = new ArrayList<>(List.of(FlatForestTest.rows(100_000, new SplittableRandom(21))));
      int onThresholds = FlatForestTest.addThresholdRows(model, rows, new SplittableRandom(22));
      int withNan = TestForests.addNanRows(rows, new SplittableRandom(23));
      int extreme = addExtremeRows(rows, flat, new SplittableRandom(24));
      double[][] all = rows.toArray(new double[0][]);

      double[] p = new double[all.length];
      double[] margins = new double[all.length];
      score(vector, all, p, margins);
      int notIdenticalToSmile = 0;
      double maxToFlat = 0;
      double max = 0;
      int worst = -1;
      double[] posteriori = new double[2];
      for (int i = 0; i < all.length; i++) {
        Tuple tuple = SmileFrames.row(all[i], schema);
        model.predict(tuple, posteriori);
        double d = Math.abs(posteriori[1] - p[i]);
        if (!(d <= max)) {
          max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
          worst = i;
        }
        if (Double.doubleToRawLongBits(posteriori[1]) != Double.doubleToRawLongBits(p[i])) {
          notIdenticalToSmile++;
        }
        maxToFlat = Math.max(maxToFlat, Math.abs(margins[i] - flat.margin(all[i])));
      }
      System.out.printf(Locale.ROOT, "%d trees, %d nodes, %s: %d rows (%d on split thresholds, %d with NaN,"
          + " %d extreme): max |smile - rank| = %.3g (row %d), %d rows not bit-identical to Smile,"
          + " max |flat margin - rank margin| = %.3g%n", flat.trees(), flat.nodes(), vector.path(), all.length,
          onThresholds, withNan, extreme, max, worst, notIdenticalToSmile, maxToFlat);
      assertTrue(vector.vectorized(), vector.path());
      assertTrue(onThresholds > 10_000 && withNan == 5_000 && extreme > 1_000, onThresholds + " threshold rows");
      assertTrue(max <= TOLERANCE, "max |smile - rank| = " + max + " at row " + worst);
      // A wrong rank sends a row down the wrong branch: a leaf of another value, off by far more than rounding.
      assertTrue(maxToFlat <= 1e-12, "max |flat margin - rank margin| = " + maxToFlat);
    }
  }

  @Test
  void shouldRankEveryFeatureInTheGeneratedCodeAsTheScalarRankDoes() {
    FlatForest flat = FlatForest.compile(small, NAMES);
    RankForest vector = RankForest.of(flat);
    assertTrue(vector.vectorized(), vector.path());
    int features = flat.features();
    // Per feature: each threshold, its neighbouring doubles, and values no threshold is near.
    List<double[]> rows = new ArrayList<>();
    double[] specials = {Double.NaN, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, -Double.MAX_VALUE,
        Double.MAX_VALUE, -0.0, 0.0, Double.MIN_VALUE, -Double.MIN_VALUE, 1e300, -1e300};
    SplittableRandom random = new SplittableRandom(51);
    int bucketed = 0;
    for (int f = 0; f < features; f++) {
      double[] t = vector.thresholdsOf(f);
      bucketed += t.length > 4 ? 1 : 0;
      List<Double> values = new ArrayList<>();
      for (double v : t) {
        values.addAll(List.of(v, Math.nextDown(v), Math.nextUp(v), v + random.nextDouble(-1, 1)));
      }
      for (double v : specials) {
        values.add(v);
      }
      for (int i = 0; i < values.size(); i++) {
        while (rows.size() <= i) {
          double[] row = new double[features];
          for (int g = 0; g < features; g++) {
            row[g] = random.nextDouble(-10, 10);
          }
          rows.add(row);
        }
        rows.get(i)[f] = values.get(i);
      }
    }
    assertTrue(bucketed > 0, "the model must have features ranked through bucket tables");
    int lanes = vector.lanes();
    byte[] columns = new byte[features * lanes];
    int checked = 0;
    for (int from = 0; from < rows.size(); from += lanes) {
      int n = Math.min(lanes, rows.size() - from);
      double[][] batch = rows.toArray(new double[0][]);
      vector.ranks(batch, from, n, columns);
      for (int f = 0; f < features; f++) {
        if (vector.thresholdsOf(f).length == 0) {
          continue; // no split reads the feature: its column is not written
        }
        for (int l = 0; l < n; l++) {
          double x = batch[from + l][f];
          assertEquals(vector.rank(f, x), columns[f * lanes + l] + 128, "feature " + f + ", x = " + x);
          checked++;
        }
      }
    }
    assertTrue(checked > 1_000, checked + " ranks checked");
  }

  @Test
  void shouldAgreeWithTheScalarFallback() {
    FlatForest flat = FlatForest.compile(small, NAMES);
    RankForest vector = RankForest.of(flat);
    RankForest scalar = RankForest.scalar(flat, "test");
    assertFalse(scalar.vectorized());
    assertTrue(scalar.path().contains("test"), scalar.path());
    double[][] rows = FlatForestTest.rows(3_001, new SplittableRandom(31));
    double[] a = new double[rows.length];
    double[] b = new double[rows.length];
    score(vector, rows, a, new double[rows.length]);
    score(scalar, rows, b, new double[rows.length]);
    for (int i = 0; i < rows.length; i++) {
      assertEquals(b[i], a[i], 1e-12, "row " + i);
    }
  }

  @Test
  void shouldStopItsWarmUpOnceItsBudgetIsSpentAndRunEveryBatchWithinIt() {
    RankForest vector = RankForest.of(FlatForest.compile(small, NAMES));
    RankForest scalar = RankForest.scalar(FlatForest.compile(small, NAMES), "test");
    // a budget already spent: the warm-up stops at its first check, after 64 batches
    assertEquals(64, vector.warmUp(20_000, System.nanoTime() - 1_000, 0));
    // a budget it cannot spend: every batch runs
    assertEquals(200, vector.warmUp(200, System.nanoTime(), Long.MAX_VALUE));
    // the scalar path has nothing to warm up
    assertEquals(0, scalar.warmUp(200, System.nanoTime(), Long.MAX_VALUE));
  }

  @Test
  void shouldScoreARangeInTheMiddleAndLeaveTheRestOfOutAlone() {
    RankForest vector = RankForest.of(FlatForest.compile(small, NAMES));
    double[][] rows = FlatForestTest.rows(40, new SplittableRandom(41));
    double[] out = new double[20];
    Arrays.fill(out, -1);
    vector.margins(rows, 5, 11, out, vector.newScratch());
    for (int i = 0; i < 11; i++) {
      assertEquals(vector.forest().margin(rows[5 + i]), out[i], 1e-12, "row " + (5 + i));
    }
    for (int i = 11; i < out.length; i++) {
      assertEquals(-1, out[i]);
    }
  }

  @Test
  void shouldShareTheGeneratedKernelOfAnEqualForestAndOnlyOfAnEqualOne() {
    // given two equal forests compiled separately (as two nodes, or a rollback, load one model) and another one
    RankForest first = RankForest.of(FlatForest.compile(small, NAMES));
    FlatForest again = FlatForest.compile(small, NAMES);
    // when each gets its rank scorer
    RankForest second = RankForest.of(again);
    RankForest other = RankForest.of(FlatForest.compile(wide, NAMES));
    // then the equal forest reuses the first one's generated class, the other gets its own
    assertTrue(second.vectorized() && second.path().contains("shared with an equal forest"), second.path());
    assertEquals(generatedClass(first), generatedClass(second));
    assertFalse(generatedClass(other).equals(generatedClass(first)), other.path());
    // and the shared kernel scores the forest it was given
    double[][] rows = FlatForestTest.rows(130, new SplittableRandom(61));
    double[] out = new double[rows.length];
    second.margins(rows, 0, rows.length, out, second.newScratch());
    for (int i = 0; i < rows.length; i++) {
      assertEquals(again.margin(rows[i]), out[i], 1e-12, "row " + i);
    }
  }

  private static String generatedClass(RankForest r) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("generated (\\S+)").matcher(r.path());
    assertTrue(m.find(), r.path());
    return m.group(1);
  }

  @Test
  void shouldRejectAWrongRowLengthAndAnotherScorersScratch() {
    RankForest vector = RankForest.of(FlatForest.compile(small, NAMES));
    double[][] rows = FlatForestTest.rows(10, new SplittableRandom(51));
    rows[9] = Arrays.copyOf(rows[9], NAMES.length - 1);
    double[] out = new double[10];
    assertThrows(IllegalArgumentException.class, () -> vector.margins(rows, 0, 10, out, vector.newScratch()));
    RankForest other = RankForest.of(FlatForest.compile(wide, NAMES));
    assertThrows(IllegalArgumentException.class, () -> vector.margins(rows, 0, 9, out, other.newScratch()));
  }

  /** Scores all rows in consecutive batches of the sizes in {@link #BATCH_SIZES}, in turn. */
  private static void score(RankForest vector, double[][] rows, double[] p, double[] margins) {
    RankForest.Scratch scratch = vector.newScratch();
    double[] out = new double[64];
    for (int i = 0, k = 0; i < rows.length; k++) {
      int n = Math.min(BATCH_SIZES[k % BATCH_SIZES.length], rows.length - i);
      vector.probabilities(rows, i, n, out, scratch);
      System.arraycopy(out, 0, p, i, n);
      vector.margins(rows, i, n, out, scratch);
      System.arraycopy(out, 0, margins, i, n);
      i += n;
    }
  }

  /**
   * Rows whose values sit at the edges of what a double holds, and a hair either side of the
   * forest's thresholds: infinities, the largest and smallest doubles, both zeros, and
   * {@code Math.nextUp}/{@code nextDown} of thresholds, where a rank bucket boundary is likeliest
   * to be off by one.
   */
  private static int addExtremeRows(List<double[]> rows, FlatForest flat, SplittableRandom random) {
    double[] special = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MAX_VALUE, -Double.MAX_VALUE,
        Double.MIN_VALUE, -Double.MIN_VALUE, 0.0, -0.0, 1e300, -1e300};
    double[] thresholds = flat.slotValues();
    int[] features = flat.slotFeatures();
    int added = 0;
    for (int i = 0; i < 3_000; i++) {
      double[] row = FlatForestTest.rows(1, random)[0];
      for (int c = 0; c < row.length; c++) {
        if (random.nextInt(3) == 0) {
          row[c] = special[random.nextInt(special.length)];
        }
      }
      // Nudge a few columns to a hair either side of a threshold of theirs.
      for (int k = 0; k < 4; k++) {
        int s = random.nextInt(thresholds.length);
        if (!flat.leafAt(s)) {
          double t = thresholds[s];
          row[features[s]] = random.nextBoolean() ? Math.nextUp(t) : Math.nextDown(t);
        }
      }
      rows.add(row);
      added++;
    }
    return added;
  }
}
