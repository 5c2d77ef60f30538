package dev.adengine.models.scoring;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.lang.reflect.Field;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import smile.base.cart.InternalNode;
import smile.base.cart.Node;
import smile.base.cart.OrdinalNode;
import smile.base.cart.RegressionNode;
import smile.classification.GradientTreeBoost;
import smile.data.type.StructType;
import smile.regression.RegressionTree;

/**
 * A binary Smile {@link GradientTreeBoost} compiled into a few flat arrays, evaluated on plain
 * {@code double[]} rows without Smile's per-node objects, tuples and virtual calls: the same
 * probability as {@code model.predict(tuple, posteriori)[1]}, several times faster, without
 * allocating. Immutable and safe to share between threads.
 *
 * <p><b>Semantics, as in Smile 3.1.1.</b> Margin {@code y = b + sum over trees in order of
 * shrinkage * leaf}; probability {@code 1 - 1 / (1 + exp(2y))}, the same expression
 * {@code GradientTreeBoost.predict(Tuple, double[])} evaluates. A node sends a row to its true
 * child when {@code x[feature] <= threshold} ({@code OrdinalNode.predict}), so NaN goes to the
 * false child. Each leaf value is stored already multiplied by the shrinkage: Java evaluates
 * {@code shrinkage * output} to the same double whether at compile time or per row, and the sum
 * runs in Smile's order, so margins and probabilities are bit-identical to Smile's (the tests
 * check within 1e-9 and report how many rows differ at all).
 *
 * <p><b>Layout.</b> Slot arrays over all trees ({@code feature}, {@code value}, {@code child}),
 * each tree breadth-first from its root slot, the two children of a node adjacent: the next slot
 * is {@code child[s] + (x[feature[s]] <= value[s] ? 0 : 1)}, with no branch on the outcome. A
 * leaf has {@code value = NaN} (every comparison false) and {@code child = s - 1}, so stepping
 * from it lands on itself; its output is in {@code leaf[s]}. A tree can therefore take any number
 * of steps at or beyond its depth and end on its leaf. Evaluation runs blocks of
 * {@value #BLOCK} consecutive trees side by side for the depth of the block's deepest tree:
 * the eight independent load-compare chains overlap in the CPU, which is what makes it fast (one
 * tree at a time is latency-bound, and branching on the comparison mispredicts about every
 * other node).
 *
 * <p><b>Two-phase layout</b> ({@link #margin(double[], double[])}, with a caller-owned scratch
 * array of {@link #scratchSize()} doubles). Derived from the slot arrays when the forest is built
 * (not written by {@link #write}): the split thresholds grouped by feature, then per "pair slot"
 * (the splits in that feature-grouped order, then the leaves) a {@code long} holding the true
 * child's pair slot in its low 32 bits and the false child's in its high 32 bits (a leaf holds its
 * own slot twice). Phase 1 writes {@code scratch[k] = threshold[k] - x[f]} for each feature
 * {@code f} over that feature's contiguous thresholds, a loop C2 vectorizes (four doubles per
 * instruction on the x86-64 measured; runs shorter than a vector stay scalar). Phase 2 walks the
 * same eight-tree blocks as above with {@code s = (int) (pair[s] >>> (scratch[s] >= 0 ? 0 : 32))}:
 * two loads, both indexed by {@code s}, instead of four (one of which waits for
 * {@code feature[s]}). The sign test equals {@code x <= threshold} for every finite threshold: the
 * difference of two different doubles is never rounded to zero (gradual underflow) and keeps its
 * sign when it overflows, {@code x == threshold} gives a zero of either sign, which passes
 * {@code >= 0}, and a NaN {@code x} gives NaN, which fails it and goes to the false child as in
 * Smile. A forest with an infinite threshold (where {@code inf - inf} would be NaN) falls back to
 * the one-phase walk. The leaves and the summation order are the same, so the result is
 * bit-identical to
 * {@link #margin(double[])}.
 *
 * <p>Smile does not expose a model's intercept, shrinkage or split values; {@link #compile}
 * reads those three private fields by reflection and fails loudly if a Smile upgrade renames them.
 */
public final class FlatForest {
  /** Trees evaluated side by side; 8 measured fastest on x86-64 (fewer chains stall, more spill registers). */
  static final int BLOCK = 8;
  private static final int MAGIC = 0x464C4654; // "FLFT"
  private static final int VERSION = 1;

  private final String[] featureNames;
  private final double intercept;
  private final int[] roots;
  private final int[] depths;
  /** Per block of {@value #BLOCK} trees: the steps that bring every tree of the block to its leaf. */
  private final int[] blockSteps;
  private final int[] feature;
  private final double[] value;
  private final int[] child;
  private final double[] leaf;

