package dev.adengine.models.scoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import smile.base.cart.InternalNode;
import smile.base.cart.Node;
import smile.base.cart.OrdinalNode;
import smile.classification.GradientTreeBoost;
import smile.data.Tuple;
import smile.data.type.StructType;
import smile.math.MathEx;
import smile.regression.RegressionTree;

/**
 * FlatForest against Smile's own {@code predict} on a model of realistic shape: every row of a
 * large held-out set, including rows sitting exactly on split thresholds, must get the same
 * probability within 1e-9.
 */
class FlatForestTest {
  private static final double TOLERANCE = 1e-9;
  static final String[] NAMES = {
    "stars_ad", "stars_advertiser", "stars_publisher", "stars_user", "clicks_7d", "imps_1d",
    "hour_frac", "bid_norm", "ctx_sim", "recency", "slot_frac", "price_norm",
    "z_user", "z_ad", "z_geo", "z_time", "is_mobile", "dwell_lognorm", "ctr_hist", "ctr_ad"
  };
  private static GradientTreeBoost model;
  private static FlatForest flat;
  private static StructType schema;

  @BeforeAll
  static void train() {
    double[][] x = rows(20_000, new SplittableRandom(11));
    int[] y = labels(x, new SplittableRandom(12));
    MathEx.setSeed(13);
    // trees, maxDepth, maxNodes (leaves), nodeSize, shrinkage, subsample
    model = GradientTreeBoost.fit(SmileFrames.formula(), SmileFrames.of(x, y, NAMES), 250, 7, 24, 5, 0.08, 0.7);
    flat = FlatForest.compile(model, NAMES);
    schema = SmileFrames.schema(NAMES);
  }

  @Test
  void shouldMatchSmileOnEveryHeldOutRowIncludingSplitThresholds() {
    List<double[]> rows = new ArrayList<>(List.of(rows(100_000, new SplittableRandom(21))));
    int onThresholds = addThresholdRows(model, rows, new SplittableRandom(22));
    // given the model's shape
    assertEquals(250, flat.trees());
    assertEquals(NAMES.length, flat.features());
    // then every row gets Smile's probability
    Diff diff = compare(rows);
    System.out.printf(Locale.ROOT, "%d rows (%d on split thresholds), %d trees, %d nodes: %s%n", rows.size(),
        onThresholds, flat.trees(), flat.nodes(), diff);
    assertTrue(rows.size() >= 100_000 + onThresholds && onThresholds > 10_000, rows.size() + " rows");
    assertTrue(diff.max <= TOLERANCE, diff.toString());
  }

  @Test
  void shouldGiveTheSameBitsWithAScratchArrayOnEveryRowIncludingSplitThresholdsAndNan() {
    List<double[]> rows = new ArrayList<>(List.of(rows(100_000, new SplittableRandom(21))));
    int onThresholds = addThresholdRows(model, rows, new SplittableRandom(22));
    SplittableRandom random = new SplittableRandom(23);
    for (double[] row : rows(5_000, random)) {
      for (int c = 0; c < row.length; c++) {
        if (random.nextInt(4) == 0) {
          row[c] = Double.NaN;
        }
      }
      rows.add(row);
    }
    // one scratch array reused for every row, starting from garbage
    double[] scratch = new double[flat.scratchSize()];
    Arrays.fill(scratch, Double.NaN);
    Diff diff = new Diff();
    int notBitIdentical = 0;
    for (int i = 0; i < rows.size(); i++) {
      double[] row = rows.get(i);
      double p = flat.probability(row, scratch);
      if (Double.doubleToRawLongBits(flat.margin(row, scratch)) != Double.doubleToRawLongBits(flat.margin(row))
          || Double.doubleToRawLongBits(p) != Double.doubleToRawLongBits(flat.probability(row))) {
        notBitIdentical++;
      }
      diff.add(i, smile(row), p);
    }
    System.out.printf(Locale.ROOT, "scratch: %d rows (%d on split thresholds): %s%n", rows.size(), onThresholds, diff);
    assertEquals(0, notBitIdentical, "rows where the scratch variant differs from margin(double[]) in any bit");
    assertTrue(diff.max <= TOLERANCE, diff.toString());
    assertThrows(IllegalArgumentException.class, () -> flat.margin(rows.get(0), new double[flat.scratchSize() - 1]));
  }

