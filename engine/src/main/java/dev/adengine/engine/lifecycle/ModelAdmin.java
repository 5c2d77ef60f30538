package dev.adengine.engine.lifecycle;

import dev.adengine.engine.features.FeatureStore;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.persistence.ModelRegistryRepository.Activation;
import dev.adengine.persistence.PipelineRepository;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The admin operations of the ML lifecycle, as the gRPC admin service and {@code adsctl model}
 * use them. A deploy, shadow or rollback is written to the registry's activation log first (the
 * truth every node converges on) and then handed to this node's {@link ModelDeployer}, which
 * replicates it to every node at once. Nothing here blocks: every call answers a stage.
 */
public final class ModelAdmin {

  /** This node's models and their health, for {@code adsctl model status}. */
  public record NodeStatus(String nodeId, String activeVersion, String shadowVersion, Set<String> armVersions,
      DriftMonitor.Status drift, long unmonitoredRows, FeatureLogWriter.Stats featureLog,
      FeatureStore.Freshness freshness, long freshnessSloMillis) {}

  private final ActorSystem<?> system;
  private final ModelRegistry registry;
  private final PipelineRepository runs;
  private final ActorRef<ModelDeployer.Command> deployer;
  private final ActorRef<RetrainPipeline.Command> pipeline;
  private final ModelHolder models;
  private final DriftMonitor drift;
  private final FeatureLogWriter featureLog;
  private final FeatureStore features;
  private final Duration freshnessSlo;
  private final String nodeId;
  private final Duration askTimeout;
  private final Clock clock;

  public ModelAdmin(ActorSystem<?> system, ModelRegistry registry, PipelineRepository runs,
      ActorRef<ModelDeployer.Command> deployer, ActorRef<RetrainPipeline.Command> pipeline, ModelHolder models,
      DriftMonitor drift, FeatureLogWriter featureLog, FeatureStore features, Duration freshnessSlo, String nodeId,
      Duration askTimeout, Clock clock) {
    this.system = system;
    this.registry = registry;
    this.runs = runs;
    this.deployer = deployer;
    this.pipeline = pipeline;
    this.models = models;
    this.drift = drift;
    this.featureLog = featureLog;
    this.features = features;
    this.freshnessSlo = freshnessSlo;
    this.nodeId = nodeId;
    this.askTimeout = askTimeout;
    this.clock = clock;
  }

  public ModelRegistry registry() {
    return registry;
  }

  public PipelineRepository runs() {
    return runs;
  }

  /** Makes {@code version} the cluster's active model. */
  public CompletionStage<Activation> deploy(String actor, String version, String reason) {
    return registry.activate(ModelDeployer.ACTIVE_SCOPE, version, ModelRegistry.ACTIVATE, actor, reason)
        .thenCompose(this::publish);
  }

  /** Makes {@code version} the cluster's shadow model, or clears it when {@code version} is empty. */
  public CompletionStage<Activation> shadow(String actor, String version, String reason) {
    boolean clear = version == null || version.isEmpty();
    return registry.activate(ModelDeployer.SHADOW_SCOPE, clear ? "" : version,
        clear ? ModelRegistry.SHADOW_OFF : ModelRegistry.SHADOW, actor, reason).thenCompose(this::publish);
  }

  /** Activates the version the latest activation replaced. */
  public CompletionStage<Activation> rollback(String actor, String reason) {
    return registry.rollback(ModelDeployer.ACTIVE_SCOPE, ModelRegistry.ROLLBACK, actor, reason, null)
        .thenCompose(a -> publish(a.orElseThrow()));
  }

  /** Starts a retraining run on the cluster's pipeline singleton; answers its id. */
  public CompletionStage<String> train(RetrainPipeline.Request request) {
    return AskPattern.<RetrainPipeline.Command, org.apache.pekko.pattern.StatusReply<String>>ask(pipeline,
            replyTo -> new RetrainPipeline.RunNow(request, replyTo), askTimeout, system.scheduler())
        .thenApply(reply -> {
          if (reply.isError()) {
            throw new PipelineBusyException(reply.getError().getMessage());
          }
          return reply.getValue();
        });
  }

  public NodeStatus status() {
    CtrModel shadow = models.shadow();
    long now = clock.millis();
    return new NodeStatus(nodeId, models.current().version(), shadow == null ? "" : shadow.version(),
        models.armVersions(), drift.status(models.current().version(), now), drift.unmonitored(), featureLog.stats(),
        features.freshness(now, freshnessSlo.toMillis()), freshnessSlo.toMillis());
  }

  private CompletionStage<Activation> publish(Activation a) {
    return AskPattern.<ModelDeployer.Command, ModelDeployer.Done>ask(deployer,
        replyTo -> new ModelDeployer.Publish(a, replyTo), askTimeout, system.scheduler()).thenApply(done -> a);
  }

  /** A run was asked for while another is in progress. */
  public static final class PipelineBusyException extends RuntimeException {
    public PipelineBusyException(String message) {
      super(message);
    }
  }
}
