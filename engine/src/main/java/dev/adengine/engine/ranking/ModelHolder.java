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

  public ModelHolder(CtrModel initial) {
    initial.requireSchema(FeatureExtractor.SCHEMA_HASH);
    this.current = new AtomicReference<>(initial);
  }

  public CtrModel current() {
    return current.get();
  }

  /** Makes {@code model} the active one; returns the one it replaced. */
  public CtrModel swap(CtrModel model) {
    model.requireSchema(FeatureExtractor.SCHEMA_HASH);
    return current.getAndSet(Objects.requireNonNull(model));
  }

  /**
   * Compiles the active model's batch stage 2 ({@link CtrModel#withCompiledStage2()}: generated
   * vector code, compiled and warmed up, a few seconds of one core) on a thread of its own, and
   * swaps the compiled model in when it is ready, unless another model was deployed meanwhile.
   * The compiled model is the same version and gives the same scores bit for bit; until it is in,
   * requests use the scalar path. A node calls this once it has loaded its model, so that starting
   * does not wait for the compiler; a model whose trees cannot be compiled keeps the scalar path.
   *
   * @return completes with the model swapped in (or left in place), never exceptionally
   */
  public CompletableFuture<CtrModel> compileInBackground() {
    CtrModel plain = current.get();
    CompletableFuture<CtrModel> done = new CompletableFuture<>();
    Thread compiler = new Thread(() -> {
      long started = System.nanoTime();
      try {
        CtrModel compiled = plain.withCompiledStage2();
        boolean swapped = current.compareAndSet(plain, compiled);
        LOG.info("model {}: stage 2 batches {} (built in {} ms){}", compiled.version(), compiled.stage2Path(),
            (System.nanoTime() - started) / 1_000_000, swapped ? "" : "; not swapped in: another model was deployed");
        done.complete(swapped ? compiled : current.get());
      } catch (RuntimeException | LinkageError e) {
        LOG.warn("model {}: stage 2 stays on the scalar path: compiling failed: {}", plain.version(), e.toString());
        done.complete(plain);
      }
    }, "model-compiler");
    compiler.setDaemon(true);
    compiler.start();
    return done;
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