  // Two-phase layout (see margin(double[], double[])), derived from the arrays above.
  /**
   * Split thresholds grouped by feature: feature f's are
   * {@code thresholds[thresholdStart[f] .. thresholdStart[f + 1])}.
   */
  private final double[] thresholds;
  private final int[] thresholdStart;
  /** Per two-phase slot: true child in the low 32 bits, false child in the high; a leaf points at itself twice. */
  private final long[] pair;
  private final double[] pairLeaf;
  private final int[] pairRoots;
  /** Whether every threshold is finite, which the two-phase sign test needs (otherwise it falls back). */
  private final boolean finiteThresholds;

  private FlatForest(String[] featureNames, double intercept, int[] roots, int[] depths, int[] feature,
      double[] value, int[] child, double[] leaf) {
    this.featureNames = featureNames;
    this.intercept = intercept;
    this.roots = roots;
    this.depths = depths;
    this.feature = feature;
    this.value = value;
    this.child = child;
    this.leaf = leaf;
    validate();
    this.blockSteps = new int[roots.length / BLOCK];
    for (int b = 0; b < blockSteps.length; b++) {
      for (int t = b * BLOCK; t < (b + 1) * BLOCK; t++) {
        blockSteps[b] = Math.max(blockSteps[b], depths[t]);
      }
    }
    // Two-phase slots: the splits first, grouped by feature (in slot order within a feature), then the leaves.
    int slots = feature.length;
    int[] start = new int[featureNames.length + 1];
    int splits = 0;
    for (int s = 0; s < slots; s++) {
      if (!isLeaf(s)) {
        start[feature[s] + 1]++;
        splits++;
      }
    }
    for (int f = 0; f < featureNames.length; f++) {
      start[f + 1] += start[f];
    }
    int[] at = Arrays.copyOf(start, featureNames.length);
    int nextLeaf = splits;
    int[] phase = new int[slots];
    double[] thresholds = new double[splits];
    boolean finite = true;
    for (int s = 0; s < slots; s++) {
      if (isLeaf(s)) {
        phase[s] = nextLeaf++;
      } else {
        phase[s] = at[feature[s]]++;
        thresholds[phase[s]] = value[s];
        finite &= Double.isFinite(value[s]);
      }
    }
    long[] pair = new long[slots];
    double[] pairLeaf = new double[slots];
    for (int s = 0; s < slots; s++) {
      int p = phase[s];
      if (isLeaf(s)) {
        pair[p] = (p & 0xFFFF_FFFFL) | (long) p << 32;
        pairLeaf[p] = leaf[s];
      } else {
        pair[p] = (phase[child[s]] & 0xFFFF_FFFFL) | (long) phase[child[s] + 1] << 32;
      }
    }
    int[] pairRoots = new int[roots.length];
    for (int t = 0; t < roots.length; t++) {
      pairRoots[t] = phase[roots[t]];
    }
    this.thresholds = thresholds;
    this.thresholdStart = start;
    this.pair = pair;
    this.pairLeaf = pairLeaf;
    this.pairRoots = pairRoots;
    this.finiteThresholds = finite;
  }

  private boolean isLeaf(int s) {
    return child[s] == s - 1 && Double.isNaN(value[s]);
  }

