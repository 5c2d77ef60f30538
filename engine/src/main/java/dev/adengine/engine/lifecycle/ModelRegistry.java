package dev.adengine.engine.lifecycle;

import dev.adengine.engine.grpc.InvalidArgument;
import dev.adengine.models.drift.ReferenceDistribution;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.persistence.ModelRegistryRepository;
import dev.adengine.persistence.ModelRegistryRepository.Activation;
import dev.adengine.persistence.ModelRegistryRepository.ModelVersion;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The engine's side of the model registry ({@link ModelRegistryRepository}): model versions are
 * immutable rows with their lineage, activations an append-only log per scope. This class turns
 * models into bytes and back (decoding on its own executor, never on an actor's or a request's
 * thread) and checks an activation before it is written: the version exists and was trained on this
 * engine's feature schema.
 */
public final class ModelRegistry {

  /** A model read from the registry: the model, its reference distributions (may be null), its row. */
  public record LoadedModel(CtrModel model, ReferenceDistribution reference, ModelVersion meta) {}

  public static final String ACTIVATE = ModelRegistryRepository.ACTIVATE;
  public static final String ROLLBACK = ModelRegistryRepository.ROLLBACK;
  public static final String AUTO_ROLLBACK = ModelRegistryRepository.AUTO_ROLLBACK;
  public static final String SHADOW = ModelRegistryRepository.SHADOW;
  public static final String SHADOW_OFF = ModelRegistryRepository.SHADOW_OFF;

  private final ModelRegistryRepository repository;
  private final Executor decoder;
  private final Clock clock;

  public ModelRegistry(ModelRegistryRepository repository, Executor decoder, Clock clock) {
    this.repository = repository;
    this.decoder = decoder;
    this.clock = clock;
  }

  public static byte[] bytes(CtrModel model) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
    try {
      model.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Registers a version (immutable: false when it already exists, and nothing is changed). */
  public CompletionStage<Boolean> register(ModelVersion version) {
    return repository.register(version);
  }

  /** Reads and decodes a version; fails with {@link NoSuchElementException} when there is none. */
  public CompletionStage<LoadedModel> load(String version) {
    return repository.find(version).thenApplyAsync(found -> {
      ModelVersion v = found.orElseThrow(() -> new NoSuchElementException("no model version " + version
          + " in the registry"));
      try {
        CtrModel model = CtrModel.read(new ByteArrayInputStream(v.model()));
        model.requireSchema(FeatureExtractor.SCHEMA_HASH);
        ReferenceDistribution ref = v.reference() == null ? null : ReferenceDistribution.fromBytes(v.reference());
        return new LoadedModel(model, ref, v);
      } catch (IOException e) {
        throw new UncheckedIOException("model version " + version + " is not readable", e);
      }
    }, decoder);
  }

  public CompletionStage<Optional<ModelVersion>> find(String version) {
    return repository.find(version);
  }

  /** Every version, without its bytes, newest first. */
  public CompletionStage<List<ModelVersion>> list() {
    return repository.list();
  }

  public CompletionStage<Optional<Activation>> active(String scope) {
    return repository.active(scope);
  }

  public CompletionStage<List<Activation>> history(String scope, int limit) {
    return repository.history(scope, limit);
  }

  /**
   * Activates {@code version} in {@code scope} after checking it exists and fits this engine's
   * feature schema ({@code version} empty with {@link #SHADOW_OFF}: clears the shadow).
   */
  public CompletionStage<Activation> activate(String scope, String version, String action, String actor,
      String reason) {
    if (version == null || version.isEmpty()) {
      if (!SHADOW_OFF.equals(action)) {
        return CompletableFuture.failedFuture(new InvalidArgument("version", "is required"));
      }
      return repository.activate(scope, "-", action, actor, reason, clock.instant());
    }
    return repository.find(version).thenCompose(found -> {
      if (found.isEmpty()) {
        throw new NoSuchElementException("no model version " + version + " in the registry");
      }
      if (!FeatureExtractor.SCHEMA_HASH.equals(found.get().schemaHash())) {
        throw new InvalidArgument("version", "model version " + version + " has feature schema "
            + found.get().schemaHash() + ", this engine serves " + FeatureExtractor.SCHEMA_HASH);
      }
      return repository.activate(scope, version, action, actor, reason, clock.instant());
    });
  }

  /**
   * Makes a new cluster's registry start from {@code model} (the configured model of the first node
   * to start): registers it, unless that version exists, with the lineage it carries (its metadata:
   * how it was trained), and activates it unless something was activated meanwhile. Two nodes
   * starting at once may both activate it: the same version twice in the log, harmless.
   */
  public CompletionStage<Activation> bootstrap(CtrModel model, String gitCommit) {
    java.util.Map<String, String> meta = model.metadata();
    long rows = parseLong(meta.get("training.rows"));
    ModelVersion v = new ModelVersion(model.version(), clock.instant(), "bootstrap", null, null,
        meta.getOrDefault("commit", gitCommit), model.schemaHash(), 0, 0, 0, 0, rows, 0, 0, 0,
        java.util.Map.of("options", meta.getOrDefault("options", ""), "source", meta.getOrDefault("source",
            "configured model file")), java.util.Map.of(), null, bytes(model));
    return repository.register(v)
        .thenCompose(written -> repository.active(ModelRegistryRepository.DEFAULT_SCOPE))
        .thenCompose(active -> active.isPresent()
            ? CompletableFuture.completedFuture(active.get())
            : repository.activate(ModelRegistryRepository.DEFAULT_SCOPE, model.version(), ACTIVATE, "bootstrap",
                "first node of a new cluster: its configured model", clock.instant()));
  }

  private static long parseLong(String s) {
    try {
      return s == null ? 0 : Long.parseLong(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * Activates the version the latest activation of {@code scope} replaced. With {@code
   * onlyIfActive} set, does nothing (empty) unless that version is still the active one: an
   * automatic rollback must not undo a deploy made after the breach it reacts to.
   */
  public CompletionStage<Optional<Activation>> rollback(String scope, String action, String actor, String reason,
      String onlyIfActive) {
    return repository.active(scope).thenCompose(latest -> {
      if (latest.isEmpty()) {
        throw new NoSuchElementException("nothing was ever activated in scope " + scope);
      }
      Activation a = latest.get();
      if (onlyIfActive != null && !onlyIfActive.equals(a.version())) {
        return CompletableFuture.completedFuture(Optional.<Activation>empty());
      }
      String previous = a.previousVersion();
      if (previous == null || previous.isEmpty() || "-".equals(previous)) {
        throw new NoSuchElementException("no previous version to roll back to in scope " + scope + " (active "
            + a.version() + " is the first activation)");
      }
      return activate(scope, previous, action, actor, reason).thenApply(Optional::of);
    });
  }
}
