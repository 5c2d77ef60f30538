package dev.adengine.engine.experiment;

import dev.adengine.experiments.Assigner;
import dev.adengine.experiments.ExperimentConfig;
import dev.adengine.experiments.stats.ArmStats;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the bid path reads about experiments, all in local memory: the {@link Assigner} of the
 * newest config this node knows (one volatile read; {@link ExperimentSplitter} swaps it), and one
 * {@link ArmStats.Recorder} per (experiment, arm) that the bid path and event ingest add to.
 * Thread-safe; the bid path never waits on anything here.
 */
public final class ServingExperiments {

  private volatile Assigner assigner = Assigner.of(ExperimentConfig.EMPTY);
  private final ConcurrentHashMap<ArmKey, ArmStats.Recorder> recorders = new ConcurrentHashMap<>();
  private final AtomicLong modelFallbacks = new AtomicLong();
  private final int userSampleCapacity;

  /** @param userSampleCapacity distinct users each arm's recorder samples */
  public ServingExperiments(int userSampleCapacity) {
    this.userSampleCapacity = userSampleCapacity;
  }

  /** One arm of one experiment. */
  public record ArmKey(String experimentId, String arm) {}

  /** The assigner of the newest config installed. */
  public Assigner assigner() {
    return assigner;
  }

  public long version() {
    return assigner.config().version();
  }

  /**
   * Installs {@code config} if it is newer than the current one; returns whether it did. Called by
   * the splitter only (one writer), so a plain check-then-set is enough.
   */
  boolean install(ExperimentConfig config) {
    if (config.version() <= assigner.config().version()) {
      return false;
    }
    assigner = Assigner.of(config);
    return true;
  }

  /** The recorder of an arm, created on first use. */
  public ArmStats.Recorder recorder(String experimentId, String arm) {
    return recorders.computeIfAbsent(new ArmKey(experimentId, arm), k -> ArmStats.recorder(userSampleCapacity));
  }

  /** Requests whose arm named a model version this node has not loaded (served by the active model). */
  public void countModelFallback() {
    modelFallbacks.incrementAndGet();
  }

  public long modelFallbacks() {
    return modelFallbacks.get();
  }

  /** Cumulative snapshots of every arm this node has recorded. */
  public Map<ArmKey, ArmStats> snapshot() {
    Map<ArmKey, ArmStats> out = new LinkedHashMap<>();
    recorders.forEach((k, r) -> out.put(k, r.snapshot()));
    return out;
  }
}