  /**
   * Compiles a binary model for rows whose column {@code i} is the feature named
   * {@code featureNames[i]}: every predictor of the model ({@code model.schema()}) must be among
   * the names, in any order; names the model does not use are allowed and ignored.
   *
   * @throws IllegalArgumentException for a model with more than two classes, a nominal
   *     (categorical) split, or a predictor missing from {@code featureNames}
   */
  public static FlatForest compile(GradientTreeBoost model, String[] featureNames) {
    if (model.numClasses() != 2) {
      throw new IllegalArgumentException("only binary models compile; this one has " + model.numClasses()
          + " classes");
    }
    String[] names = featureNames.clone();
    Map<String, Integer> column = new HashMap<>();
    for (int i = 0; i < names.length; i++) {
      if (column.put(names[i], i) != null) {
        throw new IllegalArgumentException("feature name repeated: " + names[i]);
      }
    }
    // Tree nodes index the formula's predictor schema, not the caller's row: map by name.
    StructType schema = model.schema();
    int[] toColumn = new int[schema.length()];
    for (int j = 0; j < toColumn.length; j++) {
      Integer i = column.get(schema.field(j).name);
      if (i == null) {
        throw new IllegalArgumentException("model predictor " + schema.field(j).name + " is not among the feature"
            + " names " + Arrays.toString(names));
      }
      toColumn[j] = i;
    }
    double shrinkage = privateDouble(GradientTreeBoost.class, model, "shrinkage");
    double intercept = privateDouble(GradientTreeBoost.class, model, "b");

    RegressionTree[] trees = model.trees();
    int slots = 0;
    for (RegressionTree tree : trees) {
      slots += 2 * tree.root().leaves() - 1;
    }
    int[] roots = new int[trees.length];
    int[] depths = new int[trees.length];
    int[] feature = new int[slots];
    double[] value = new double[slots];
    int[] child = new int[slots];
    double[] leaf = new double[slots];
    int next = 0;
    ArrayDeque<Node> nodes = new ArrayDeque<>();
    ArrayDeque<Integer> at = new ArrayDeque<>();
    for (int t = 0; t < trees.length; t++) {
      Node root = trees[t].root();
      roots[t] = next++;
      depths[t] = root.depth() - 1; // Smile counts nodes on the longest path; steps are edges
      nodes.add(root);
      at.add(roots[t]);
      while (!nodes.isEmpty()) {
        Node node = nodes.poll();
        int s = at.poll();
        if (node instanceof OrdinalNode split) {
          feature[s] = toColumn[split.feature()];
          value[s] = privateDouble(OrdinalNode.class, split, "value");
          child[s] = next;
          nodes.add(split.trueChild());
          at.add(next);
          nodes.add(split.falseChild());
          at.add(next + 1);
          next += 2;
        } else if (node instanceof RegressionNode out) {
          value[s] = Double.NaN;
          child[s] = s - 1;
          leaf[s] = shrinkage * out.output();
        } else if (node instanceof InternalNode) {
          throw new IllegalArgumentException("tree " + t + " has a nominal split on "
              + schema.field(((InternalNode) node).feature()).name + "; only numeric (ordinal) splits compile");
        } else {
          throw new IllegalArgumentException("tree " + t + " has an unexpected node " + node.getClass().getName());
        }
      }
    }
    return new FlatForest(names, intercept, roots, depths, feature, value, child, leaf);
  }

  /** Smile's raw score {@code b + sum shrinkage * tree(x)}, bit for bit. */
  public double margin(double[] x) {
    if (x.length != featureNames.length) {
      throw new IllegalArgumentException(x.length + " values for " + featureNames.length + " features");
    }
    final int[] roots = this.roots;
    final int[] feature = this.feature;
    final double[] value = this.value;
    final int[] child = this.child;
    final double[] leaf = this.leaf;
    double y = intercept;
    int t = 0;
    for (int steps : blockSteps) {
      int s0 = roots[t];
      int s1 = roots[t + 1];
      int s2 = roots[t + 2];
      int s3 = roots[t + 3];
      int s4 = roots[t + 4];
      int s5 = roots[t + 5];
      int s6 = roots[t + 6];
      int s7 = roots[t + 7];
      for (int d = 0; d < steps; d++) {
        s0 = child[s0] + (x[feature[s0]] <= value[s0] ? 0 : 1);
        s1 = child[s1] + (x[feature[s1]] <= value[s1] ? 0 : 1);
        s2 = child[s2] + (x[feature[s2]] <= value[s2] ? 0 : 1);
        s3 = child[s3] + (x[feature[s3]] <= value[s3] ? 0 : 1);
        s4 = child[s4] + (x[feature[s4]] <= value[s4] ? 0 : 1);
        s5 = child[s5] + (x[feature[s5]] <= value[s5] ? 0 : 1);
        s6 = child[s6] + (x[feature[s6]] <= value[s6] ? 0 : 1);
        s7 = child[s7] + (x[feature[s7]] <= value[s7] ? 0 : 1);
      }
      y += leaf[s0];
      y += leaf[s1];
      y += leaf[s2];
      y += leaf[s3];
      y += leaf[s4];
      y += leaf[s5];
      y += leaf[s6];
      y += leaf[s7];
      t += BLOCK;
    }
    for (; t < roots.length; t++) {
      int s = roots[t];
      for (int d = depths[t]; d > 0; d--) {
        s = child[s] + (x[feature[s]] <= value[s] ? 0 : 1);
      }
      y += leaf[s];
    }
    return y;
  }

  /** The probability of class 1 (click), equal to Smile's {@code posteriori[1]}. */
  public double probability(double[] x) {
    return probabilityOf(margin(x));
  }

