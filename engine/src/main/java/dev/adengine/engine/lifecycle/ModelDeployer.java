package dev.adengine.engine.lifecycle;

import dev.adengine.engine.Failures;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.adengine.engine.CborSerializable;
import dev.adengine.engine.experiment.ServingExperiments;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.experiments.ArmDef;
import dev.adengine.experiments.ExperimentDef;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.persistence.ModelRegistryRepository.Activation;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWRegister;
import org.apache.pekko.cluster.ddata.LWWRegisterKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * Keeps this node's models in line with the registry's activations: the active model, the shadow
 * model, and every model version an experiment arm names (live or shadow).
 *
 * <p>Same two paths as the experiment splitter: Cassandra's {@code model_activations} is the truth
 * (read at start and every {@code resync}); Distributed Data carries a new activation to every node
 * at once: one {@link LWWRegister} per scope ({@link #ACTIVE}, {@link #SHADOW}) holding an {@link
 * Entry} whose clock is the activation's sequence number, so the newest activation wins every merge
 * and a replayed one never goes back in time.
 *
 * <p>Loading never touches the bid path: the model's bytes are read from the registry and decoded
 * on the registry's own executor ({@link ModelRegistry#load}), then swapped into the {@link
 * ModelHolder} with one atomic reference write. Requests already running finish on the model they
 * took; the next ones take the new one. Nothing fails while a model loads: until it is in, the
 * previous one serves.
 */
public final class ModelDeployer extends AbstractBehavior<ModelDeployer.Command> {

  public static final String ACTIVE_SCOPE = dev.adengine.persistence.ModelRegistryRepository.DEFAULT_SCOPE;
  public static final String SHADOW_SCOPE = "shadow";
  public static final Key<LWWRegister<Entry>> ACTIVE = LWWRegisterKey.create("model-active");
  public static final Key<LWWRegister<Entry>> SHADOW = LWWRegisterKey.create("model-shadow");

  static final LWWRegister.Clock<Entry> SEQ_CLOCK = (current, value) -> value.seq();

  /** One activation as replicated: its sequence number in its scope and the version ("" = none). */
  public record Entry(long seq, String version) implements CborSerializable {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public Entry(@JsonProperty("seq") long seq, @JsonProperty("version") String version) {
      this.seq = seq;
      this.version = version;
    }
  }

  /**
   * @param writeTimeout how long a {@code WriteAll} of a new activation waits for every replica
   * @param resync how often activations are re-read from Cassandra and arm models checked
   */
  public record Settings(Duration writeTimeout, Duration resync) {}

  public sealed interface Command {}

  /** An activation the admin API has written to Cassandra: install it here and replicate it. */
  public record Publish(Activation activation, ActorRef<Done> replyTo) implements Command {}

  public enum Done { INSTANCE }

  private record Stored(String scope, Optional<Activation> activation, Throwable failure) implements Command {}

  private record Changed(Replicator.SubscribeResponse<LWWRegister<Entry>> response) implements Command {}

  private record Loaded(String scope, long seq, ModelRegistry.LoadedModel model, Throwable failure)
      implements Command {}

  private record ArmLoaded(String version, ModelRegistry.LoadedModel model, Throwable failure) implements Command {}

  private record Written(Replicator.UpdateResponse<LWWRegister<Entry>> response) implements Command {}

  private enum Resync implements Command { INSTANCE }

