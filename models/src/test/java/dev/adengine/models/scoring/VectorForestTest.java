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
 * VectorForest against Smile's own {@code predict}, row by row, on two models: FlatForestTest's
 * (250 trees of up to 24 leaves, one tree per generated method) and one of the production shape
 * (8 leaves per tree, several trees per method); every held-out row, rows exactly on split
 * thresholds and rows with NaN, scored in batches whose sizes are mostly not multiples of the
 * vector width. The surefire argLine adds the Vector API module, and the tests assert that the
 * vector path is the one running, so they cannot pass on the scalar fallback.
 */
class VectorForestTest {
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
    VectorForest vector = VectorForest.of(FlatForest.compile(small, NAMES));
    System.out.println("path: " + vector.path());
    assertTrue(vector.vectorized(), vector.path());
    assertTrue(vector.lanes() >= 4, vector.path());
  }

  @Test
  void shouldMatchSmileOnEveryRowIncludingSplitThresholdsAndNanForBothModelShapes() {
    for (GradientTreeBoost model : List.of(wide, small)) {
      FlatForest flat = FlatForest.compile(model, NAMES);
      VectorForest vector = VectorForest.of(flat);
      assertTrue(vector.vectorized(), vector.path());
      List<double[]> rows = new ArrayList<>(List.of(FlatForestTest.rows(100_000, new SplittableRandom(21))));
      int onThresholds = FlatForestTest.addThresholdRows(model, rows, new SplittableRandom(22));
      int withNan = TestForests.addNanRows(rows, new SplittableRandom(23));
      double[][] all = rows.toArray(new double[0][]);

      double[] p = new double[all.length];
      double[] margins = new double[all.length];
      score(vector, all, p, margins);
      int notIdenticalToSmile = 0;
      int notIdenticalToFlat = 0;
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
        if (Double.doubleToRawLongBits(margins[i]) != Double.doubleToRawLongBits(flat.margin(all[i]))) {
          notIdenticalToFlat++;
        }
      }
      System.out.printf(Locale.ROOT, "%d trees, %d nodes, %s: %d rows (%d on split thresholds, %d with NaN):"
          + " max |smile - vector| = %.3g (row %d), %d rows not bit-identical to Smile, %d margins not"
          + " bit-identical to FlatForest%n", flat.trees(), flat.nodes(), vector.path(), all.length, onThresholds,
          withNan, max, worst, notIdenticalToSmile, notIdenticalToFlat);
      assertTrue(onThresholds > 10_000 && withNan == 5_000, onThresholds + " threshold rows");
      assertTrue(max <= TOLERANCE, "max |smile - vector| = " + max + " at row " + worst);
      assertEquals(0, notIdenticalToFlat, "margins differing from FlatForest.margin in any bit");
    }
  }

  @Test
  void shouldGiveTheSameBitsOnTheScalarFallback() {
    FlatForest flat = FlatForest.compile(small, NAMES);
    VectorForest vector = VectorForest.of(flat);
    VectorForest scalar = VectorForest.scalar(flat, "test");
    assertFalse(scalar.vectorized());
    assertTrue(scalar.path().contains("test"), scalar.path());
    double[][] rows = FlatForestTest.rows(3_001, new SplittableRandom(31));
    double[] a = new double[rows.length];
    double[] b = new double[rows.length];
    score(vector, rows, a, new double[rows.length]);
    score(scalar, rows, b, new double[rows.length]);
    for (int i = 0; i < rows.length; i++) {
      assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(b[i]), "row " + i);
    }
  }

  @Test
  void shouldScoreARangeInTheMiddleAndLeaveTheRestOfOutAlone() {
    VectorForest vector = VectorForest.of(FlatForest.compile(small, NAMES));
    double[][] rows = FlatForestTest.rows(40, new SplittableRandom(41));
    double[] out = new double[20];
    Arrays.fill(out, -1);
    vector.margins(rows, 5, 11, out, new double[vector.scratchSize()]);
    for (int i = 0; i < 11; i++) {
      assertEquals(Double.doubleToRawLongBits(vector.forest().margin(rows[5 + i])),
          Double.doubleToRawLongBits(out[i]), "row " + (5 + i));
    }
    for (int i = 11; i < out.length; i++) {
      assertEquals(-1, out[i]);
    }
  }

  @Test
  void shouldRejectAWrongRowLengthAndAShortScratch() {
    VectorForest vector = VectorForest.of(FlatForest.compile(small, NAMES));
    double[][] rows = FlatForestTest.rows(10, new SplittableRandom(51));
    rows[9] = Arrays.copyOf(rows[9], NAMES.length - 1);
    double[] out = new double[10];
    assertThrows(IllegalArgumentException.class,
        () -> vector.margins(rows, 0, 10, out, new double[vector.scratchSize()]));
    assertThrows(IllegalArgumentException.class,
        () -> vector.margins(rows, 0, 9, out, new double[vector.scratchSize() - 1]));
  }

  /** Scores all rows in consecutive batches of the sizes in {@link #BATCH_SIZES}, in turn. */
  private static void score(VectorForest vector, double[][] rows, double[] p, double[] margins) {
    double[] scratch = new double[vector.scratchSize()];
    Arrays.fill(scratch, Double.NaN); // garbage from the start
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
}