  /** Smile's probability of class 1 from a margin: {@code 1 - 1 / (1 + exp(2y))}. */
  static double probabilityOf(double y) {
    double p0 = 1.0 / (1.0 + Math.exp(2 * y));
    return 1.0 - p0;
  }

  /** The length of the scratch array {@link #margin(double[], double[])} needs. */
  public int scratchSize() {
    return pair.length;
  }

  /**
   * {@link #probability(double[])}, bit for bit, using a caller-owned scratch array (see
   * {@link #margin(double[], double[])}).
   */
  public double probability(double[] x, double[] scratch) {
    return probabilityOf(margin(x, scratch));
  }

  /**
   * {@link #margin(double[])}, bit for bit, in two phases with a caller-owned scratch array of at
   * least {@link #scratchSize()} doubles (one per thread; its contents do not matter and are
   * overwritten).
   */
  public double margin(double[] x, double[] scratch) {
    if (x.length != featureNames.length) {
      throw new IllegalArgumentException(x.length + " values for " + featureNames.length + " features");
    }
    if (scratch.length < pair.length) {
      throw new IllegalArgumentException("scratch of " + scratch.length + ", needs " + pair.length);
    }
    if (!finiteThresholds) {
      return margin(x);
    }
    final double[] d = scratch;
    final double[] thresholds = this.thresholds;
    final int[] start = this.thresholdStart;
    for (int f = 0; f < x.length; f++) {
      double xf = x[f];
      for (int k = start[f], end = start[f + 1]; k < end; k++) {
        d[k] = thresholds[k] - xf;
      }
    }
    final int[] roots = this.pairRoots;
    final long[] pair = this.pair;
    final double[] leaf = this.pairLeaf;
    double y = intercept;
    int t = 0;
    for (int steps : blockSteps) {
      int s0 = roots[t];
      int s1 = roots[t + 1];
      int s2 = roots[t + 2];
      int s3 = roots[t + 3];
      int s4 = roots[t + 4];
      int s5 = roots[t + 5];
      int s6 = roots[t + 6];
      int s7 = roots[t + 7];
      for (int i = 0; i < steps; i++) {
        s0 = (int) (pair[s0] >>> (d[s0] >= 0.0 ? 0 : 32));
        s1 = (int) (pair[s1] >>> (d[s1] >= 0.0 ? 0 : 32));
        s2 = (int) (pair[s2] >>> (d[s2] >= 0.0 ? 0 : 32));
        s3 = (int) (pair[s3] >>> (d[s3] >= 0.0 ? 0 : 32));
        s4 = (int) (pair[s4] >>> (d[s4] >= 0.0 ? 0 : 32));
        s5 = (int) (pair[s5] >>> (d[s5] >= 0.0 ? 0 : 32));
        s6 = (int) (pair[s6] >>> (d[s6] >= 0.0 ? 0 : 32));
        s7 = (int) (pair[s7] >>> (d[s7] >= 0.0 ? 0 : 32));
      }
      y += leaf[s0];
      y += leaf[s1];
      y += leaf[s2];
      y += leaf[s3];
      y += leaf[s4];
      y += leaf[s5];
      y += leaf[s6];
      y += leaf[s7];
      t += BLOCK;
    }
    for (; t < roots.length; t++) {
      int s = roots[t];
      for (int i = depths[t]; i > 0; i--) {
        s = (int) (pair[s] >>> (d[s] >= 0.0 ? 0 : 32));
      }
      y += leaf[s];
    }
    return y;
  }

  // Package-private views for VectorForest's code generator: the arrays themselves, not copies
  // (the caller only reads them).

  double intercept() {
    return intercept;
  }

  int[] rootSlots() {
    return roots;
  }

  int[] slotFeatures() {
    return feature;
  }

  double[] slotValues() {
    return value;
  }

  /** A split's true child; its false child is the next slot. */
  int[] slotChildren() {
    return child;
  }

  /** A leaf's output, already multiplied by the shrinkage. */
  double[] slotLeaves() {
    return leaf;
  }

  boolean leafAt(int s) {
    return isLeaf(s);
  }

  /** The number of trees. */
  public int trees() {
    return roots.length;
  }

  /** The number of tree nodes (splits and leaves) over all trees. */
  public int nodes() {
    return feature.length;
  }

  /** The length of the rows this forest scores. */
  public int features() {
    return featureNames.length;
  }

  /** The feature names, in row order. */
  public String[] featureNames() {
    return featureNames.clone();
  }

