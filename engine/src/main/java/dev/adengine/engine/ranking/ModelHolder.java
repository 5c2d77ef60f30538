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
  private final AtomicReference<CtrModel> shadow = new AtomicReference<>();
  /** Further versions loaded for experiment arms ({@code adengine.ranking.arm-models}), by version. */
  private final java.util.concurrent.ConcurrentHashMap<String, CtrModel> armModels =
      new java.util.concurrent.ConcurrentHashMap<>();

  public ModelHolder(CtrModel initial) {
    initial.requireSchema(FeatureExtractor.SCHEMA_HASH);
    this.current = new AtomicReference<>(initial);
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
      try {
        CtrModel compiled = plain.withCompiledStage2();
        if (!compiled.stage2Vectorized()) {
          LOG.info("model {}: stage 2 batches {}", compiled.version(), compiled.stage2Path());
          done.complete(current.get());
          return;
        }
        Timing timing = new Timing(plain);
        double scalar = timing.perRowNanos(plain);
        double vector = timing.perRowNanos(compiled);
        for (int round = 1; round < VERIFY_ROUNDS && vector > MAX_VECTOR_SHARE * scalar; round++) {
          compiled.warmUpStage2(WARM_UP_BATCHES);
          scalar = Math.min(scalar, timing.perRowNanos(plain));
          vector = timing.perRowNanos(compiled);
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        if (vector > MAX_VECTOR_SHARE * scalar) {
          LOG.warn("model {}: stage 2 stays on the scalar path: the compiled vector code took {} ns per row"
              + " against {} ns scalar after {} ms of warm-up (not compiled well by this JVM yet)",
              plain.version(), Math.round(vector), Math.round(scalar), ms);
          done.complete(current.get());
          return;
        }
        boolean swapped = current.compareAndSet(plain, compiled);
        LOG.info("model {}: stage 2 batches {}: {} ns per row against {} ns scalar (built in {} ms){}",
            compiled.version(), compiled.stage2Path(), Math.round(vector), Math.round(scalar), ms,
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

  /** The compiled path must take at most this share of the scalar path's time per row to be used. */
  static final double MAX_VECTOR_SHARE = 0.7;
  /** Measure-and-warm rounds before giving up on the compiled path. */
  static final int VERIFY_ROUNDS = 10;
  private static final int WARM_UP_BATCHES = 5_000;

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
      double[] scratch = new double[model.scratchSize()];
      long best = Long.MAX_VALUE;
      for (int k = 0; k < 5; k++) {
        long t0 = System.nanoTime();
        for (int r = 0; r < REPEAT; r++) {
          model.stage2(rows, ROWS, logOdds, out, scratch);
        }
        best = Math.min(best, System.nanoTime() - t0);
      }
      return (double) best / (REPEAT * ROWS);
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
