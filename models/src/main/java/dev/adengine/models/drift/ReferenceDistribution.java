package dev.adengine.models.drift;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * The feature and score distributions a model was trained on, stored with the model so that live
 * traffic can be compared with them ({@link DriftWindow}, {@link Psi}). A model is only as good as
 * the match between its training rows and what it scores: a feature whose distribution moves
 * (a new device mix, a broken online-feature pipeline) makes pCTR wrong before any click says so.
 *
 * <p><b>Bins.</b> Per feature, chosen from the training rows. A feature with at most
 * {@code maxBins} distinct values (flags, small integers, the log of a position) gets one bin per
 * value, with edges halfway between consecutive values, so a bin is exactly "this value". Any
 * other feature gets equal-count bins: {@code maxBins - 1} cut points at the quantiles, deduplicated
 * and never at the minimum, so a column whose mass sits on one value (an online feature at its
 * prior, a cross that is zero unless a query term is present) gets fewer, non-empty bins instead of
 * empty duplicates. The score (pCTR) is binned the same way.
 *
 * <p>Bin {@code k} of {@code m} interior edges holds values in {@code [edge(k-1), edge(k))}: a
 * value equal to an edge belongs to the bin above it. {@code -0.0} is {@code 0.0}.
 *
 * <p><b>NaN.</b> Every feature and the score have one more bin, the last, for NaN. The extractor
 * does not produce NaN, so in a reference this bin is usually empty, and NaN showing up live (a
 * feature source failing) is drift of its own, visible as such, rather than mass added to the
 * lowest values.
 *
 * <p>Immutable and thread-safe; {@link #bin} and {@link #scoreBin} are allocation-free (the
 * {@link DriftWindow} writer calls them per row). Binary format ({@link #toBytes}): magic, format
 * version, rows, the feature count, per feature its name, edges and expected proportions, then the
 * score's edges and proportions.
 */
public final class ReferenceDistribution {
  private static final int MAGIC = 0x41445244; // "ADRD"
  private static final int FORMAT = 1;
  private static final int MAX_FEATURES = 10_000;
  private static final int MAX_EDGES = 100_000;

  private final List<String> featureNames;
  private final long rows;
  private final double[][] edges;
  private final double[][] expected;
  private final double[] scoreEdges;
  private final double[] scoreExpected;

  private ReferenceDistribution(List<String> featureNames, long rows, double[][] edges, double[][] expected,
      double[] scoreEdges, double[] scoreExpected) {
    if (edges.length != featureNames.size() || expected.length != featureNames.size()) {
      throw new IllegalArgumentException(featureNames.size() + " names for " + edges.length + " edge sets and "
          + expected.length + " distributions");
    }
    for (int f = 0; f < edges.length; f++) {
      requireShape(featureNames.get(f), edges[f], expected[f]);
    }
    requireShape("score", scoreEdges, scoreExpected);
    this.featureNames = List.copyOf(featureNames);
    this.rows = rows;
    this.edges = edges;
    this.expected = expected;
    this.scoreEdges = scoreEdges;
    this.scoreExpected = scoreExpected;
  }

  /**
   * The distributions of {@code rows[0..nRows)} (one column per name) and of {@code scores[0..nRows)},
   * the model's predictions on the same rows.
   *
   * @param maxBins at most this many bins per feature besides the NaN bin; at least 2
   */
  public static ReferenceDistribution fit(List<String> featureNames, double[][] rows, int nRows, double[] scores,
      int maxBins) {
    if (maxBins < 2) {
      throw new IllegalArgumentException("need at least 2 bins: " + maxBins);
    }
    if (nRows < 1 || nRows > rows.length || nRows > scores.length) {
      throw new IllegalArgumentException("need 1 to " + Math.min(rows.length, scores.length) + " rows: " + nRows);
    }
    int features = featureNames.size();
    for (int i = 0; i < nRows; i++) {
      if (rows[i].length != features) {
        throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " values, " + features
            + " features");
      }
    }
    double[][] edges = new double[features][];
    double[][] expected = new double[features][];
    double[] column = new double[nRows];
    for (int f = 0; f < features; f++) {
      for (int i = 0; i < nRows; i++) {
        column[i] = rows[i][f];
      }
      edges[f] = edgesOf(column, nRows, maxBins);
      expected[f] = proportionsOf(edges[f], column, nRows);
    }
    double[] scoreEdges = edgesOf(scores, nRows, maxBins);
    return new ReferenceDistribution(featureNames, nRows, edges, expected, scoreEdges,
        proportionsOf(scoreEdges, scores, nRows));
  }

  /** Interior edges of {@code values[0..n)}: one bin per distinct value, or equal-count quantile bins. */
  static double[] edgesOf(double[] values, int n, int maxBins) {
    double[] sorted = new double[n];
    int m = 0;
    for (int i = 0; i < n; i++) {
      if (!Double.isNaN(values[i])) {
        sorted[m++] = values[i];
      }
    }
    if (m == 0) {
      return new double[0];
    }
    Arrays.sort(sorted, 0, m);
    // distinct values, compared as numbers (-0.0 == 0.0), counted up to maxBins + 1
    double[] distinct = new double[maxBins + 1];
    int d = 0;
    for (int i = 0; i < m && d <= maxBins; i++) {
      if (d == 0 || sorted[i] != distinct[d - 1]) {
        distinct[d++] = sorted[i];
      }
    }
    if (d <= maxBins) {
      double[] e = new double[d - 1];
      for (int k = 0; k < d - 1; k++) {
        double lo = distinct[k];
        double hi = distinct[k + 1];
        double mid = lo + (hi - lo) / 2;
        // adjacent doubles have no midpoint: the upper value itself still separates them
        e[k] = mid > lo ? mid : hi;
      }
      return e;
    }
    double[] e = new double[maxBins - 1];
    int count = 0;
    for (int k = 1; k < maxBins; k++) {
      double cut = sorted[(int) ((long) m * k / maxBins)];
      // a cut at the minimum would leave bin 0 empty; a repeated cut an empty bin between the two
      if (cut > sorted[0] && (count == 0 || cut > e[count - 1])) {
        e[count++] = cut;
      }
    }
    return Arrays.copyOf(e, count);
  }

  private static double[] proportionsOf(double[] edges, double[] values, int n) {
    long[] counts = new long[edges.length + 2];
    for (int i = 0; i < n; i++) {
      counts[binOf(edges, values[i])]++;
    }
    return Psi.proportions(counts);
  }

  /** Number of edges {@code <= value} (primitive comparisons, so -0.0 and 0.0 agree); NaN: the last bin. */
  private static int binOf(double[] edges, double value) {
    if (Double.isNaN(value)) {
      return edges.length + 1;
    }
    int lo = 0;
    int hi = edges.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (edges[mid] <= value) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** The bin of {@code value} in feature {@code feature}'s bins; NaN goes to the last bin. */
  public int bin(int feature, double value) {
    return binOf(edges[feature], value);
  }

  /** The bin of a score (pCTR); NaN goes to the last bin. */
  public int scoreBin(double score) {
    return binOf(scoreEdges, score);
  }

  /** Number of bins of feature {@code feature}, the NaN bin included. */
  public int bins(int feature) {
    return edges[feature].length + 2;
  }

  /** Number of score bins, the NaN bin included. */
  public int scoreBins() {
    return scoreEdges.length + 2;
  }

  /** Proportion of the reference rows in each bin of feature {@code feature} (a copy; sums to 1). */
  public double[] expected(int feature) {
    return expected[feature].clone();
  }

  /** Proportion of the reference scores in each score bin (a copy; sums to 1). */
  public double[] expectedScore() {
    return scoreExpected.clone();
  }

  /** Interior bin edges of feature {@code feature}, ascending (a copy). */
  public double[] edges(int feature) {
    return edges[feature].clone();
  }

  /** Interior edges of the score bins, ascending (a copy). */
  public double[] scoreEdges() {
    return scoreEdges.clone();
  }

  public List<String> featureNames() {
    return featureNames;
  }

  /** Number of rows the distributions were fitted on. */
  public long rows() {
    return rows;
  }

  public byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeInt(MAGIC);
      out.writeInt(FORMAT);
      out.writeLong(rows);
      out.writeInt(featureNames.size());
      for (int f = 0; f < featureNames.size(); f++) {
        out.writeUTF(featureNames.get(f));
        writeBins(out, edges[f], expected[f]);
      }
      writeBins(out, scoreEdges, scoreExpected);
      out.flush();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bytes.toByteArray();
  }

  private static void writeBins(DataOutputStream out, double[] edges, double[] expected) throws IOException {
    out.writeInt(edges.length);
    for (double e : edges) {
      out.writeDouble(e);
    }
    for (double p : expected) {
      out.writeDouble(p);
    }
  }

  public static ReferenceDistribution fromBytes(byte[] bytes) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    if (in.readInt() != MAGIC) {
      throw new IOException("not a ReferenceDistribution (bad magic)");
    }
    int format = in.readInt();
    if (format != FORMAT) {
      throw new IOException("unsupported ReferenceDistribution format " + format);
    }
    long rows = in.readLong();
    int n = in.readInt();
    if (n < 0 || n > MAX_FEATURES) {
      throw new IOException("bad feature count " + n);
    }
    String[] names = new String[n];
    double[][] edges = new double[n][];
    double[][] expected = new double[n][];
    for (int f = 0; f < n; f++) {
      names[f] = in.readUTF();
      edges[f] = readEdges(in);
      expected[f] = readDoubles(in, edges[f].length + 2);
    }
    double[] scoreEdges = readEdges(in);
    double[] scoreExpected = readDoubles(in, scoreEdges.length + 2);
    return new ReferenceDistribution(Arrays.asList(names), rows, edges, expected, scoreEdges, scoreExpected);
  }

  private static double[] readEdges(DataInputStream in) throws IOException {
    int m = in.readInt();
    if (m < 0 || m > MAX_EDGES) {
      throw new IOException("bad edge count " + m);
    }
    return readDoubles(in, m);
  }

  private static double[] readDoubles(DataInputStream in, int n) throws IOException {
    double[] d = new double[n];
    for (int i = 0; i < n; i++) {
      d[i] = in.readDouble();
    }
    return d;
  }

  private static void requireShape(String name, double[] edges, double[] expected) {
    if (expected.length != edges.length + 2) {
      throw new IllegalArgumentException(name + ": " + edges.length + " edges need " + (edges.length + 2)
          + " proportions, not " + expected.length);
    }
    for (int k = 1; k < edges.length; k++) {
      if (!(edges[k] > edges[k - 1])) {
        throw new IllegalArgumentException(name + ": edges must ascend strictly: " + Arrays.toString(edges));
      }
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ReferenceDistribution r && rows == r.rows && featureNames.equals(r.featureNames)
        && Arrays.deepEquals(edges, r.edges) && Arrays.deepEquals(expected, r.expected)
        && Arrays.equals(scoreEdges, r.scoreEdges) && Arrays.equals(scoreExpected, r.scoreExpected);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * featureNames.hashCode() + Long.hashCode(rows)) + Arrays.deepHashCode(edges);
  }

  @Override
  public String toString() {
    return "ReferenceDistribution[" + featureNames.size() + " features, " + rows + " rows]";
  }
}