  /** Writes the forest: a magic number and version, then the feature names and the arrays. */
  public void write(DataOutput out) throws IOException {
    out.writeInt(MAGIC);
    out.writeInt(VERSION);
    out.writeInt(featureNames.length);
    for (String name : featureNames) {
      out.writeUTF(name);
    }
    out.writeDouble(intercept);
    out.writeInt(roots.length);
    for (int t = 0; t < roots.length; t++) {
      out.writeInt(roots[t]);
      out.writeInt(depths[t]);
    }
    out.writeInt(feature.length);
    for (int s = 0; s < feature.length; s++) {
      out.writeInt(feature[s]);
      out.writeLong(Double.doubleToRawLongBits(value[s]));
      out.writeInt(child[s]);
      out.writeLong(Double.doubleToRawLongBits(leaf[s]));
    }
  }

  /**
   * Reads what {@link #write} wrote.
   *
   * @throws IOException if the stream is not a forest of this version, or its trees are not well
   *     formed (so a damaged file cannot make evaluation index out of the arrays)
   */
  public static FlatForest read(DataInput in) throws IOException {
    int magic = in.readInt();
    if (magic != MAGIC) {
      throw new IOException(String.format("not a FlatForest: magic %08x", magic));
    }
    int version = in.readInt();
    if (version != VERSION) {
      throw new IOException("FlatForest version " + version + ", this code reads " + VERSION);
    }
    String[] names = new String[count(in, "features")];
    for (int i = 0; i < names.length; i++) {
      names[i] = in.readUTF();
    }
    double intercept = in.readDouble();
    int trees = count(in, "trees");
    int[] roots = new int[trees];
    int[] depths = new int[trees];
    for (int t = 0; t < trees; t++) {
      roots[t] = in.readInt();
      depths[t] = in.readInt();
    }
    int slots = count(in, "nodes");
    int[] feature = new int[slots];
    double[] value = new double[slots];
    int[] child = new int[slots];
    double[] leaf = new double[slots];
    for (int s = 0; s < slots; s++) {
      feature[s] = in.readInt();
      value[s] = Double.longBitsToDouble(in.readLong());
      child[s] = in.readInt();
      leaf[s] = Double.longBitsToDouble(in.readLong());
    }
    try {
      return new FlatForest(names, intercept, roots, depths, feature, value, child, leaf);
    } catch (IllegalArgumentException e) {
      throw new IOException("malformed FlatForest: " + e.getMessage(), e);
    }
  }

  private static int count(DataInput in, String what) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > 1 << 24) { // 16M: far above any model here, below what would exhaust the heap
      throw new IOException("implausible number of " + what + ": " + n);
    }
    return n;
  }

  /**
   * Checks that every tree is a proper binary tree in its slots whose leaves are reached within
   * its depth, and that every index evaluation uses is in range.
   */
  private void validate() {
    int slots = feature.length;
    boolean[] seen = new boolean[slots];
    for (int t = 0; t < roots.length; t++) {
      if (roots[t] < 0 || roots[t] >= slots || depths[t] < 0) {
        throw new IllegalArgumentException("tree " + t + ": root " + roots[t] + ", depth " + depths[t]);
      }
      ArrayDeque<int[]> open = new ArrayDeque<>();
      open.add(new int[] {roots[t], 0});
      while (!open.isEmpty()) {
        int[] e = open.poll();
        int s = e[0];
        if (seen[s]) {
          throw new IllegalArgumentException("tree " + t + ": slot " + s + " reached twice");
        }
        seen[s] = true;
        if (feature[s] < 0 || feature[s] >= featureNames.length) {
          throw new IllegalArgumentException("slot " + s + ": feature " + feature[s]);
        }
        if (child[s] == s - 1 && Double.isNaN(value[s])) {
          continue; // a leaf
        }
        if (e[1] >= depths[t] || child[s] <= s || child[s] + 1 >= slots) {
          throw new IllegalArgumentException("tree " + t + ": split at slot " + s + " (level " + e[1]
              + ", depth " + depths[t] + ") has children at " + child[s]);
        }
        open.add(new int[] {child[s], e[1] + 1});
        open.add(new int[] {child[s] + 1, e[1] + 1});
      }
    }
    for (int s = 0; s < slots; s++) {
      if (!seen[s]) {
        throw new IllegalArgumentException("slot " + s + " belongs to no tree");
      }
    }
  }

  private static double privateDouble(Class<?> type, Object target, String name) {
    try {
      Field field = type.getDeclaredField(name);
      field.setAccessible(true);
      return field.getDouble(target);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("cannot read " + type.getName() + "." + name + " (written against smile-core"
          + " 3.1.1; did Smile change?)", e);
    }
  }
}
