package dev.adengine.engine.ranking;

import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.scoring.CtrModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's active pCTR model, swapped atomically: a request takes the model once and uses it
 * for both stages, so a deploy never mixes versions inside one request. Only models trained on
 * this extractor's feature schema are accepted.
 */
public final class ModelHolder {
  /** The model shipped in the engine jar, trained by {@code bin/train} on simulator logs. */
  public static final String BUNDLED = "/models/ctr-default.bin";
  private static final Logger LOG = LoggerFactory.getLogger(ModelHolder.class);

  private final AtomicReference<CtrModel> current;
  /** Whether each model swapped in gets its batch stage 2 compiled ({@link #compileEveryActiveModel}). */
  private volatile boolean compileEach;
  /** Where generated stage-2 classes are kept across restarts ({@link #compileEveryActiveModel(java.nio.file.Path)}). */
  private volatile java.nio.file.Path classCache;
  /** Wall time a build of the compiled stage 2 may take before the node gives up on it ({@link #compileInBackground}). */
  private volatile java.time.Duration buildBudget = DEFAULT_BUILD_BUDGET;
  private final AtomicReference<CtrModel> shadow = new AtomicReference<>();
  /** The compiled model in service and the scalar one it replaced, re-timed by {@link #checkStage2}; null for none. */
  private volatile Guard guard;
  /** Checks in a row in which the guarded compiled model was slower than the scalar one. */
  private volatile int strikes;
  /** How often {@link #checkStage2} runs while a compiled stage 2 serves. */
  private final java.time.Duration guardInterval;
  private java.util.concurrent.ScheduledExecutorService guardThread;
  private final java.util.concurrent.atomic.AtomicLong stage2Fallbacks = new java.util.concurrent.atomic.AtomicLong();
  /** Further versions loaded for experiment arms ({@code adengine.ranking.arm-models}), by version. */
  private final java.util.concurrent.ConcurrentHashMap<String, CtrModel> armModels =
      new java.util.concurrent.ConcurrentHashMap<>();

  public ModelHolder(CtrModel initial) {
    this(initial, GUARD_INTERVAL);
  }

  /** With {@code guardInterval} between two re-timings of a compiled stage 2 in service (tests). */
  ModelHolder(CtrModel initial, java.time.Duration guardInterval) {
    initial.requireSchema(FeatureExtractor.SCHEMA_HASH);
    this.current = new AtomicReference<>(initial);
    this.guardInterval = guardInterval;
  }

  public CtrModel current() {
    return current.get();
  }

  /** The cluster's shadow model: scored beside the live one by the feature log only; null for none. */
  public CtrModel shadow() {
    return shadow.get();
  }

  /** Sets (or with null, clears) the shadow model; returns the one it replaced. */
  public CtrModel setShadow(CtrModel model) {
    if (model != null) {
      model.requireSchema(FeatureExtractor.SCHEMA_HASH);
    }
    return shadow.getAndSet(model);
  }

  /** The versions loaded on this node besides the active one (experiment arms, shadow). */
  public java.util.Set<String> armVersions() {
    return java.util.Set.copyOf(armModels.keySet());
  }

  /** Keeps {@code model} loaded beside the active one, for experiment arms that name its version. */
  public void addArmModel(CtrModel model) {
    model.requireSchema(FeatureExtractor.SCHEMA_HASH);
    armModels.put(model.version(), model);
  }

  /**
   * The model of {@code version}: the active one when {@code version} is null or its version, else
   * an arm model of that version, else null (not loaded on this node).
   */
  public CtrModel forVersion(String version) {
    CtrModel active = current.get();
    if (version == null || version.equals(active.version())) {
      return active;
    }
    CtrModel arm = armModels.get(version);
    if (arm == null) {
      CtrModel s = shadow.get();
      if (s != null && version.equals(s.version())) {
        return s;
      }
    }
    return arm;
  }

  /**
   * Makes {@code model} the active one; returns the one it replaced. With {@link #compileEveryActiveModel}
   * on, the new model's batch stage 2 is then compiled in the background like the first one's.
   */
  public CtrModel swap(CtrModel model) {
    model.requireSchema(FeatureExtractor.SCHEMA_HASH);
    CtrModel old = current.getAndSet(Objects.requireNonNull(model));
    if (compileEach && !model.stage2Vectorized()) {
      compileInBackground();
    }
    return old;
  }