  @Test
  void shouldMapColumnsByNameWhenTheRowOrderDiffersFromTraining() {
    // given rows laid out in a permuted order, plus one column the model never saw
    int p = NAMES.length;
    int[] perm = new int[p];
    for (int i = 0; i < p; i++) {
      perm[i] = (i * 7 + 3) % p; // row column i holds training column perm[i]
    }
    String[] permuted = new String[p + 1];
    for (int i = 0; i < p; i++) {
      permuted[i] = NAMES[perm[i]];
    }
    permuted[p] = "unused";
    FlatForest byName = FlatForest.compile(model, permuted);
    List<double[]> rows = List.of(rows(5_000, new SplittableRandom(31)));
    // then the permuted forest on permuted rows equals Smile on the training layout
    Diff diff = new Diff();
    for (int i = 0; i < rows.size(); i++) {
      double[] row = rows.get(i);
      double[] moved = new double[p + 1];
      for (int c = 0; c < p; c++) {
        moved[c] = row[perm[c]];
      }
      moved[p] = 1e9;
      diff.add(i, smile(row), byName.probability(moved));
    }
    assertTrue(diff.max <= TOLERANCE, diff.toString());
  }

  @Test
  void shouldSendNanToTheFalseChildLikeSmile() {
    List<double[]> rows = new ArrayList<>();
    SplittableRandom random = new SplittableRandom(41);
    for (double[] row : rows(2_000, random)) {
      for (int c = 0; c < row.length; c++) {
        if (random.nextInt(4) == 0) {
          row[c] = Double.NaN;
        }
      }
      rows.add(row);
    }
    Diff diff = compare(rows);
    assertTrue(diff.max <= TOLERANCE, diff.toString());
  }

