package dev.adengine.engine.experiment;

import dev.adengine.experiments.ExperimentConfig;
import dev.adengine.persistence.ExperimentRepository;
import dev.adengine.persistence.ExperimentRepository.StoredConfig;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
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
 * The experiment splitter of one node: it owns the node's experiment config and publishes its
 * {@link dev.adengine.experiments.Assigner} to {@link ServingExperiments}, which the bid path reads
 * with one volatile read (it never asks this actor).
 *
 * <p>Where configs come from:
 *
 * <ul>
 *   <li>Cassandra ({@link ExperimentRepository}) is the source of truth: loaded at start and again
 *       every {@code resync} (heals anything the fast path lost, e.g. a node that was partitioned
 *       while a change was made).
 *   <li>Distributed Data is the fast path: an {@link LWWRegister} of {@link ConfigEntry} under
 *       {@link #KEY} whose timestamp is the config version, so the highest version wins every
 *       merge. The admin API saves a change in Cassandra first and then tells its node's splitter
 *       ({@link Publish}), which installs it at once and writes the register with {@code
 *       WriteAll} (short timeout; gossip delivers it later to a node the write missed). Every
 *       splitter subscribes to the key.
 * </ul>
 *
 * A config is installed only if its version is above the installed one, so a late or replayed
 * message never goes back in time.
 */
public final class ExperimentSplitter extends AbstractBehavior<ExperimentSplitter.Command> {

  public static final Key<LWWRegister<ConfigEntry>> KEY = LWWRegisterKey.create("experiment-config");

  /** The register's clock: the config version, so merges keep the highest version. */
  static final LWWRegister.Clock<ConfigEntry> VERSION_CLOCK = (current, value) -> value.version();

  /**
   * @param configName the name under which {@link ExperimentRepository} keeps the versions
   * @param writeTimeout how long a {@code WriteAll} of a new version waits for every replica
   * @param resync how often the latest version is re-read from Cassandra
   */
  public record Settings(String configName, Duration writeTimeout, Duration resync) {}

  public sealed interface Command {}

  /** A version the admin API has saved in Cassandra: install it and replicate it. */
  public record Publish(ExperimentConfig config, ActorRef<Long> replyTo) implements Command {}

  private record Loaded(Optional<StoredConfig> stored, Throwable failure) implements Command {}

  private record ConfigChanged(Replicator.SubscribeResponse<LWWRegister<ConfigEntry>> response) implements Command {}

  private record Written(Replicator.UpdateResponse<LWWRegister<ConfigEntry>> response, long version)
      implements Command {}

  private enum Resync implements Command { INSTANCE }

  public static Behavior<Command> create(Settings settings, ExperimentRepository repository,
      ServingExperiments serving) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        DistributedData.<Command, LWWRegister<ConfigEntry>>withReplicatorMessageAdapter(replicator ->
            new ExperimentSplitter(ctx, timers, replicator, settings, repository, serving))));
  }

  private final ReplicatorMessageAdapter<Command, LWWRegister<ConfigEntry>> replicator;
  private final Settings settings;
  private final ExperimentRepository repository;
  private final ServingExperiments serving;
  private final SelfUniqueAddress self;

  private ExperimentSplitter(ActorContext<Command> ctx, TimerScheduler<Command> timers,
      ReplicatorMessageAdapter<Command, LWWRegister<ConfigEntry>> replicator, Settings settings,
      ExperimentRepository repository, ServingExperiments serving) {
    super(ctx);
    this.replicator = replicator;
    this.settings = settings;
    this.repository = repository;
    this.serving = serving;
    this.self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    replicator.subscribe(KEY, ConfigChanged::new);
    load();
    timers.startTimerWithFixedDelay(Resync.INSTANCE, settings.resync());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Publish.class, this::onPublish)
        .onMessage(Loaded.class, this::onLoaded)
        .onMessage(ConfigChanged.class, this::onChanged)
        .onMessage(Written.class, this::onWritten)
        .onMessageEquals(Resync.INSTANCE, () -> {
          load();
          return this;
        })
        .build();
  }

  private void load() {
    getContext().pipeToSelf(repository.latest(settings.configName()), Loaded::new);
  }

  private Behavior<Command> onPublish(Publish p) {
    install(p.config(), "admin change");
    replicate(p.config());
    p.replyTo().tell(serving.version());
    return this;
  }

  private Behavior<Command> onLoaded(Loaded l) {
    if (l.failure() != null) {
      getContext().getLog().warn("experiment config not loaded from Cassandra (next try in {}): {}",
          settings.resync(), l.failure().toString());
      return this;
    }
    if (l.stored().isPresent()) {
      StoredConfig stored = l.stored().get();
      ExperimentConfig config = ConfigEntry.decodeOrNull(stored.payload(), getContext());
      if (config != null && install(config, "Cassandra")) {
        replicate(config); // a version the register may not have yet (e.g. saved while DData lost it)
      }
    }
    return this;
  }

  private Behavior<Command> onChanged(ConfigChanged c) {
    if (c.response() instanceof Replicator.Changed<LWWRegister<ConfigEntry>> changed) {
      ConfigEntry entry = changed.get(KEY).value();
      if (entry.version() > serving.version()) {
        ExperimentConfig config = ConfigEntry.decodeOrNull(entry.payload(), getContext());
        if (config != null) {
          install(config, "distributed data");
        }
      }
    }
    return this;
  }

  private Behavior<Command> onWritten(Written w) {
    if (!(w.response() instanceof Replicator.UpdateSuccess)) {
      // Not every replica confirmed in time; the local replica has it and gossip spreads it.
      getContext().getLog().info("experiment config v{} not confirmed by every node within {} ({}); gossip"
          + " will deliver it", w.version(), settings.writeTimeout(), w.response().getClass().getSimpleName());
    }
    return this;
  }

  private boolean install(ExperimentConfig config, String source) {
    boolean installed = serving.install(config);
    if (installed) {
      getContext().getLog().info("experiment config v{} installed (from {})", config.version(), source);
    }
    return installed;
  }

  private void replicate(ExperimentConfig config) {
    ConfigEntry entry = ConfigEntry.of(config);
    replicator.askUpdate(
        replyTo -> new Replicator.Update<>(KEY, LWWRegister.create(self, ConfigEntry.of(ExperimentConfig.EMPTY),
            VERSION_CLOCK), new Replicator.WriteAll(settings.writeTimeout()), replyTo,
            reg -> reg.value().version() >= entry.version() ? reg : reg.withValue(self, entry, VERSION_CLOCK)),
        response -> new Written(response, entry.version()));
  }
}