  /**
   * Compiles the active model's batch stage 2 in the background now ({@link #compileInBackground})
   * and that of every model {@link #swap swapped} in from now on (a deploy or a rollback), so that a
   * node keeps the fast path across model versions (each version has its own generated code).
   *
   * @return completes when the active model's compilation is over (see {@link #compileInBackground})
   */
  public CompletableFuture<CtrModel> compileEveryActiveModel() {
    compileEach = true;
    return compileInBackground();
  }

  /**
   * As {@link #compileEveryActiveModel()}, keeping each generated class in {@code classCache} (a
   * directory of the node's own; {@code null}: none), so that a node restarted on this machine
   * skips javac for a model it compiled before (about 9 s of CPU per start on the 2-core development
   * machine; the warm-up still runs).
   */
  public CompletableFuture<CtrModel> compileEveryActiveModel(java.nio.file.Path classCache) {
    this.classCache = classCache;
    return compileEveryActiveModel();
  }

  /**
   * As {@link #compileEveryActiveModel(java.nio.file.Path)}, giving each build at most
   * {@code buildBudget} of wall time ({@code adengine.ranking.stage2-build-budget}).
   */
  public CompletableFuture<CtrModel> compileEveryActiveModel(java.nio.file.Path classCache,
      java.time.Duration buildBudget) {
    this.buildBudget = buildBudget;
    return compileEveryActiveModel(classCache);
  }

