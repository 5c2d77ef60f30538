package dev.adengine.models.scoring;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * A {@link FlatForest} scored a batch of rows at a time with SIMD across rows: the same margins and
 * probabilities, bit for bit, many times faster per row when the JVM has the incubating Vector API
 * ({@code --add-modules jdk.incubator.vector}) and a Java compiler; otherwise the same results
 * through the scalar {@link FlatForest} ({@link #vectorized()} and {@link #path()} say which, and
 * why). Immutable and safe to share between threads; scoring takes a caller-owned scratch array
 * (one per thread) and does not allocate.
 *
 * <p><b>Why.</b> A scalar tree walk is a chain of about five dependent load-compare-select steps
 * per tree; {@code FlatForest} overlaps eight trees and still spends hundreds of nanoseconds per
 * row on a 200-tree model. Across rows there is no dependency at all: with one row per vector lane
 * (8 doubles in a 512-bit register) every split is one vector compare and one blend for 8 rows.
 *
 * <p><b>Evaluation.</b> A batch of {@link #lanes()} rows is transposed into columns
 * ({@code scratch[f * lanes + lane] = rows[lane][f]}). Each tree is evaluated bottom-up without
 * any branch or per-lane index: a leaf is its (shrinkage-scaled) output broadcast to every lane, and
 * a split is {@code falseValue.blend(trueValue, column[f].compare(LE, threshold))}, so every lane
 * ends up holding the output of the leaf its row reaches. All of a tree's nodes are computed
 * (a tree of {@code n} splits costs {@code n} compares and {@code n} blends per batch, whatever
 * path a row takes). The tree values are added to the intercept one tree at a time in the model's
 * order, {@code y = y + tree}, lane by lane.
 *
 * <p><b>Exactness.</b> The same doubles meet in the same operations as in {@link FlatForest}, so
 * the margins are bit-identical to {@link FlatForest#margin(double[])} (and therefore to Smile's
 * {@code GradientTreeBoost}): the intercept, leaf outputs and thresholds are the forest's own
 * doubles, handed to the generated class as an array (never printed and parsed back); a blend moves
 * doubles without arithmetic; a lane-wise {@code LE} compare is IEEE
 * {@code x <= threshold}, false for a NaN {@code x}, which therefore goes to the false child as in
 * Smile's {@code OrdinalNode}; the vector add is the IEEE double add of each lane, in the same order
 * as Smile's loop. The probability is computed per row with {@link FlatForest}'s expression. Padding
 * lanes of a last partial batch hold zeros and are discarded.
 *
 * <p><b>Code generation.</b> A generic vector interpreter must keep every intermediate vector in
 * memory (a scratch array indexed by node), because the Vector API's vectors stay in registers only
 * where HotSpot's C2 can see every use. So this class writes Java source specific to the forest:
 * straight-line code with the features as literals and the thresholds and leaves read from a
 * constant array ({@code vbroadcastsd} from memory: one instruction, where a literal took two), a
 * few trees per method ({@link #SPLITS_PER_METHOD}: past a few dozen splits C2 leaves the vectors
 * boxed, and interpreted or C1-compiled Vector API code is far slower than the scalar path); the
 * running margin passes between methods through the scratch array, as a vector argument would be
 * boxed. Measured on the production-shape model (200 trees of 7 splits, JDK 17, AVX-512, 8 rows
 * per batch): this code ~210 ns per row; a generic vector interpreter keeping each node's vector
 * in a scratch array ~650-850 ns, no better than {@code FlatForest}'s ~750 ns; 256-bit vectors
 * (4 rows) ~330 ns; a mask-free variant (sign of {@code threshold - x} as a bit-select mask) is
 * not fully intrinsified on JDK 17 and allocates. The source is compiled in memory with the JDK's
 * {@code javax.tools} compiler, against the incubating module, and defined in a class loader of its
 * own (a child of this class's loader, so the generated class can be unloaded with its scorer). Only the
 * generated source refers to {@code jdk.incubator.vector}: this module compiles and runs without
 * it. The generated code uses the JVM's preferred vector species, so {@link #lanes()} is 8 on
 * AVX-512 hardware, 4 with AVX2; with fewer than 4 double lanes the scalar path is used. The code
 * starts interpreted; {@link #warmUp} runs it until HotSpot has compiled it, which a server should do
 * when it loads a model, not on a request.
 */
public final class VectorForest {
  /** The incubating module the generated code needs. */
  public static final String VECTOR_MODULE = "jdk.incubator.vector";
  /**
   * Splits per generated method at most (whole trees). Measured on JDK 17 with AVX-512 on the
   * production-shape model (7 splits per tree): 16 fastest (~210 ns per row), 8 and 24 ~20% slower;
   * at 64 C2 compiles the method but leaves the vectors boxed (tens of KB allocated per row, slower
   * than the scalar path), so methods must stay small.
   */
  static final int SPLITS_PER_METHOD = 16;
  /**
   * A tree with more splits than this is not generated (it would take a method alone, and methods
   * much larger than {@link #SPLITS_PER_METHOD} splits were measured to box their vectors).
   */
  static final int MAX_TREE_SPLITS = 32;
  private static final int MIN_LANES = 4;
  private static final AtomicInteger CLASSES = new AtomicInteger();

  /**
   * The generated code's entry point. Public only because the generated class lives in its own
   * class loader; not an API.
   */
  public interface Kernel {
    /** Double lanes of the vectors the code uses: the rows per batch. */
    int lanes();

    /**
     * Margins of one batch: the rows' columns are in {@code s[0 .. features * lanes)},
     * {@code s[f * lanes + lane]}; writes row {@code lane}'s margin to
     * {@code s[features * lanes + lane]}.
     */
    void margins(double[] s);

    /**
     * The constants (intercept, leaves, thresholds) of the generated class named {@code className},
     * handed over once from {@link VectorForest#of} to the class's static initializer.
     */
    static double[] constants(String className) {
      double[] c = PENDING.remove(className);
      if (c == null) {
        throw new IllegalStateException("no constants for " + className);
      }
      return c;
    }
  }

  /** Constants of generated classes not yet initialized, by class name. */
  private static final Map<String, double[]> PENDING = new ConcurrentHashMap<>();

  private final FlatForest forest;
  private final Kernel kernel;
  private final String path;
  private final int features;
  private final int lanes;
  private final int scratchSize;

  private VectorForest(FlatForest forest, Kernel kernel, String path) {
    this.forest = forest;
    this.kernel = kernel;
    this.path = path;
    this.features = forest.features();
    this.lanes = kernel == null ? 1 : kernel.lanes();
    this.scratchSize = kernel == null ? forest.scratchSize()
        : Math.max(forest.scratchSize(), (features + 1) * lanes);
  }

  /**
   * The vector scorer of {@code forest} if the JVM can run it, else the forest's scalar path. Takes
   * about a second or two (generation and compilation); call {@link #warmUp} before serving.
   */
  public static VectorForest of(FlatForest forest) {
    if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
      return scalar(forest, "module " + VECTOR_MODULE + " not in the JVM (run with --add-modules " + VECTOR_MODULE
          + ")");
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    if (javac == null) {
      return scalar(forest, "no Java compiler in this runtime (javax.tools)");
    }
    for (int t = 0; t < forest.trees(); t++) {
      int splits = splits(forest, t);
      if (splits > MAX_TREE_SPLITS) {
        return scalar(forest, "tree " + t + " has " + splits + " splits, over the " + MAX_TREE_SPLITS
            + " one generated method holds");
      }
    }
    String name = "dev.adengine.models.scoring.generated.VectorForest" + CLASSES.incrementAndGet();
    try {
      Generated code = generate(forest, name);
      Class<?> type = compile(javac, name, code.source());
      PENDING.put(name, code.constants());
      Kernel kernel;
      try {
        kernel = (Kernel) type.getConstructor().newInstance();
      } finally {
        PENDING.remove(name);
      }
      if (kernel.lanes() < MIN_LANES) {
        return scalar(forest, "the JVM's preferred vector holds " + kernel.lanes() + " doubles, fewer than "
            + MIN_LANES);
      }
      return new VectorForest(forest, kernel, String.format(Locale.ROOT,
          "vector: %d rows per batch, generated %s (%d trees)", kernel.lanes(), name, forest.trees()));
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return scalar(forest, "code generation failed: " + e);
    }
  }

  /** The scalar {@link FlatForest} path, whatever the JVM offers; {@code why} is reported by {@link #path()}. */
  public static VectorForest scalar(FlatForest forest, String why) {
    return new VectorForest(forest, null, "scalar FlatForest: " + why);
  }

  /** Whether batches run through generated vector code (else through {@link FlatForest}). */
  public boolean vectorized() {
    return kernel != null;
  }

  /** Which path is active and, for the scalar one, why. */
  public String path() {
    return path;
  }

  /** Rows scored per vector pass (1 on the scalar path). */
  public int lanes() {
    return lanes;
  }

  /** The forest this scores. */
  public FlatForest forest() {
    return forest;
  }

  /** The length of the scratch array {@link #margins} and {@link #probabilities} need. */
  public int scratchSize() {
    return scratchSize;
  }

  /**
   * Writes the margin of {@code rows[from + i]} to {@code out[i]} for {@code i < count}, bit for bit
   * {@link FlatForest#margin(double[])}, with a caller-owned scratch array of at least
   * {@link #scratchSize()} doubles (one per thread; its contents do not matter and are overwritten).
   *
   * @throws IllegalArgumentException if a row's length is not the forest's number of features
   */
  public void margins(double[][] rows, int from, int count, double[] out, double[] scratch) {
    if (scratch.length < scratchSize) {
      throw new IllegalArgumentException("scratch of " + scratch.length + ", needs " + scratchSize);
    }
    if (count > out.length) {
      throw new IllegalArgumentException(count + " rows, room for " + out.length);
    }
    if (kernel == null) {
      for (int i = 0; i < count; i++) {
        out[i] = forest.margin(rows[from + i], scratch);
      }
      return;
    }
    final int lanes = this.lanes;
    final int features = this.features;
    final int y = features * lanes;
    for (int i = 0; i < count; i += lanes) {
      int n = Math.min(lanes, count - i);
      for (int lane = 0; lane < n; lane++) {
        double[] row = rows[from + i + lane];
        if (row.length != features) {
          throw new IllegalArgumentException(row.length + " values for " + features + " features");
        }
        for (int f = 0, k = lane; f < features; f++, k += lanes) {
          scratch[k] = row[f];
        }
      }
      for (int lane = n; lane < lanes; lane++) {
        for (int f = 0, k = lane; f < features; f++, k += lanes) {
          scratch[k] = 0.0;
        }
      }
      kernel.margins(scratch);
      System.arraycopy(scratch, y, out, i, n);
    }
  }

  /**
   * Writes the click probability of {@code rows[from + i]} to {@code out[i]}: {@link #margins}, then
   * {@link FlatForest#probability(double[])}'s expression per row (so Smile's {@code posteriori[1]}).
   */
  public void probabilities(double[][] rows, int from, int count, double[] out, double[] scratch) {
    margins(rows, from, count, out, scratch);
    for (int i = 0; i < count; i++) {
      out[i] = FlatForest.probabilityOf(out[i]);
    }
  }

  /**
   * Scores {@code batches} batches of made-up rows, so that HotSpot compiles the generated code before
   * it serves (about 10,000 batches; interpreted or C1-compiled Vector API code is far slower than
   * the scalar path). Does nothing on the scalar path.
   */
  public void warmUp(int batches) {
    if (kernel == null) {
      return;
    }
    double[] s = new double[scratchSize];
    java.util.SplittableRandom random = new java.util.SplittableRandom(1);
    for (int b = 0; b < batches; b++) {
      for (int k = 0; k < features * lanes; k++) {
        s[k] = random.nextDouble();
      }
      kernel.margins(s);
    }
  }

  private static int splits(FlatForest forest, int tree) {
    int[] child = forest.slotChildren();
    int n = 0;
    ArrayList<Integer> open = new ArrayList<>(List.of(forest.rootSlots()[tree]));
    while (!open.isEmpty()) {
      int s = open.remove(open.size() - 1);
      if (!forest.leafAt(s)) {
        n++;
        open.add(child[s]);
        open.add(child[s] + 1);
      }
    }
    return n;
  }

  /**
   * A generated class's source and the constants its static initializer takes from
   * {@link Kernel#constants}: {@code C[0]} the intercept, then each tree's leaves and thresholds in
   * the order the source uses them.
   */
  record Generated(String source, double[] constants) {}

  /** The generated class (package-private for tests and inspection). */
  static Generated generate(FlatForest forest, String className) {
    List<Double> constants = new ArrayList<>(List.of(forest.intercept()));
    int dot = className.lastIndexOf('.');
    StringBuilder b = new StringBuilder(256 * 1024);
    b.append("package ").append(className, 0, dot).append(";\n\n");
    b.append("import jdk.incubator.vector.DoubleVector;\n");
    b.append("import jdk.incubator.vector.VectorOperators;\n");
    b.append("import jdk.incubator.vector.VectorSpecies;\n\n");
    b.append("/** Generated by dev.adengine.models.scoring.VectorForest: ").append(forest.trees())
        .append(" trees. */\n");
    b.append("public final class ").append(className, dot + 1, className.length())
        .append(" implements dev.adengine.models.scoring.VectorForest.Kernel {\n");
    b.append("  private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;\n");
    b.append("  private static final int L = S.length();\n");
    b.append("  private static final double[] C = dev.adengine.models.scoring.VectorForest.Kernel.constants(\"")
        .append(className).append("\");\n");
    b.append("  private static final int Y = ").append(forest.features()).append(" * L;\n\n");
    b.append("  public int lanes() {\n    return L;\n  }\n\n");

    // Group whole trees into methods of at most SPLITS_PER_METHOD splits (a bigger tree alone).
    List<int[]> methods = new ArrayList<>();
    int first = 0;
    int splits = 0;
    for (int t = 0; t < forest.trees(); t++) {
      int n = splits(forest, t);
      if (t > first && splits + n > SPLITS_PER_METHOD) {
        methods.add(new int[] {first, t});
        first = t;
        splits = 0;
      }
      splits += n;
    }
    if (forest.trees() > first) {
      methods.add(new int[] {first, forest.trees()});
    }
    b.append("  public void margins(double[] s) {\n");
    b.append("    DoubleVector.broadcast(S, C[0]).intoArray(s, Y);\n");
    for (int m = 0; m < methods.size(); m++) {
      b.append("    m").append(m).append("(s);\n");
    }
    b.append("  }\n");
    for (int m = 0; m < methods.size(); m++) {
      b.append("\n  private static void m").append(m).append("(double[] s) {\n");
      b.append("    DoubleVector y = DoubleVector.fromArray(S, s, Y);\n");
      for (int t = methods.get(m)[0]; t < methods.get(m)[1]; t++) {
        b.append("    // tree ").append(t).append("\n");
        b.append("    y = y.add(");
        tree(forest, forest.rootSlots()[t], b, 6, constants);
        b.append(");\n");
      }
      b.append("    y.intoArray(s, Y);\n");
      b.append("  }\n");
    }
    b.append("}\n");
    double[] c = new double[constants.size()];
    for (int i = 0; i < c.length; i++) {
      c[i] = constants.get(i);
    }
    return new Generated(b.toString(), c);
  }

  /** Appends the expression of the subtree at slot {@code s}; its constants go to {@code constants}. */
  private static void tree(FlatForest forest, int s, StringBuilder b, int indent, List<Double> constants) {
    if (forest.leafAt(s)) {
      b.append("DoubleVector.broadcast(S, C[").append(constants.size()).append("])");
      constants.add(forest.slotLeaves()[s]);
      return;
    }
    int t = forest.slotChildren()[s];
    String pad = "\n" + " ".repeat(indent);
    tree(forest, t + 1, b, indent + 2, constants); // false child
    b.append(pad).append(".blend(");
    tree(forest, t, b, indent + 2, constants); // true child
    b.append(",").append(pad).append("  DoubleVector.fromArray(S, s, ").append(forest.slotFeatures()[s])
        .append(" * L).compare(VectorOperators.LE, C[").append(constants.size()).append("]))");
    constants.add(forest.slotValues()[s]);
  }

  /** How many times {@link #compile} ran javac in this JVM (a cache hit does not): for tests. */
  static final AtomicInteger JAVAC_RUNS = new AtomicInteger();

  /** Compiles one class in memory and defines it in a new class loader under this class's. */
  static Class<?> compile(JavaCompiler javac, String className, String source) throws ClassNotFoundException {
    return define(className, javac(javac, className, source));
  }

  /**
   * As {@link #compile(JavaCompiler, String, String)}, but defines the classes of an earlier
   * compilation of the same source from {@code cache} when it holds them (then the class keeps the
   * name it was compiled under), and stores what javac compiles otherwise. A cache that cannot be
   * written costs only the next start's javac run.
   */
  static Compiled compile(JavaCompiler javac, String className, String source, CompiledClassCache cache)
      throws ClassNotFoundException {
    if (cache == null) {
      return new Compiled(compile(javac, className, source), false);
    }
    String key = CompiledClassCache.key(className, source);
    var cached = cache.get(key);
    if (cached.isPresent()) {
      try {
        return new Compiled(define(cached.get().className(), cached.get().classes()), true);
      } catch (ClassNotFoundException | LinkageError e) {
        // not what it claims to be: compile again, and overwrite it below
      }
    }
    Map<String, byte[]> classes = javac(javac, className, source);
    try {
      cache.put(key, new CompiledClassCache.Entry(className, classes));
    } catch (java.io.IOException | RuntimeException e) {
      // the compiled class serves all the same; only the next start compiles again
    }
    return new Compiled(define(className, classes), false);
  }

  /** A class compiled by javac, or defined from {@link CompiledClassCache} ({@code fromCache}). */
  record Compiled(Class<?> type, boolean fromCache) {}

  /** Runs javac on {@code source} in memory; every class it writes, by binary name. */
  private static Map<String, byte[]> javac(JavaCompiler javac, String className, String source) {
    JAVAC_RUNS.incrementAndGet();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    Map<String, ByteArrayOutputStream> classes = new ConcurrentHashMap<>();
    StandardJavaFileManager standard = javac.getStandardFileManager(diagnostics, Locale.ROOT, null);
    JavaFileManager files = new ForwardingJavaFileManager<>(standard) {
      @Override
      public JavaFileObject getJavaFileForOutput(Location location, String name, JavaFileObject.Kind kind,
          FileObject sibling) {
        return new SimpleJavaFileObject(URI.create("mem:///" + name.replace('.', '/') + kind.extension), kind) {
          @Override
          public OutputStream openOutputStream() {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            classes.put(name, bytes);
            return bytes;
          }
        };
      }
    };
    JavaFileObject unit = new SimpleJavaFileObject(
        URI.create("string:///" + className.replace('.', '/') + JavaFileObject.Kind.SOURCE.extension),
        JavaFileObject.Kind.SOURCE) {
      @Override
      public CharSequence getCharContent(boolean ignoreEncodingErrors) {
        return source;
      }
    };
    List<String> options = List.of("--add-modules", VECTOR_MODULE, "-classpath", classPathOfThisClass(),
        "-proc:none", "-g:none", "-nowarn", "-XDsuppressNotes");
    Boolean ok = javac.getTask(null, files, diagnostics, options, null, List.of(unit)).call();
    if (!Boolean.TRUE.equals(ok)) {
      StringBuilder errors = new StringBuilder();
      for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
        if (d.getKind() == Diagnostic.Kind.ERROR) {
          errors.append(" line ").append(d.getLineNumber()).append(": ").append(d.getMessage(Locale.ROOT));
          if (errors.length() > 500) {
            break;
          }
        }
      }
      throw new IllegalStateException("javac failed:" + errors);
    }
    Map<String, byte[]> bytes = new java.util.TreeMap<>();
    classes.forEach((name, out) -> bytes.put(name, out.toByteArray()));
    return bytes;
  }

  /** Defines {@code classes} in a new class loader under this class's; returns {@code className}. */
  private static Class<?> define(String className, Map<String, byte[]> classes) throws ClassNotFoundException {
    ClassLoader loader = new ClassLoader(VectorForest.class.getClassLoader()) {
      @Override
      protected Class<?> findClass(String name) throws ClassNotFoundException {
        byte[] code = classes.get(name);
        if (code == null) {
          throw new ClassNotFoundException(name);
        }
        return defineClass(name, code, 0, code.length);
      }
    };
    return loader.loadClass(className);
  }

  /** Where {@link Kernel} is loaded from (a directory or jar), for javac's class path. */
  private static String classPathOfThisClass() {
    try {
      return Path.of(VectorForest.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (Exception e) {
      return System.getProperty("java.class.path", "") + File.pathSeparator;
    }
  }
}
