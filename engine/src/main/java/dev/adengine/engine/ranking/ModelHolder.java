package dev.adengine.engine.ranking;

import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.scoring.CtrModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
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
   * Loads a model file, or the bundled model when {@code path} is empty, with its batch stage 2
   * compiled and warmed up ({@link CtrModel#withCompiledStage2()}: a few seconds, here rather than
   * on a request); a model whose trees cannot be compiled serves through the scalar path. Logs
   * which path stage 2 takes.
   */
  public static CtrModel load(String path) throws IOException {
    CtrModel model;
    if (path == null || path.isBlank()) {
      try (InputStream in = ModelHolder.class.getResourceAsStream(BUNDLED)) {
        if (in == null) {
          throw new IOException("no bundled model at " + BUNDLED + " (run bin/train)");
        }
        model = CtrModel.read(in);
      }
    } else {
      try (InputStream in = Files.newInputStream(Path.of(path))) {
        model = CtrModel.read(in);
      }
    }
    long started = System.nanoTime();
    CtrModel compiled = model.withCompiledStage2();
    LOG.info("model {}: stage 2 batches {} (built in {} ms)", compiled.version(), compiled.stage2Path(),
        (System.nanoTime() - started) / 1_000_000);
    return compiled;
  }
}