  /**
   * Compiles the active model's batch stage 2 ({@link CtrModel#withCompiledStage2()}: generated
   * vector code, compiled and warmed up, a few seconds of one core) on a thread of its own, and
   * swaps the compiled model in when it is ready and measured faster, unless another model was
   * deployed meanwhile. The compiled model is the same version and gives the same scores (within
   * about 1e-14: {@link dev.adengine.models.scoring.RankForest}); until it is in, requests use the
   * scalar path. A node calls this once it has loaded its
   * model, so that starting does not wait for the compiler.
   *
   * <p>Why measure: Vector API code is fast only once HotSpot's C2 has compiled it with every vector
   * operation intrinsified; interpreted, C1-compiled or partly inlined, the same code runs the API's
   * Java fallbacks, which allocate and are tens of times slower than the scalar path (seen once on a
   * heavily loaded machine, where the compiler queue lagged the warm-up). So after warming up, the
   * compiled model's time per row on a fixed batch is compared with the scalar path's; it is swapped
   * in only below {@value #MAX_VECTOR_SHARE} of it, after more warm-up rounds if needed, and never if
   * {@value #VERIFY_ROUNDS} rounds do not get it there (the node then keeps the scalar path and says
   * why).
   *
   * @return completes with the model in place afterwards, never exceptionally
   */
  public CompletableFuture<CtrModel> compileInBackground() {
    CtrModel plain = current.get();
    CompletableFuture<CtrModel> done = new CompletableFuture<>();
    Thread compiler = new Thread(() -> {
      long started = System.nanoTime();
      long budget = buildBudget.toNanos();
      try {
        CtrModel compiled = plain.withCompiledStage2(classCache, started, budget);
        if (!compiled.stage2Vectorized()) {
          LOG.info("model {}: stage 2 batches {}", compiled.version(), compiled.stage2Path());
          done.complete(current.get());
          return;
        }
        Timing timing = new Timing(plain);
        double scalar = timing.perRowNanos(plain);
        double vector = timing.perRowNanos(compiled);
        long built = System.nanoTime();
        int warmUps = 0;
        for (int round = 1; round < VERIFY_ROUNDS && vector > MAX_VECTOR_SHARE * scalar
            && System.nanoTime() - started <= budget; round++) {
          compiled.warmUpStage2(WARM_UP_BATCHES, started, budget);
          warmUps++;
          scalar = Math.min(scalar, timing.perRowNanos(plain));
          vector = timing.perRowNanos(compiled);
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        String how = String.format(java.util.Locale.ROOT, "compiled, warmed up and timed in %d ms, then %d more"
            + " warm-up round(s) of %,d batches in %d ms", (built - started) / 1_000_000, warmUps, WARM_UP_BATCHES, (System.nanoTime() - built) / 1_000_000);
        if (vector > MAX_VECTOR_SHARE * scalar) {
          LOG.warn("model {}: stage 2 stays on the scalar path: the compiled vector code took {} ns per row"
              + " against {} ns scalar after {} ms of warm-up (not compiled well by this JVM yet{}; {})",
              plain.version(), Math.round(vector), Math.round(scalar), ms,
              System.nanoTime() - started > budget ? ", and the build budget of " + buildBudget.toSeconds()
                  + " s is spent: the cores are contended" : "", how);
          done.complete(current.get());
          return;
        }
        boolean swapped = current.compareAndSet(plain, compiled);
        if (swapped) {
          Timing guardTiming = new Timing(plain);
          guard(new Guard(plain, compiled, m -> guardTiming.perRowNanos(m, GUARD_ROUNDS, GUARD_REPEAT)));
        }
        LOG.info("model {}: stage 2 batches {}: {} ns per row against {} ns scalar (built in {} ms: {}){}",
            compiled.version(), compiled.stage2Path(), Math.round(vector), Math.round(scalar), ms, how,
            swapped ? "" : "; not swapped in: another model was deployed");
        done.complete(current.get());
      } catch (RuntimeException | LinkageError e) {
        LOG.warn("model {}: stage 2 stays on the scalar path: compiling failed: {}", plain.version(), e.toString());
        done.complete(current.get());
      }
    }, "model-compiler");
    compiler.setDaemon(true);
    compiler.start();
    return done;
  }

  /**
   * Re-times the compiled stage 2 in service against the scalar model it replaced, on the same fixed
   * batch as when it was swapped in, and swaps the scalar model back in once the compiled one has
   * been slower than it {@value #GUARD_STRIKES} checks in a row.
   *
   * <p>Why: passing the check at start-up does not keep the compiled code fast. HotSpot can later
   * deoptimize it and recompile it without every vector operation intrinsified, and it then runs the
   * Vector API's Java fallback, tens of times slower than the scalar path and allocating an object
   * per operation. A node profiled with JFR after its start did exactly that (60% of its CPU in the
   * fallback, docs/benchmarks/analysis.md). Compiled code is shared by every thread, so a slow
   * compilation shows on this thread as it does on the serving ones; timing here costs the serving
   * path nothing. A model deployed later gets a fresh compilation of its own.
   *
   * <p>Runs on the holder's guard thread every {@link #GUARD_INTERVAL} while a compiled stage 2
   * serves; package-private so that tests can run a check.
   *
   * @return whether this check swapped the scalar model back in
   */
  boolean checkStage2() {
    Guard g = guard;
    if (g == null || current.get() != g.compiled()) {
      return false;
    }
    double vector = g.perRowNanos().applyAsDouble(g.compiled());
    double scalar = g.perRowNanos().applyAsDouble(g.plain());
    strikes = vector > scalar ? strikes + 1 : 0;
    if (strikes < GUARD_STRIKES) {
      return false;
    }
    boolean swapped = current.compareAndSet(g.compiled(), g.plain());
    guard = null;
    if (swapped) {
      stage2Fallbacks.incrementAndGet();
      LOG.warn("model {}: back on the scalar stage 2: the compiled vector code took {} ns per row against {} ns"
          + " scalar, {} checks in a row (recompiled by the JVM without its vector intrinsics); a deploy or"
          + " a restart compiles it again", g.compiled().version(), Math.round(vector), Math.round(scalar),
          GUARD_STRIKES);
    }
    return swapped;
  }

  /** Times this node's compiled stage 2 fell back to the scalar path ({@link #checkStage2}). */
  public long stage2Fallbacks() {
    return stage2Fallbacks.get();
  }

  /** Replaces the guarded pair (tests: with another way of timing), starting the guard thread once. */
  synchronized void guard(Guard g) {
    guard = g;
    strikes = 0;
    if (guardThread == null) {
      guardThread = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "model-stage2-guard");
        t.setDaemon(true);
        return t;
      });
      long ms = guardInterval.toMillis();
      guardThread.scheduleWithFixedDelay(() -> {
        try {
          checkStage2();
        } catch (RuntimeException e) {
          LOG.warn("stage-2 guard check failed: {}", e.toString());
        }
      }, ms, ms, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
  }