  public static Behavior<Command> create(Settings settings, ModelRegistry registry, ModelHolder models,
      DriftMonitor drift, ServingExperiments experiments, long installedActiveSeq) {
    // Restarted on a failure: it re-reads the activations from Cassandra at start, so nothing is lost.
    return Behaviors.supervise(Behaviors.<Command>setup(ctx -> Behaviors.withTimers(timers ->
        DistributedData.<Command, LWWRegister<Entry>>withReplicatorMessageAdapter(replicator ->
            new ModelDeployer(ctx, timers, replicator, settings, registry, models, drift, experiments,
                installedActiveSeq))))).onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200),
        Duration.ofSeconds(10), 0.2));
  }

  private final ReplicatorMessageAdapter<Command, LWWRegister<Entry>> replicator;
  private final Settings settings;
  private final ModelRegistry registry;
  private final ModelHolder models;
  private final DriftMonitor drift;
  private final ServingExperiments experiments;
  private final SelfUniqueAddress self;
  /** The newest activation seen per scope (installed or loading) and the one installed. */
  private long activeSeen;
  private long activeInstalled;
  private long shadowSeen;
  private long shadowInstalled;
  private final Set<String> armLoading = new HashSet<>();

  private ModelDeployer(ActorContext<Command> ctx, TimerScheduler<Command> timers,
      ReplicatorMessageAdapter<Command, LWWRegister<Entry>> replicator, Settings settings, ModelRegistry registry,
      ModelHolder models, DriftMonitor drift, ServingExperiments experiments, long installedActiveSeq) {
    super(ctx);
    this.replicator = replicator;
    this.settings = settings;
    this.registry = registry;
    this.models = models;
    this.drift = drift;
    this.experiments = experiments;
    this.activeSeen = installedActiveSeq;
    this.activeInstalled = installedActiveSeq;
    this.self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    replicator.subscribe(ACTIVE, Changed::new);
    replicator.subscribe(SHADOW, Changed::new);
    readStored();
    timers.startTimerWithFixedDelay(Resync.INSTANCE, settings.resync());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Publish.class, this::onPublish)
        .onMessage(Stored.class, this::onStored)
        .onMessage(Changed.class, this::onChanged)
        .onMessage(Loaded.class, this::onLoaded)
        .onMessage(ArmLoaded.class, this::onArmLoaded)
        .onMessage(Written.class, w -> {
          if (!(w.response() instanceof Replicator.UpdateSuccess)) {
            getContext().getLog().info("model activation not confirmed by every node within {} ({}); gossip"
                + " delivers it", settings.writeTimeout(), w.response().getClass().getSimpleName());
          }
          return this;
        })
        .onMessageEquals(Resync.INSTANCE, () -> {
          readStored();
          loadArmModels();
          return this;
        })
        .build();
  }

  private void readStored() {
    for (String scope : new String[] {ACTIVE_SCOPE, SHADOW_SCOPE}) {
      CompletionStage<Optional<Activation>> read = registry.active(scope);
      getContext().pipeToSelf(read, (a, err) -> new Stored(scope, a, err));
    }
  }

  private Behavior<Command> onPublish(Publish p) {
    Activation a = p.activation();
    consider(a.scope(), a.seq(), a.version(), "admin");
    replicate(a.scope(), new Entry(a.seq(), a.version()));
    p.replyTo().tell(Done.INSTANCE);
    return this;
  }

  private Behavior<Command> onStored(Stored s) {
    if (s.failure() != null) {
      getContext().getLog().warn("model activations of {} not read from Cassandra (next try in {}): {}", s.scope(),
          settings.resync(), s.failure().toString());
      return this;
    }
    s.activation().ifPresent(a -> {
      if (consider(a.scope(), a.seq(), a.version(), "Cassandra")) {
        replicate(a.scope(), new Entry(a.seq(), a.version()));
      }
    });
    return this;
  }

  private Behavior<Command> onChanged(Changed c) {
    if (c.response() instanceof Replicator.Changed<LWWRegister<Entry>> changed) {
      // The adapter keeps one function per response class, so the scope comes from the key itself.
      Key<LWWRegister<Entry>> key = changed.key();
      Entry e = changed.get(key).value();
      consider(ACTIVE.equals(key) ? ACTIVE_SCOPE : SHADOW_SCOPE, e.seq(), e.version(), "distributed data");
    }
    return this;
  }

  /** Starts loading the activation if it is newer than what this node has; returns whether it was. */
  private boolean consider(String scope, long seq, String version, String source) {
    boolean active = ACTIVE_SCOPE.equals(scope);
    if (seq <= (active ? activeSeen : shadowSeen)) {
      return false;
    }
    if (active) {
      activeSeen = seq;
    } else {
      shadowSeen = seq;
    }
    if (!active && (version == null || version.isEmpty() || "-".equals(version))) {
      models.setShadow(null);
      shadowInstalled = seq;
      getContext().getLog().info("shadow model cleared (activation {} from {})", seq, source);
      return true;
    }
    CtrModel current = active ? models.current() : models.shadow();
    if (current != null && current.version().equals(version)) {
      if (active) {
        activeInstalled = seq;
      } else {
        shadowInstalled = seq;
      }
      return true;
    }
    getContext().getLog().info("loading model {} for scope {} (activation {} from {})", version, scope, seq, source);
    getContext().pipeToSelf(registry.load(version), (m, err) -> new Loaded(scope, seq, m, err));
    return true;
  }

  private Behavior<Command> onLoaded(Loaded l) {
    boolean active = ACTIVE_SCOPE.equals(l.scope());
    if (l.failure() != null) {
      getContext().getLog().error("model for scope {} (activation {}) not loaded, keeping the current one: {}",
          l.scope(), l.seq(), String.valueOf(Failures.root(l.failure())));
      // forget it so that the next resync tries again
      if (active && activeSeen == l.seq()) {
        activeSeen = activeInstalled;
      } else if (!active && shadowSeen == l.seq()) {
        shadowSeen = shadowInstalled;
      }
      return this;
    }
    if (l.seq() < (active ? activeSeen : shadowSeen)) {
      return this; // a newer activation arrived while this one loaded
    }
    ModelRegistry.LoadedModel m = l.model();
    if (m.reference() != null) {
      drift.reference(m.model().version(), m.reference());
    }
    if (active) {
      CtrModel old = models.swap(m.model());
      activeInstalled = l.seq();
      getContext().getLog().info("model {} now serves (activation {}; was {})", m.model().version(), l.seq(),
          old.version());
    } else {
      models.setShadow(m.model());
      shadowInstalled = l.seq();
      getContext().getLog().info("model {} now scores in shadow (activation {})", m.model().version(), l.seq());
    }
    return this;
  }

  /** Loads every model version a running experiment arm names (live or shadow) that is not loaded. */
  private void loadArmModels() {
    for (ExperimentDef e : experiments.assigner().config().experiments()) {
      for (ArmDef arm : e.arms()) {
        loadArm(arm.params().modelVersion());
        loadArm(arm.params().shadowModelVersion());
      }
    }
  }

  private void loadArm(String version) {
    if (version == null || version.isEmpty() || models.forVersion(version) != null || armLoading.contains(version)
) {
      return;
    }
    armLoading.add(version);
    getContext().pipeToSelf(registry.load(version), (m, err) -> new ArmLoaded(version, m, err));
  }

  private Behavior<Command> onArmLoaded(ArmLoaded l) {
    armLoading.remove(l.version());
    if (l.failure() != null) {
      getContext().getLog().warn("model {} named by an experiment arm not loaded (the arm serves the active"
          + " model; next try in {}): {}", l.version(), settings.resync(), String.valueOf(Failures.root(l.failure())));
      return this;
    }
    if (l.model().reference() != null) {
      drift.reference(l.version(), l.model().reference());
    }
    models.addArmModel(l.model().model());
    getContext().getLog().info("model {} loaded for experiment arms", l.version());
    return this;
  }

  private void replicate(String scope, Entry entry) {
    Key<LWWRegister<Entry>> key = ACTIVE_SCOPE.equals(scope) ? ACTIVE : SHADOW;
    replicator.askUpdate(
        replyTo -> new Replicator.Update<>(key, LWWRegister.create(self, new Entry(0, ""), SEQ_CLOCK),
            new Replicator.WriteAll(settings.writeTimeout()), replyTo,
            reg -> reg.value().seq() >= entry.seq() ? reg : reg.withValue(self, entry, SEQ_CLOCK)),
        Written::new);
  }
}
