package dev.adengine.engine.ranking;

import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.scoring.CtrModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The node's active pCTR model, swapped atomically: a request takes the model once and uses it
 * for both stages, so a deploy never mixes versions inside one request. Only models trained on
 * this extractor's feature schema are accepted.
 */
public final class ModelHolder {
  /** The model shipped in the engine jar, trained by {@code bin/train} on simulator logs. */
  public static final String BUNDLED = "/models/ctr-default.bin";

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

  /** Loads a model file, or the bundled model when {@code path} is empty. */
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