  /** Stops the guard thread (a node's shutdown; it is a daemon, so a JVM exit needs no call). */
  public synchronized void close() {
    if (guardThread != null) {
      guardThread.shutdownNow();
      guardThread = null;
    }
  }

  /** A compiled model in service, the scalar one it replaced, and how to time a model. */
  record Guard(CtrModel plain, CtrModel compiled, java.util.function.ToDoubleFunction<CtrModel> perRowNanos) {}

  /** Between two checks of the compiled stage 2 in service. */
  static final java.time.Duration GUARD_INTERVAL = java.time.Duration.ofSeconds(15);
  /** Checks in a row the compiled stage 2 must be slower than the scalar one to be swapped out. */
  static final int GUARD_STRIKES = 2;
  /**
   * A check times the best of 3 rounds of 40 batches of 64 rows on each path: ~10 ms of one core on
   * the scalar path (~0.8 us per row), every 15 s.
   */
  private static final int GUARD_ROUNDS = 3;
  private static final int GUARD_REPEAT = 40;

  /** The compiled path must take at most this share of the scalar path's time per row to be used. */
  static final double MAX_VECTOR_SHARE = 0.7;
  /** Measure-and-warm rounds before giving up on the compiled path. */
  static final int VERIFY_ROUNDS = 10;
  private static final int WARM_UP_BATCHES = 5_000;
  /**
   * The default build budget: the build took 15.6 s on a quiet 2-core machine; on one whose cores
   * were contended by two other nodes building theirs, its warm-up ran the Vector API's fallback for
   * over 400 s (30 s of CPU taken from serving) without finishing.
   */
  static final java.time.Duration DEFAULT_BUILD_BUDGET = java.time.Duration.ofMinutes(2);

  /** Times batch stage 2 on a fixed, deterministic batch of rows: the best of a few repetitions. */
  private static final class Timing {
    private static final int ROWS = 64;
    private static final int REPEAT = 200;
    private final double[][] rows;
    private final double[] logOdds = new double[ROWS];
    private final double[] out = new double[ROWS];

    Timing(CtrModel model) {
      java.util.SplittableRandom random = new java.util.SplittableRandom(7);
      rows = new double[ROWS][model.featureNames().size()];
      for (int i = 0; i < ROWS; i++) {
        for (int f = 0; f < rows[i].length; f++) {
          rows[i][f] = random.nextInt(4) == 0 ? random.nextInt(3) : random.nextGaussian() * 3;
        }
        logOdds[i] = model.stage1LogOdds(rows[i]);
      }
    }

    double perRowNanos(CtrModel model) {
      return perRowNanos(model, 5, REPEAT);
    }

    /** The best of {@code rounds} rounds of {@code repeat} batches, per row. */
    double perRowNanos(CtrModel model, int rounds, int repeat) {
      double[] scratch = new double[model.scratchSize()];
      long best = Long.MAX_VALUE;
      for (int k = 0; k < rounds; k++) {
        long t0 = System.nanoTime();
        for (int r = 0; r < repeat; r++) {
          model.stage2(rows, ROWS, logOdds, out, scratch);
        }
        best = Math.min(best, System.nanoTime() - t0);
      }
      return (double) best / ((long) repeat * ROWS);
    }
  }

  /** Loads a model file, or the bundled model when {@code path} is empty (stage 2 on the scalar path). */
  public static CtrModel load(String path) throws IOException {
    if (path == null || path.isBlank()) {
      try (InputStream in = ModelHolder.class.getResourceAsStream(BUNDLED)) {
        if (in == null) {
          throw new IOException("no bundled model at " + BUNDLED + " (run bin/train)");
        }
        return CtrModel.read(in);
      }
    }
    try (InputStream in = Files.newInputStream(Path.of(path))) {
      return CtrModel.read(in);
    }
  }
}
