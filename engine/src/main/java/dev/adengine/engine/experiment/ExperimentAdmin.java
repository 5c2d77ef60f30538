package dev.adengine.engine.experiment;

import dev.adengine.experiments.ExperimentConfig;
import dev.adengine.experiments.ExperimentDef;
import dev.adengine.experiments.stats.ArmStats;
import dev.adengine.experiments.stats.ExperimentReport;
import dev.adengine.persistence.ExperimentRepository;
import dev.adengine.persistence.ExperimentRepository.Change;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * Admin changes to the experiment config, following {@link ExperimentRepository}'s protocol: load
 * the latest version, apply the change, save it at the new version, and on a conflict (another
 * admin saved that version first) start over from the newer one, up to {@link #MAX_ATTEMPTS}
 * times. A saved version is then handed to this node's {@link ExperimentSplitter}, which installs
 * it and replicates it to every node. All non-blocking.
 *
 * <p>A change that breaks a config rule fails with {@link InvalidConfigException} (its field
 * named) and saves nothing.
 */
public final class ExperimentAdmin {

  static final int MAX_ATTEMPTS = 5;

  /** The save lost to concurrent changes {@link #MAX_ATTEMPTS} times in a row. */
  public static final class ConflictException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ConflictException(String message) {
      super(message);
    }
  }

  /** The experiment named does not exist in the latest config. */
  public static final class UnknownExperimentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UnknownExperimentException(String id) {
      super("experiment_id: no experiment '" + id + "'");
    }
  }

  /** The experiment {@code id} of {@code config}, or {@link UnknownExperimentException}. */
  public static ExperimentDef require(ExperimentConfig config, String id) {
    return config.experiment(id).orElseThrow(() -> new UnknownExperimentException(id));
  }

  /** A change to apply to the latest config and the audit record it saves with. */
  public record Edit(Function<ExperimentConfig, ExperimentConfig> apply, Function<ExperimentConfig, Change> audit) {}

  private final ActorSystem<?> system;
  private final ExperimentRepository repository;
  private final String configName;
  private final ActorRef<ExperimentSplitter.Command> splitter;
  private final Duration timeout;
  private final Clock clock;

  public ExperimentAdmin(ActorSystem<?> system, ExperimentRepository repository, String configName,
      ActorRef<ExperimentSplitter.Command> splitter, Duration timeout, Clock clock) {
    this.system = system;
    this.repository = repository;
    this.configName = configName;
    this.splitter = splitter;
    this.timeout = timeout;
    this.clock = clock;
  }

  /** The latest saved config (version 0, empty, when none was saved). */
  public CompletionStage<ExperimentConfig> latest() {
    return repository.latest(configName)
        .thenApply(stored -> stored.map(s -> ConfigEntry.decodeStrict(s.payload())).orElse(ExperimentConfig.EMPTY));
  }

  /** Applies {@code edit} to the latest config, saves and publishes it; completes with the saved version. */
  public CompletionStage<ExperimentConfig> change(Edit edit) {
    return attempt(edit, 1);
  }

  private CompletionStage<ExperimentConfig> attempt(Edit edit, int n) {
    return latest().thenCompose(current -> {
      ExperimentConfig next = edit.apply().apply(current); // throws InvalidConfigException
      Change change = edit.audit().apply(current);
      return repository.save(configName, next.version(), ConfigEntry.of(next).payload(), change, clock.instant())
          .thenCompose(result -> {
            if (result.saved()) {
              return publish(next).thenApply(v -> next);
            }
            if (n >= MAX_ATTEMPTS) {
              return CompletableFuture.failedFuture(new ConflictException("experiment config changed concurrently "
                  + n + " times in a row (latest v" + result.latestVersion() + "); try again"));
            }
            return attempt(edit, n + 1);
          });
    });
  }

  private CompletionStage<Long> publish(ExperimentConfig config) {
    return AskPattern.<ExperimentSplitter.Command, Long>ask(splitter,
        replyTo -> new ExperimentSplitter.Publish(config, replyTo), timeout, system.scheduler());
  }

  /**
   * The report of experiment {@code id} from the cluster-wide stats (every node's latest published
   * entry, as this node's replica has them).
   */
  public CompletionStage<ExperimentReport> report(String id, double confidence) {
    return latest().thenCompose(config -> {
      ExperimentDef def = require(config, id);
      return clusterStats(id).thenApply(stats -> ExperimentReport.of(def, stats, confidence,
          ExperimentReport.DEFAULT_SRM_THRESHOLD));
    });
  }

  /** Cluster-wide stats per arm of experiment {@code id}: the sum of every node's entry. */
  public CompletionStage<Map<String, ArmStats>> clusterStats(String id) {
    CompletionStage<Replicator.GetResponse<LWWMap<String, NodeArmStats>>> get = AskPattern.ask(
        DistributedData.get(system).replicator(),
        replyTo -> new Replicator.Get<>(ArmStatsPublisher.KEY, Replicator.readLocal(), replyTo), timeout,
        system.scheduler());
    return get.thenApply(response -> {
      if (response instanceof Replicator.GetSuccess<LWWMap<String, NodeArmStats>> ok) {
        return ArmStatsPublisher.sum(ok.get(ArmStatsPublisher.KEY), id);
      }
      return Map.of(); // NotFound: no node has published stats yet
    });
  }
}
