package dev.adengine.models.scoring;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * A {@link FlatForest} scored a batch of up to {@link #lanes()} rows at a time (64 on AVX-512)
 * with one row per byte lane: the fastest scorer here, and the one the stage-2 batch path uses.
 * Margins are within about 1e-14 of {@link FlatForest#margin(double[])} (and so of Smile's
 * {@code GradientTreeBoost}), not bit-identical: see "Sums" below. Immutable and safe to share
 * between threads; scoring uses a caller-owned {@link Scratch} (one per thread) and does not
 * allocate. Without the incubating Vector API ({@code --add-modules jdk.incubator.vector}) or a
 * Java compiler it scores through the scalar {@link FlatForest}; {@link #path()} says which, and why.
 *
 * <p><b>Why.</b> {@link VectorForest} puts 8 rows in a 512-bit vector of doubles and spends a
 * compare and a blend of doubles per split; on JDK 17 each compare-and-blend is four instructions
 * (the JIT converts masks to vectors and back), so 200 trees cost about 220 ns per row. A split
 * only asks whether a feature is at most one of the forest's own thresholds, so the answer depends
 * only on the feature's <em>rank</em> among those thresholds. Ranks fit in a byte (at most 254
 * distinct thresholds per feature), and a 512-bit vector holds 64 bytes: the same compare and
 * blend decide a split for 64 rows at once, eight times the rows per instruction.
 *
 * <p><b>Evaluation</b>, per batch:
 * <ol>
 *   <li><b>Ranks.</b> For each feature {@code f} with sorted distinct thresholds {@code T[0..n)},
 *       the rank of {@code x} is {@code r = #{j : T[j] < x}} (a NaN ranks {@code n}). Then
 *       {@code x <= T[k]} exactly when {@code r <= k}, for every split, because the thresholds are
 *       sorted. Features with up to four thresholds count their compares; others use a bucket
 *       table: {@code b = clamp((int) ((x - T[0]) * scale))} is monotone in {@code x}, so every
 *       threshold in a lower bucket is below {@code x} and every threshold in a higher one above;
 *       the table holds how many lie in lower buckets, and the few in {@code x}'s own bucket (at
 *       most two on the models measured; the table grows until so) are compared directly, without
 *       a branch. Exact for every double, including infinities and NaN. The generated class does
 *       this row by row, with each feature's thresholds, bucket origin and scale as constants in the
 *       code: one load of each row instead of one per feature and row, and no per-feature dispatch
 *       (measured 59 to 32 ns per row of 37 features, against the same ranks in a loop over features).</li>
 *   <li><b>Leaves.</b> Generated code walks each tree bottom-up over the rank columns: a leaf is
 *       its number broadcast to every lane, a split is
 *       {@code falseSide.blend(trueSide, rank[f].compare(LE, k))}. Two consecutive trees share one
 *       byte: the first tree's leaf numbers are shifted left by the bits the second needs
 *       ({@code ((i << bits) | j)}), so one store records both trees' leaves for 64 rows.</li>
 *   <li><b>Sums.</b> Per row, the intercept plus one table entry per pair of trees:
 *       {@code pair[g][(i << bits) | j] = leaf(2g, i) + leaf(2g + 1, j)}, precomputed. This is
 *       where the result differs from Smile's in the last bits: Smile adds each tree's leaf in
 *       turn, {@code (y + a) + b}, this adds {@code y + (a + b)}. Each pair's sum is rounded once
 *       more, so 100 pairs move a margin of magnitude 5 by at most about 100 half-ulps of 5
 *       (1e-13); {@code RankForestTest} checks 1e-9 (the bound the scorer's contract states) on
 *       hundreds of thousands of rows and reports the largest difference seen.</li>
 * </ol>
 *
 * <p>Only the generated source refers to {@code jdk.incubator.vector}; it is compiled in memory
 * like {@link VectorForest}'s and starts interpreted: {@link #warmUp} runs it until HotSpot has
 * compiled it, which a server should do when it loads a model, not on a request.
 */
public final class RankForest {
  /**
   * Splits per generated method at most (whole groups). Measured on JDK 17 with AVX-512 on the
   * production-shape model (two trees of 7 splits per group): 32 fastest (kernel ~24 ns per row in
   * batches of 64), 16 ~15% slower; at 64 C2 leaves the vectors boxed and the kernel is 20 times
   * slower (see {@link VectorForest#SPLITS_PER_METHOD}).
   */
  static final int SPLITS_PER_METHOD = 32;
  /** A tree with more leaves than this is not generated: its leaf numbers must fit in a byte. */
  static final int MAX_TREE_LEAVES = 256;
  // (In practice SPLITS_PER_METHOD is the tighter bound: a tree of more splits is not generated.)
  /**
   * Up to this many thresholds per feature, ranks 0..n fit in a byte and 64 rows share a vector;
   * with more (up to {@link #MAX_WIDE_THRESHOLDS}) ranks take 16-bit lanes, 32 rows per vector.
   */
  static final int MAX_THRESHOLDS = 255;
  static final int MAX_WIDE_THRESHOLDS = 65_535;
  /** Bucket tables grow until no bucket holds more than this many thresholds... */
  static final int BUCKET_TARGET = 2;
  /** ...or until they reach this many buckets (then a bucket's thresholds are compared in a loop). */
  static final int MAX_BUCKETS = 1 << 16;
  private static final int MIN_LANES = 8;
  private static final AtomicInteger CLASSES = new AtomicInteger();
  /**
   * The generated kernels of the last few forests compiled in this JVM, by the forest's serialized
   * bytes: a forest equal to one of them (the same model loaded again, by another node of a test JVM
   * or by a rollback to the previous version) reuses its kernel, already compiled by HotSpot, instead
   * of generating, compiling and warming up a new class. Bounded, least recently used first out, so
   * a long-running node that deploys many versions does not keep every generated class.
   */
  private static final int MAX_SHARED_KERNELS = 4;
  private static final Map<ByteBuffer, Compiled> SHARED = Collections.synchronizedMap(
      new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Compiled> eldest) {
          return size() > MAX_SHARED_KERNELS;
        }
      });

  private record Compiled(Kernel kernel, Plan plan, String path) {}

  /**
   * The generated code's entry point. Public only because the generated class lives in its own
   * class loader; not an API.
   */
  public interface Kernel {
    /** Byte lanes of the vectors the code uses: the rows per batch. */
    int lanes();

    /**
     * Leaf numbers of one batch: rank column {@code f} is {@code ranks[f * lanes .. +lanes)}
     * (biased by -128), writes group {@code g}'s byte for lane {@code l} to
     * {@code leaves[g * lanes + l]}.
     */
    void leaves(byte[] ranks, byte[] leaves);

    /** {@link #leaves(byte[], byte[])} in 16-bit lanes, ranks biased by -32768. */
    void leaves(short[] ranks, short[] leaves);

    /**
     * Writes the biased rank columns of rows {@code [from, from + n)} ({@code n <= lanes()}), as
     * {@link RankForest#rank} computes each rank, into {@code ranks}; byte lanes only. The caller has
     * checked every row's length.
     */
    void ranks(double[][] rows, int from, int n, byte[] ranks);
  }

  /** Per-thread working memory for {@link #margins}; made by {@link #newScratch()}. */
  public static final class Scratch {
    final byte[] ranks;
    final byte[] leaves;
    final short[] wideRanks;
    final short[] wideLeaves;
    final double[] flat;
    final double[] sums;

    private Scratch(boolean wide, int ranks, int leaves, int flat, int lanes) {
      this.sums = new double[lanes];
      this.ranks = new byte[wide ? 0 : ranks];
      this.leaves = new byte[wide ? 0 : leaves];
      this.wideRanks = new short[wide ? ranks : 0];
      this.wideLeaves = new short[wide ? leaves : 0];
      this.flat = new double[flat];
    }
  }

  private final FlatForest forest;
  private final Kernel kernel;
  private final String path;
  private final int features;
  private final int lanes;
  /** Ranks and leaf numbers in 16-bit lanes (a feature has more than {@link #MAX_THRESHOLDS} thresholds). */
  private final boolean wide;
  private final int groups;
  private final int bits;
  private final double intercept;
  /** Per group, its table of leaf sums, {@code 1 << (2 * bits)} entries (or {@code 1 << bits} for a lone tree). */
  private final double[] sums;
  private final int groupStride;
  // Ranks: per feature its kind (number of thresholds 0..4, or BUCKETS), thresholds and tables.
  private static final int BUCKETS = -1;
  private final int[] kind;
  private final double[][] thresholds;
  private final double[][] padded;
  private final byte[][] bucketStart;
  private final short[][] wideBucketStart;
  private final double[] bucketLow;
  private final double[] bucketScale;
  private final int[] bucketMax;
  private final int[] perBucket;

  private RankForest(FlatForest forest, Kernel kernel, String path, Plan plan) {
    this.forest = forest;
    this.kernel = kernel;
    this.path = path;
    this.features = forest.features();
    this.lanes = kernel == null ? 1 : kernel.lanes();
    this.intercept = forest.intercept();
    this.wide = plan != null && plan.wide;
    if (plan == null) {
      this.groups = 0;
      this.bits = 0;
      this.sums = null;
      this.groupStride = 0;
      this.kind = null;
      this.thresholds = null;
      this.padded = null;
      this.bucketStart = null;
      this.wideBucketStart = null;
      this.bucketLow = null;
      this.bucketScale = null;
      this.bucketMax = null;
      this.perBucket = null;
    } else {
      this.groups = plan.groups;
      this.bits = plan.bits;
      this.sums = plan.sums;
      this.groupStride = plan.groupStride;
      this.kind = plan.kind;
      this.thresholds = plan.thresholds;
      this.padded = plan.padded;
      this.bucketStart = plan.bucketStart;
      this.wideBucketStart = plan.wideBucketStart;
      this.bucketLow = plan.bucketLow;
      this.bucketScale = plan.bucketScale;
      this.bucketMax = plan.bucketMax;
      this.perBucket = plan.perBucket;
    }
  }

  /**
   * The rank scorer of {@code forest} if the JVM can run it, else the forest's scalar path. Takes
   * about a second (generation and compilation); call {@link #warmUp} before serving.
   */
  public static RankForest of(FlatForest forest) {
    return of(forest, null);
  }

  /**
   * As {@link #of(FlatForest)}, with the generated class's bytes kept in {@code classCache} (a
   * directory; {@code null}: none), so that a JVM started again on the same machine skips javac for
   * a forest it compiled before ({@link CompiledClassCache}).
   */
  public static RankForest of(FlatForest forest, Path classCache) {
    if (ModuleLayer.boot().findModule(VectorForest.VECTOR_MODULE).isEmpty()) {
      return scalar(forest, "module " + VectorForest.VECTOR_MODULE + " not in the JVM (run with --add-modules "
          + VectorForest.VECTOR_MODULE + ")");
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    if (javac == null) {
      return scalar(forest, "no Java compiler in this runtime (javax.tools)");
    }
    ByteBuffer key = bytes(forest);
    Compiled shared = SHARED.get(key);
    if (shared != null) {
      return new RankForest(forest, shared.kernel(), shared.path() + " (shared with an equal forest)", shared.plan());
    }
    Plan plan;
    try {
      plan = Plan.of(forest);
    } catch (IllegalArgumentException e) {
      return scalar(forest, e.getMessage());
    }
    String name = "dev.adengine.models.scoring.generated.RankForest" + CLASSES.incrementAndGet();
    try {
      String source = plan.source(forest, name);
      VectorForest.Compiled compiled = VectorForest.compile(javac, name, source,
          classCache == null ? null : new CompiledClassCache(classCache));
      Class<?> type = compiled.type();
      name = type.getName(); // a cached class keeps the name it was compiled under
      Kernel kernel = (Kernel) type.getConstructor(byte[][].class, double[][].class)
          .newInstance(plan.bucketStart, plan.padded);
      if (kernel.lanes() < MIN_LANES) {
        return scalar(forest, "the JVM's preferred vector holds " + kernel.lanes() + " bytes, fewer than " + MIN_LANES);
      }
      String path = String.format(Locale.ROOT, "rank: %d rows per batch, %d trees in %d groups of %d, generated %s",
          kernel.lanes(), forest.trees(), plan.groups, plan.perGroup, name);
      if (compiled.fromCache()) {
        path += " (javac skipped: from the class cache)";
      }
      SHARED.put(key, new Compiled(kernel, plan, path));
      return new RankForest(forest, kernel, path, plan);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return scalar(forest, "code generation failed: " + e);
    }
  }

  /** Forgets the kernels shared between equal forests, as a new JVM starts without them: for tests. */
  static void forgetSharedKernels() {
    SHARED.clear();
  }

  /** The forest as {@link FlatForest#write} writes it: equal bytes, equal trees and so equal scores. */
  private static ByteBuffer bytes(FlatForest forest) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
    try {
      forest.write(new DataOutputStream(out));
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return ByteBuffer.wrap(out.toByteArray());
  }

  /** The scalar {@link FlatForest} path, whatever the JVM offers; {@code why} is reported by {@link #path()}. */
  public static RankForest scalar(FlatForest forest, String why) {
    return new RankForest(forest, null, "scalar FlatForest: " + why, null);
  }

  /** Whether batches run through generated vector code (else through {@link FlatForest}). */
  public boolean vectorized() {
    return kernel != null;
  }

  /** Which path is active and, for the scalar one, why. */
  public String path() {
    return path;
  }

  /** Rows scored per kernel pass (1 on the scalar path). */
  public int lanes() {
    return lanes;
  }

  /** The forest this scores. */
  public FlatForest forest() {
    return forest;
  }

  /** Working memory for one thread's calls to {@link #margins} and {@link #probabilities}. */
  public Scratch newScratch() {
    return new Scratch(wide, features * lanes, groups * lanes, forest.scratchSize(), lanes);
  }

  /**
   * Writes the margin of {@code rows[from + i]} to {@code out[i]} for {@code i < count}: within
   * about 1e-14 of {@link FlatForest#margin(double[])} (see the class comment).
   *
   * @throws IllegalArgumentException if a row's length is not the forest's number of features,
   *     {@code out} is too short, or {@code scratch} was made by another scorer
   */
  public void margins(double[][] rows, int from, int count, double[] out, Scratch scratch) {
    if (count > out.length) {
      throw new IllegalArgumentException(count + " rows, room for " + out.length);
    }
    int ranks = wide ? scratch.wideRanks.length : scratch.ranks.length;
    int leaves = wide ? scratch.wideLeaves.length : scratch.leaves.length;
    if (ranks != features * lanes || leaves != groups * lanes || scratch.flat.length < forest.scratchSize()
        || scratch.sums.length != lanes) {
      throw new IllegalArgumentException("scratch made for another scorer");
    }
    for (int i = 0; i < count; i++) {
      if (rows[from + i].length != features) {
        throw new IllegalArgumentException(rows[from + i].length + " values for " + features + " features");
      }
    }
    if (kernel == null) {
      for (int i = 0; i < count; i++) {
        out[i] = forest.margin(rows[from + i], scratch.flat);
      }
      return;
    }
    for (int i = 0; i < count; i += lanes) {
      int n = Math.min(lanes, count - i);
      if (wide) {
        wideRanks(rows, from + i, n, scratch.wideRanks);
        kernel.leaves(scratch.wideRanks, scratch.wideLeaves);
        wideSum(n, out, i, scratch.wideLeaves);
      } else {
        kernel.ranks(rows, from + i, n, scratch.ranks);
        kernel.leaves(scratch.ranks, scratch.leaves);
        sum(n, out, i, scratch.leaves, scratch.sums);
      }
    }
  }

  /**
   * Writes the click probability of {@code rows[from + i]} to {@code out[i]}: {@link #margins},
   * then {@link FlatForest#probability(double[])}'s expression per row.
   */
  public void probabilities(double[][] rows, int from, int count, double[] out, Scratch scratch) {
    margins(rows, from, count, out, scratch);
    for (int i = 0; i < count; i++) {
      out[i] = FlatForest.probabilityOf(out[i]);
    }
  }

  /**
   * Scores {@code batches} batches of made-up rows, so that HotSpot compiles the generated code
   * before it serves (interpreted or C1-compiled Vector API code is far slower than the scalar
   * path). Does nothing on the scalar path.
   */
  public void warmUp(int batches) {
    warmUp(batches, System.nanoTime(), Long.MAX_VALUE);
  }

  /**
   * As {@link #warmUp(int)}, stopping early once {@code budgetNanos} have passed since
   * {@code startNanos} ({@link System#nanoTime}); returns the batches run. On a machine whose cores
   * are contended the compiler lags and the batches run the Vector API's slow fallback, so an
   * unbounded warm-up could take minutes of CPU from serving.
   */
  public int warmUp(int batches, long startNanos, long budgetNanos) {
    if (kernel == null) {
      return 0;
    }
    java.util.SplittableRandom random = new java.util.SplittableRandom(1);
    double[][] rows = new double[lanes][features];
    double[] out = new double[lanes];
    Scratch scratch = newScratch();
    for (int b = 0; b < batches; b++) {
      double[] row = rows[b % lanes];
      for (int f = 0; f < features; f++) {
        double[] t = thresholds[f];
        // Values around the thresholds, so that every rank path runs.
        row[f] = t.length == 0 ? random.nextDouble() : t[random.nextInt(t.length)] + random.nextDouble(-1, 1);
      }
      margins(rows, 0, lanes, out, scratch);
      if ((b & 63) == 63 && System.nanoTime() - startNanos > budgetNanos) {
        return b + 1;
      }
    }
    return batches;
  }

  /**
   * The biased rank columns of rows {@code [from, from + n)} as the generated code writes them
   * ({@code n <= lanes()}, byte lanes only): for tests against {@link #rank}.
   */
  void ranks(double[][] rows, int from, int n, byte[] c) {
    kernel.ranks(rows, from, n, c);
  }

  /** The ranks in 16-bit lanes, one value at a time through {@link #rank}. */
  private void wideRanks(double[][] rows, int from, int n, short[] c) {
    for (int f = 0; f < features; f++) {
      final int base = f * lanes;
      for (int l = 0; l < n; l++) {
        c[base + l] = (short) (rank(f, rows[from + l][f]) - 32768);
      }
    }
  }

  /** Feature {@code f}'s sorted distinct split thresholds (vector path only); not to be modified. */
  double[] thresholdsOf(int f) {
    return thresholds[f];
  }

  /** The rank of {@code x} among feature {@code f}'s thresholds, as the generated {@code ranks} computes it. */
  int rank(int f, double x) {
    double[] t = thresholds[f];
    if (kind[f] != BUCKETS) {
      int r = 0;
      for (double v : t) {
        r += x <= v ? 0 : 1;
      }
      return r;
    }
    x = x != x ? Double.POSITIVE_INFINITY : x;
    double[] p = padded[f];
    int r0 = bucketStartOf(f, bucket(x, bucketLow[f], bucketScale[f], bucketMax[f]));
    int r = r0;
    for (int k = 0; k < perBucket[f]; k++) {
      r += p[r0 + k] < x ? 1 : 0; // sorted: the same count as comparing from the running rank
    }
    return r;
  }

  private int bucketStartOf(int f, int b) {
    return wide ? wideBucketStart[f][b] & 0xffff : bucketStart[f][b] & 0xff;
  }

  private void wideSum(int n, double[] out, int at, short[] ix) {
    final double[] s = sums;
    final int stride = groupStride;
    for (int r = 0; r < n; r++) {
      double y = intercept;
      for (int g = 0, o = 0, p = r; g < groups; g++, o += stride, p += lanes) {
        y += s[o + (ix[p] & 0xffff)];
      }
      out[at + r] = y;
    }
  }

  /** The bucket of {@code x}: monotone non-decreasing in {@code x} (IEEE subtraction, scaling and truncation are). */
  static int bucket(double x, double low, double scale, int max) {
    return Math.max(0, Math.min((int) ((x - low) * scale), max));
  }

  /**
   * Adds each row's group sums to the intercept; eight rows at a time so that their additions
   * overlap (each row's sum is a chain of dependent additions; eight chains hide the latency:
   * measured ~15% faster than four).
   */
  private void sum(int n, double[] out, int at, byte[] ix, double[] tmp) {
    final double[] s = sums;
    final int groups = this.groups;
    final int stride = groupStride;
    final int lanes = this.lanes;
    final double b = intercept;
    // Whole blocks of eight, padding lanes included (their leaf numbers are valid, their sums unused).
    for (int r = 0; r < n; r += 8) {
      double y0 = b;
      double y1 = b;
      double y2 = b;
      double y3 = b;
      double y4 = b;
      double y5 = b;
      double y6 = b;
      double y7 = b;
      for (int g = 0, o = 0, p = r; g < groups; g++, o += stride, p += lanes) {
        y0 += s[o + (ix[p] & 0xff)];
        y1 += s[o + (ix[p + 1] & 0xff)];
        y2 += s[o + (ix[p + 2] & 0xff)];
        y3 += s[o + (ix[p + 3] & 0xff)];
        y4 += s[o + (ix[p + 4] & 0xff)];
        y5 += s[o + (ix[p + 5] & 0xff)];
        y6 += s[o + (ix[p + 6] & 0xff)];
        y7 += s[o + (ix[p + 7] & 0xff)];
      }
      tmp[r] = y0;
      tmp[r + 1] = y1;
      tmp[r + 2] = y2;
      tmp[r + 3] = y3;
      tmp[r + 4] = y4;
      tmp[r + 5] = y5;
      tmp[r + 6] = y6;
      tmp[r + 7] = y7;
    }
    System.arraycopy(tmp, 0, out, at, n);
  }

  /** Everything derived from the forest: rank tables, tree groups and their sum tables. */
  private static final class Plan {
    int[] kind;
    double[][] thresholds;
    double[][] padded;
    byte[][] bucketStart;
    short[][] wideBucketStart;
    boolean wide;
    double[] bucketLow;
    double[] bucketScale;
    int[] bucketMax;
    int[] perBucket;
    int bits;
    int perGroup;
    int groups;
    int groupStride;
    double[] sums;
    /** Per tree, its leaf values in the order the generator numbers them. */
    double[][] leaves;

    static Plan of(FlatForest forest) {
      Plan p = new Plan();
      int features = forest.features();
      @SuppressWarnings("unchecked")
      TreeSet<Double>[] sets = new TreeSet[features];
      for (int f = 0; f < features; f++) {
        sets[f] = new TreeSet<>();
      }
      int trees = forest.trees();
      p.leaves = new double[trees][];
      int maxLeaves = 1;
      for (int t = 0; t < trees; t++) {
        List<Double> leafValues = new ArrayList<>();
        number(forest, forest.rootSlots()[t], sets, leafValues);
        if (leafValues.size() > MAX_TREE_LEAVES) {
          throw new IllegalArgumentException("tree " + t + " has " + leafValues.size() + " leaves, over "
              + MAX_TREE_LEAVES);
        }
        p.leaves[t] = leafValues.stream().mapToDouble(Double::doubleValue).toArray();
        maxLeaves = Math.max(maxLeaves, leafValues.size());
      }
      p.kind = new int[features];
      p.thresholds = new double[features][];
      p.padded = new double[features][];
      p.bucketStart = new byte[features][];
      p.wideBucketStart = new short[features][];
      for (int f = 0; f < features; f++) {
        p.wide |= sets[f].size() > MAX_THRESHOLDS;
      }
      p.bucketLow = new double[features];
      p.bucketScale = new double[features];
      p.bucketMax = new int[features];
      p.perBucket = new int[features];
      for (int f = 0; f < features; f++) {
        double[] t = sets[f].stream().mapToDouble(Double::doubleValue).toArray();
        for (double v : t) {
          if (!Double.isFinite(v)) {
            throw new IllegalArgumentException("feature " + forest.featureNames()[f] + " splits at " + v);
          }
        }
        if (t.length > MAX_WIDE_THRESHOLDS) {
          throw new IllegalArgumentException("feature " + forest.featureNames()[f] + " has " + t.length
              + " thresholds, over the " + MAX_WIDE_THRESHOLDS + " a 16-bit rank holds");
        }
        p.thresholds[f] = t;
        p.kind[f] = t.length <= 4 ? t.length : BUCKETS;
        if (t.length > 4) {
          p.buckets(f, t);
        }
      }
      if (maxLeaves - 1 > SPLITS_PER_METHOD) {
        throw new IllegalArgumentException("a tree has " + (maxLeaves - 1) + " splits, over the " + SPLITS_PER_METHOD
            + " one generated method holds");
      }
      p.bits = 32 - Integer.numberOfLeadingZeros(maxLeaves - 1);
      // Two trees per lane when both leaf numbers fit in 8 bits and a pair fits in one method.
      p.perGroup = 2 * p.bits <= 8 && 2 * (maxLeaves - 1) <= SPLITS_PER_METHOD ? 2 : 1;
      p.groups = (trees + p.perGroup - 1) / p.perGroup;
      p.groupStride = 1 << (p.bits * p.perGroup);
      p.sums = new double[p.groups * p.groupStride];
      for (int g = 0; g < p.groups; g++) {
        int t = g * p.perGroup;
        double[] a = p.leaves[t];
        if (p.perGroup == 1 || t + 1 >= trees) {
          for (int i = 0; i < a.length; i++) {
            p.sums[g * p.groupStride + (i << (p.perGroup == 1 ? 0 : p.bits))] = a[i];
          }
        } else {
          double[] b = p.leaves[t + 1];
          for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b.length; j++) {
              p.sums[g * p.groupStride + ((i << p.bits) | j)] = a[i] + b[j];
            }
          }
        }
      }
      return p;
    }

    /** Collects the thresholds of the subtree at {@code s} and numbers its leaves in generation order. */
    private static void number(FlatForest forest, int s, TreeSet<Double>[] sets, List<Double> leafValues) {
      // The generator visits the false child, then the true child; number leaves in that order.
      List<Integer> order = new ArrayList<>();
      visit(forest, s, order);
      for (int slot : order) {
        if (forest.leafAt(slot)) {
          leafValues.add(forest.slotLeaves()[slot]);
        } else {
          sets[forest.slotFeatures()[slot]].add(forest.slotValues()[slot]);
        }
      }
    }

    private static void visit(FlatForest forest, int s, List<Integer> order) {
      order.add(s);
      if (!forest.leafAt(s)) {
        int c = forest.slotChildren()[s];
        visit(forest, c + 1, order); // false child
        visit(forest, c, order); // true child
      }
    }

    private void buckets(int f, double[] t) {
      int n = t.length;
      double low = t[0];
      for (int b = 2 * n; ; b *= 2) {
        double scale = b / (t[n - 1] - low);
        int max = b - 1;
        int[] count = new int[b];
        for (double v : t) {
          count[bucket(v, low, scale, max)]++;
        }
        int most = Arrays.stream(count).max().orElse(0);
        if (most <= BUCKET_TARGET || b >= MAX_BUCKETS) {
          byte[] start = new byte[wide ? 0 : b];
          short[] wideStart = new short[wide ? b : 0];
          int below = 0;
          for (int i = 0; i < b; i++) {
            if (wide) {
              wideStart[i] = (short) below;
            } else {
              start[i] = (byte) below;
            }
            below += count[i];
          }
          bucketStart[f] = start;
          wideBucketStart[f] = wideStart;
          bucketLow[f] = low;
          bucketScale[f] = scale;
          bucketMax[f] = max;
          perBucket[f] = most;
          // Padded with +Infinity so a bucket's compares never read past the end and never count padding.
          double[] pad = Arrays.copyOf(t, n + most + 1);
          Arrays.fill(pad, n, pad.length, Double.POSITIVE_INFINITY);
          padded[f] = pad;
          return;
        }
      }
    }

    /** The generated kernel's source. */
    String source(FlatForest forest, String className) {
      int dot = className.lastIndexOf('.');
      StringBuilder b = new StringBuilder(256 * 1024);
      b.append("package ").append(className, 0, dot).append(";\n\n");
      String v = wide ? "ShortVector" : "ByteVector";
      String e0 = wide ? "short" : "byte";
      b.append("import jdk.incubator.vector.").append(v).append(";\n");
      b.append("import jdk.incubator.vector.VectorOperators;\n");
      b.append("import jdk.incubator.vector.VectorSpecies;\n\n");
      b.append("/** Generated by dev.adengine.models.scoring.RankForest: ").append(forest.trees()).append(" trees. */\n");
      b.append("public final class ").append(className, dot + 1, className.length())
          .append(" implements dev.adengine.models.scoring.RankForest.Kernel {\n");
      b.append("  private static final VectorSpecies<").append(wide ? "Short" : "Byte").append("> B = ").append(v)
          .append(".SPECIES_PREFERRED;\n");
      b.append("  private static final int L = B.length();\n\n");
      b.append("  public int lanes() {\n    return L;\n  }\n");
      List<String> methods = new ArrayList<>();
      StringBuilder body = new StringBuilder();
      int splits = 0;
      for (int g = 0; g < groups; g++) {
        StringBuilder e = new StringBuilder();
        int t = g * perGroup;
        int n;
        if (perGroup == 2 && t + 1 < forest.trees()) {
          n = tree(forest, forest.rootSlots()[t], bits, e, new int[1], v, e0);
          e.append("\n      .or(");
          n += tree(forest, forest.rootSlots()[t + 1], 0, e, new int[1], v, e0);
          e.append(")");
        } else {
          n = tree(forest, forest.rootSlots()[t], perGroup == 2 ? bits : 0, e, new int[1], v, e0);
        }
        if (splits > 0 && splits + n > SPLITS_PER_METHOD) {
          methods.add(body.toString());
          body.setLength(0);
          splits = 0;
        }
        body.append("    // trees ").append(t).append(perGroup == 2 ? " and " + (t + 1) : "").append("\n");
        body.append("    ").append(e).append("\n      .intoArray(z, ").append(g).append(" * L);\n");
        splits += n;
      }
      if (body.length() > 0) {
        methods.add(body.toString());
      }
      rankSource(forest, className.substring(dot + 1), b);
      String other = wide ? "byte" : "short";
      b.append("\n  public void leaves(").append(other).append("[] c, ").append(other).append("[] z) {\n");
      b.append("    throw new UnsupportedOperationException(\"").append(e0).append(" lanes\");\n  }\n");
      b.append("\n  public void leaves(").append(e0).append("[] c, ").append(e0).append("[] z) {\n");
      for (int m = 0; m < methods.size(); m++) {
        b.append("    m").append(m).append("(c, z);\n");
      }
      b.append("  }\n");
      for (int m = 0; m < methods.size(); m++) {
        b.append("\n  private static void m").append(m).append("(").append(e0).append("[] c, ").append(e0)
            .append("[] z) {\n").append(methods.get(m)).append("  }\n");
      }
      b.append("}\n");
      return b.toString();
    }

    /**
     * Appends the constructor (the bucket tables) and {@code ranks}: one pass over each row, every
     * feature's rank computed with its thresholds, bucket origin and scale as constants.
     */
    private void rankSource(FlatForest forest, String simpleName, StringBuilder b) {
      int features = forest.features();
      List<Integer> bucketed = new ArrayList<>();
      for (int f = 0; f < features; f++) {
        if (kind[f] == BUCKETS) {
          bucketed.add(f);
        }
      }
      b.append('\n');
      for (int f : bucketed) {
        b.append("  private final byte[] s").append(f).append(";\n");
        b.append("  private final double[] p").append(f).append(";\n");
      }
      b.append("\n  public ").append(simpleName).append("(byte[][] s, double[][] p) {\n");
      for (int f : bucketed) {
        b.append("    s").append(f).append(" = s[").append(f).append("];\n");
        b.append("    p").append(f).append(" = p[").append(f).append("];\n");
      }
      b.append("  }\n");
      b.append("\n  public void ranks(double[][] rows, int from, int n, byte[] c) {\n");
      if (wide) {
        b.append("    throw new UnsupportedOperationException(\"short lanes\");\n  }\n");
        return;
      }
      for (int f : bucketed) {
        b.append("    final byte[] s").append(f).append(" = this.s").append(f).append(";\n");
        b.append("    final double[] p").append(f).append(" = this.p").append(f).append(";\n");
      }
      b.append("    for (int l = 0; l < n; l++) {\n");
      b.append("      final double[] r = rows[from + l];\n");
      b.append("      double x = r[").append(features - 1).append("];\n"); // one bounds check covers the rest
      b.append("      int k;\n");
      for (int f = 0; f < features; f++) {
        double[] t = thresholds[f];
        if (kind[f] == 0) {
          continue; // no split reads it: the kernel never loads its column
        }
        b.append("      x = r[").append(f).append("];\n");
        String at = "c[" + f + " * L + l]";
        if (kind[f] != BUCKETS) {
          b.append("      ").append(at).append(" = (byte) (-128");
          for (double v : t) {
            b.append(" + (x <= ").append(literal(v)).append(" ? 0 : 1)");
          }
          b.append(");\n");
          continue;
        }
        b.append("      x = x != x ? Double.POSITIVE_INFINITY : x;\n");
        b.append("      k = s").append(f).append("[Math.max(0, Math.min((int) ((x - ").append(literal(bucketLow[f]))
            .append(") * ").append(literal(bucketScale[f])).append("), ").append(bucketMax[f]).append("))] & 0xff;\n");
        b.append("      k += ");
        for (int j = 0; j < perBucket[f]; j++) {
          b.append(j == 0 ? "" : " + ").append("(p").append(f).append("[k").append(j == 0 ? "" : " + " + j)
              .append("] < x ? 1 : 0)");
        }
        if (perBucket[f] == 0) {
          b.append('0');
        }
        b.append(";\n");
        b.append("      ").append(at).append(" = (byte) (k - 128);\n");
      }
      b.append("    }\n  }\n");
    }

    /** {@code v} as an exact Java literal (hexadecimal floating point), parenthesized. */
    private static String literal(double v) {
      return "(" + Double.toHexString(v) + ")";
    }

    /** Appends the subtree at {@code s}; returns its splits. Leaves are numbered as {@link #number} does. */
    private int tree(FlatForest forest, int s, int shift, StringBuilder e, int[] leafNo, String v, String e0) {
      if (forest.leafAt(s)) {
        int j = leafNo[0]++;
        e.append(v).append(".broadcast(B, (").append(e0).append(") ")
            .append(wide ? (short) (j << shift) : (byte) (j << shift)).append(")");
        return 0;
      }
      int c = forest.slotChildren()[s];
      int f = forest.slotFeatures()[s];
      int k = Arrays.binarySearch(thresholds[f], forest.slotValues()[s]);
      int n = tree(forest, c + 1, shift, e, leafNo, v, e0); // false child
      e.append(".blend(");
      n += tree(forest, c, shift, e, leafNo, v, e0); // true child
      e.append(", ").append(v).append(".fromArray(B, c, ").append(f).append(" * L).compare(VectorOperators.LE, (")
          .append(e0).append(") ").append(k - (wide ? 32768 : 128)).append("))");
      return n + 1;
    }
  }
}