  @Test
  void shouldScoreTheSameAfterWriteAndRead() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    flat.write(new DataOutputStream(bytes));
    FlatForest read = FlatForest.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
    assertEquals(flat.trees(), read.trees());
    assertEquals(flat.nodes(), read.nodes());
    assertArrayEquals(NAMES, read.featureNames());
    for (double[] row : rows(2_000, new SplittableRandom(51))) {
      assertEquals(Double.doubleToRawLongBits(flat.margin(row)), Double.doubleToRawLongBits(read.margin(row)));
    }
  }

  @Test
  void shouldRejectAStreamThatIsNotAForest() {
    byte[] junk = new byte[64];
    assertThrows(IOException.class, () -> FlatForest.read(new DataInputStream(new ByteArrayInputStream(junk))));
  }

  @Test
  void shouldRejectAMissingPredictorAndAWrongRowLength() {
    String[] missing = Arrays.copyOf(NAMES, NAMES.length - 1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlatForest.compile(model, missing));
    assertTrue(e.getMessage().contains(NAMES[NAMES.length - 1]), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> flat.probability(new double[NAMES.length - 1]));
  }

  @Test
  void shouldRejectAMultiClassModel() {
    double[][] x = rows(600, new SplittableRandom(61));
    int[] y = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = (int) x[i][0] % 3; // three classes from the first star rating
    }
    GradientTreeBoost multi = GradientTreeBoost.fit(SmileFrames.formula(), SmileFrames.of(x, y, NAMES), 3, 4, 4, 5,
        0.1, 1.0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlatForest.compile(multi, NAMES));
    assertTrue(e.getMessage().contains("3 classes"), e.getMessage());
  }

  /** Synthetic ad features: integer star ratings and counts (many ties), continuous and 0.1-rounded values. */
  static double[][] rows(int n, SplittableRandom random) {
    double[][] x = new double[n][NAMES.length];
    for (double[] row : x) {
      for (int c = 0; c < 4; c++) {
        row[c] = random.nextInt(1, 6);
      }
      row[4] = random.nextInt(0, 21);
      row[5] = Math.floor(-Math.log(1 - random.nextDouble()) * 4);
      for (int c = 6; c < 12; c++) {
        row[c] = random.nextDouble();
      }
      for (int c = 12; c < 16; c++) {
        row[c] = random.nextGaussian();
      }
      row[16] = random.nextInt(2);
      row[17] = Math.exp(random.nextGaussian());
      row[18] = Math.round(random.nextDouble() * 10) / 10.0;
      row[19] = Math.round(random.nextDouble() * 20) / 20.0;
    }
    return x;
  }

  /** Clicks from a nonlinear score: thresholds, interactions and a periodic term. */
  static int[] labels(double[][] x, SplittableRandom random) {
    int[] y = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      double[] r = x[i];
      double z = -1.0 + 0.5 * (r[0] - 3) + (r[1] >= 4 ? 0.8 : -0.3) + (r[2] <= 2 && r[16] == 1 ? -1.2 : 0.2)
          + 0.4 * (r[3] - 3) * r[12] + 0.08 * r[4] - 0.15 * r[5] + Math.sin(6 * r[6]) + (r[7] > 0.7 ? r[13] : -r[13])
          + 1.5 * r[18] * r[19] - 0.3 * Math.abs(r[14]) + 0.2 * Math.log(r[17]) + (r[8] + r[9] > 1.2 ? 0.7 : 0);
      y[i] = random.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    }
    return y;
  }

  /**
   * Adds, for every split of the model, rows with that feature exactly at the threshold and one
   * ulp either side, and rows with many features at once on some threshold. Returns how many.
   */
  static int addThresholdRows(GradientTreeBoost model, List<double[]> rows, SplittableRandom random) {
    List<List<Double>> thresholds = new ArrayList<>();
    for (int c = 0; c < NAMES.length; c++) {
      thresholds.add(new ArrayList<>());
    }
    for (RegressionTree tree : model.trees()) {
      ArrayDeque<Node> open = new ArrayDeque<>(List.of(tree.root()));
      while (!open.isEmpty()) {
        if (open.poll() instanceof OrdinalNode split) {
          // Smile's schema is the training frame's column order, which is NAMES here.
          thresholds.get(split.feature()).add(splitValue(split));
          open.add(split.trueChild());
          open.add(split.falseChild());
        }
      }
    }
    int added = 0;
    for (int c = 0; c < NAMES.length; c++) {
      for (double t : thresholds.get(c)) {
        for (double v : new double[] {t, Math.nextDown(t), Math.nextUp(t)}) {
          double[] row = rows(1, random)[0];
          row[c] = v;
          rows.add(row);
          added++;
        }
      }
    }
    for (int i = 0; i < 10_000; i++) {
      double[] row = rows(1, random)[0];
      for (int c = 0; c < NAMES.length; c++) {
        List<Double> ts = thresholds.get(c);
        if (!ts.isEmpty() && random.nextBoolean()) {
          row[c] = ts.get(random.nextInt(ts.size()));
        }
      }
      rows.add(row);
      added++;
    }
    return added;
  }

  /** Smile keeps the split value package-private; read it the way FlatForest does. */
  private static double splitValue(InternalNode split) {
    try {
      Field value = OrdinalNode.class.getDeclaredField("value");
      value.setAccessible(true);
      return value.getDouble(split);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  private static double smile(double[] row) {
    double[] posteriori = new double[2];
    Tuple tuple = SmileFrames.row(row, schema);
    model.predict(tuple, posteriori);
    return posteriori[1];
  }

  private static Diff compare(List<double[]> rows) {
    Diff diff = new Diff();
    for (int i = 0; i < rows.size(); i++) {
      diff.add(i, smile(rows.get(i)), flat.probability(rows.get(i)));
    }
    return diff;
  }

  /** The largest |Smile - flat| seen, where, and how many rows were not bit-identical. */
  private static final class Diff {
    double max;
    int worstRow = -1;
    int notIdentical;
    int rows;

    void add(int row, double smile, double flat) {
      rows++;
      double d = Math.abs(smile - flat);
      if (Double.doubleToRawLongBits(smile) != Double.doubleToRawLongBits(flat)) {
        notIdentical++;
      }
      if (d > max || Double.isNaN(d)) {
        max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
        worstRow = row;
      }
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "max |smile - flat| = %.3g (row %d), %d of %d rows not bit-identical", max,
          worstRow, notIdentical, rows);
    }
  }
}
