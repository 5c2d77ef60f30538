package dev.adengine.engine.lifecycle;

import dev.adengine.engine.catalog.Catalog;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.models.lifecycle.QualityGates;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.persistence.FeatureLogRepository;
import dev.adengine.persistence.FeatureLogRepository.Label;
import dev.adengine.persistence.FeatureLogRepository.LoggedRequest;
import dev.adengine.persistence.ModelRegistryRepository.ModelVersion;
import dev.adengine.persistence.PipelineRepository;
import dev.adengine.persistence.PipelineRepository.Run;
import dev.adengine.persistence.PipelineRepository.Step;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.pattern.StatusReply;

/**
 * The retraining pipeline, one per cluster (a {@link ClusterSingleton}): extract a training and a
 * later hold-out window from the feature log (with a parity check), train, validate against the
 * gates, register, score in shadow, promote. It runs on a schedule and on demand, one run at a time.
 *
 * <p><b>Every step is persisted</b> ({@link PipelineRepository}: the run's row and one row per step,
 * written when the step starts and when it ends), so a run interrupted by a crash is found by the
 * singleton's next incarnation, on whichever node it starts, and finished cleanly:
 *
 * <ul>
 *   <li>interrupted before the candidate was registered (extract, train, validate): the run is
 *       marked FAILED; nothing was registered or deployed, so there is nothing to undo;
 *   <li>interrupted at or after register: if the registry holds the candidate, the run resumes at
 *       shadow/promote (both are idempotent: activating the version that is already active is a
 *       no-op for the nodes); if it does not, the run is marked FAILED.
 * </ul>
 *
 * A run never half-deploys: promotion is one activation row (a lightweight transaction) and one
 * replicated register; every node converges on it by itself ({@link ModelDeployer}).
 *
 * <p>The CPU-heavy steps (decoding the log, training) run on {@code executor}, never on the actor's
 * thread; the actor only sequences and records.
 */
public final class RetrainPipeline extends AbstractBehavior<RetrainPipeline.Command> {

  public static final String NAME = "ctr-retrain";
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RetrainPipeline.class);

  public static final String EXTRACT = "EXTRACT";
  public static final String TRAIN = "TRAIN";
  public static final String VALIDATE = "VALIDATE";
  public static final String REGISTER = "REGISTER";
  public static final String SHADOW = "SHADOW";
  public static final String PROMOTE = "PROMOTE";

  public static final String RUNNING = PipelineRepository.RUNNING;
  public static final String SUCCEEDED = PipelineRepository.SUCCEEDED;
  public static final String REJECTED = PipelineRepository.REJECTED;
  public static final String FAILED = PipelineRepository.FAILED;

  /**
   * @param schedule how often a run starts by itself (zero: only on demand)
   * @param trainWindow, holdoutWindow the windows a scheduled run reads, ending {@code labelDelay} ago
   * @param labelDelay how long after serving a row's click may still arrive (the click window)
   * @param shadowFor how long a candidate scores in shadow before it is promoted (zero: no shadow phase)
   */
  public record Settings(Duration schedule, Duration trainWindow, Duration holdoutWindow, Duration labelDelay,
      Duration shadowFor, ModelTraining.Options training, QualityGates.Thresholds gates, int parityCandidates,
      String gitCommit, String nodeId) {}

  /**
   * One run's request. Null windows take the scheduled ones; {@code promote} false stops after
   * register (and shadow).
   */
  public record Request(String actor, String trigger, Long trainFromMs, Long trainToMs, Long holdoutFromMs,
      Long holdoutToMs, Set<String> excludedFeatures, Integer trees, boolean promote)
      implements dev.adengine.engine.CborSerializable {
    public Request {
      excludedFeatures = excludedFeatures == null ? Set.of() : Set.copyOf(excludedFeatures);
    }

    public static Request scheduled() {
      return new Request("scheduler", "schedule", null, null, null, null, Set.of(), null, true);
    }
  }

  /** Its protocol: {@link RunNow} travels from any node's proxy to the singleton, hence serializable. */
  public sealed interface Command extends dev.adengine.engine.CborSerializable {}

  /** Starts a run now; answers its id, or an error when a run is in progress. */
  public record RunNow(Request request, ActorRef<StatusReply<String>> replyTo) implements Command {}

  private enum Tick implements Command { INSTANCE }

  private record Recovered(Optional<Run> latest, Throwable failure) implements Command {}

  private record Finished(String runId, Throwable failure) implements Command {}

  /** Starts the singleton proxy on this node (the singleton itself runs on the oldest node). */
  public static ActorRef<Command> init(ActorSystem<?> system, Settings settings, Deps deps) {
    return ClusterSingleton.get(system).init(SingletonActor.of(
        Behaviors.supervise(create(settings, deps)).onFailure(SupervisorStrategy.restartWithBackoff(
            Duration.ofSeconds(1), Duration.ofSeconds(30), 0.2)),
        "retrain-pipeline"));
  }

  /** What a run works with; all node-local except the repositories. */
  public record Deps(FeatureLogRepository featureLog, PipelineRepository runs, ModelRegistry registry,
      ModelHolder models, Catalog catalog, ActorRef<ModelDeployer.Command> deployer, Executor executor,
      Clock clock) {}

  static Behavior<Command> create(Settings settings, Deps deps) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RetrainPipeline(ctx, timers, settings, deps)));
  }

  private final Settings settings;
  private final Deps deps;
  private final ActorSystem<?> system;
  private String running;

  private RetrainPipeline(ActorContext<Command> ctx, TimerScheduler<Command> timers, Settings settings, Deps deps) {
    super(ctx);
    this.settings = settings;
    this.deps = deps;
    this.system = ctx.getSystem();
    if (!settings.schedule().isZero()) {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.schedule());
    }
    running = "recovering";
    ctx.pipeToSelf(deps.runs().runs(NAME, 1).thenApply(l -> l.stream().findFirst()), Recovered::new);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(RunNow.class, this::onRunNow)
        .onMessageEquals(Tick.INSTANCE, () -> {
          if (running == null) {
            start(Request.scheduled(), null);
          }
          return this;
        })
        .onMessage(Recovered.class, this::onRecovered)
        .onMessage(Finished.class, f -> {
          if (f.failure() != null) {
            getContext().getLog().warn("pipeline run {} ended with an error: {}", f.runId(), root(f.failure()));
          }
          running = null;
          return this;
        })
        .build();
  }

  private Behavior<Command> onRunNow(RunNow r) {
    if (running != null) {
      r.replyTo().tell(StatusReply.error("a pipeline run is in progress: " + running));
      return this;
    }
    start(r.request(), r.replyTo());
    return this;
  }

  private void start(Request request, ActorRef<StatusReply<String>> replyTo) {
    Instant now = deps.clock().instant();
    String runId = PipelineRepository.newRunId(now);
    running = runId;
    if (replyTo != null) {
      replyTo.tell(StatusReply.success(runId));
    }
    Execution e = new Execution(runId, request, now);
    getContext().pipeToSelf(e.run(), (ok, err) -> new Finished(runId, err));
  }

  private Behavior<Command> onRecovered(Recovered r) {
    running = null;
    if (r.failure() != null) {
      getContext().getLog().warn("pipeline runs not read from Cassandra: {}", root(r.failure()));
      return this;
    }
    if (r.latest().isEmpty() || !RUNNING.equals(r.latest().get().status())) {
      return this;
    }
    Run run = r.latest().get();
    running = run.runId();
    getContext().getLog().warn("pipeline run {} was interrupted at step {} (on node {}); recovering", run.runId(),
        run.step(), run.node());
    getContext().pipeToSelf(new Execution(run).recover(), (ok, err) -> new Finished(run.runId(), err));
    return this;
  }

  /** One run: its steps in order, each recorded before and after. */
  private final class Execution {
    private final String runId;
    private final Request request;
    private final Instant startedAt;
    private final String trigger;
    private int seq;
    private String candidateVersion;
    private ModelTraining.Options options;
    private volatile String currentStep = EXTRACT;

    Execution(String runId, Request request, Instant startedAt) {
      this.runId = runId;
      this.request = request;
      this.startedAt = startedAt;
      this.trigger = request.trigger() + " by " + request.actor();
    }

    /** A run found interrupted: only what recovery needs. */
    Execution(Run run) {
      this.runId = run.runId();
      this.request = new Request("recovery", "recovery", null, null, null, null, Set.of(), null, true);
      this.startedAt = run.startedAt();
      this.trigger = run.trigger();
      this.candidateVersion = run.candidateVersion();
    }

    /**
     * Runs every step; completes with {@link Done} (never null: the result is piped to this singleton,
     * which may have moved by then, and a null dead letter fails Pekko's DeadLetterListener).
     */
    CompletionStage<Done> run() {
      return steps().thenApply(v -> Done.getInstance());
    }

    private CompletionStage<Void> steps() {
      long now = startedAt.toEpochMilli();
      long holdoutTo = request.holdoutToMs() != null ? request.holdoutToMs()
          : now - settings.labelDelay().toMillis();
      long holdoutFrom = request.holdoutFromMs() != null ? request.holdoutFromMs()
          : holdoutTo - settings.holdoutWindow().toMillis();
      long trainTo = request.trainToMs() != null ? request.trainToMs() : holdoutFrom;
      long trainFrom = request.trainFromMs() != null ? request.trainFromMs()
          : trainTo - settings.trainWindow().toMillis();
      if (!(trainFrom < trainTo && trainTo <= holdoutFrom && holdoutFrom < holdoutTo)) {
        return finish(FAILED, EXTRACT, "bad windows: training [" + trainFrom + ", " + trainTo + "), hold-out ["
            + holdoutFrom + ", " + holdoutTo + "): training must end before the hold-out starts");
      }
      CtrModel active = deps.models().current();
      options = settings.training().withExcluded(request.excludedFeatures());
      if (request.trees() != null) {
        options = options.withTrainer(options.trainer().withTrees(request.trees()));
      }
      ModelTraining.Options opts = options;
      String version = "ctr-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)
          .withZone(ZoneOffset.UTC).format(startedAt) + "-" + runId.substring(runId.length() - 4);
      return saveRun(RUNNING, EXTRACT, null)
          .thenCompose(v -> step(EXTRACT, () -> extract(trainFrom, trainTo, holdoutFrom, holdoutTo)))
          .thenCompose(data -> step(TRAIN, () -> CompletableFuture.supplyAsync(
              () -> ModelTraining.run(version, data.train(), data.holdout(), data.scored(), active, opts,
                  settings.gates(), provenance(data)), deps.executor()))
              .thenCompose(outcome -> validate(outcome, data, active)))
          .exceptionallyCompose(err -> finish(FAILED, null, root(err)));
    }

    private CompletionStage<Void> validate(ModelTraining.Outcome o, Extracted data, CtrModel active) {
      QualityGates.Result gates = o.gates();
      int s = ++seq;
      Instant t = deps.clock().instant();
      String detail = "candidate " + ModelTraining.describe(o.holdout())
          + (o.active() == null ? "" : "; active " + active.version() + " " + ModelTraining.describe(o.active()))
          + "; gates: " + gates.summary();
      CompletionStage<Void> saved = deps.runs().saveStep(new Step(runId, s, VALIDATE, gates.passed() ? SUCCEEDED
          : REJECTED, t, t, detail));
      if (!gates.passed()) {
        return saved.thenCompose(v -> finish(REJECTED, VALIDATE, gates.summary()));
      }
      candidateVersion = o.candidate().version();
      return saved
          .thenCompose(v -> step(REGISTER, () -> register(o, data, active)))
          .thenCompose(v -> afterRegister());
    }

    private CompletionStage<Void> afterRegister() {
      CompletionStage<String> shadow = settings.shadowFor().isZero()
          ? CompletableFuture.completedFuture("no shadow phase")
          : step(SHADOW, () -> activate(ModelDeployer.SHADOW_SCOPE, candidateVersion, ModelRegistry.SHADOW,
              "scores beside the live model for " + settings.shadowFor())
              .thenCompose(v -> CompletableFuture.runAsync(() -> { },
                  CompletableFuture.delayedExecutor(settings.shadowFor().toMillis(), TimeUnit.MILLISECONDS)))
              .thenApply(v -> "scored in shadow for " + settings.shadowFor()));
      if (!request.promote()) {
        return shadow.thenCompose(v -> finish(SUCCEEDED, REGISTER, "registered " + candidateVersion
            + " (not promoted: the run asked for no promotion)"));
      }
      return shadow
          .thenCompose(v -> step(PROMOTE, () -> promote()))
          .thenCompose(v -> finish(SUCCEEDED, PROMOTE, "promoted " + candidateVersion));
    }

    private CompletionStage<String> promote() {
      CompletionStage<String> clearShadow = settings.shadowFor().isZero()
          ? CompletableFuture.completedFuture("")
          : activate(ModelDeployer.SHADOW_SCOPE, "", ModelRegistry.SHADOW_OFF, "promoted").thenApply(x -> "");
      return deps.registry().active(ModelDeployer.ACTIVE_SCOPE).thenCompose(current -> {
        if (current.isPresent() && candidateVersion.equals(current.get().version())) {
          return CompletableFuture.completedFuture("already active (activation " + current.get().seq() + ")");
        }
        return activate(ModelDeployer.ACTIVE_SCOPE, candidateVersion, ModelRegistry.ACTIVATE,
            "passed the gates in pipeline run " + runId);
      }).thenCombine(clearShadow, (a, b) -> a);
    }

    private CompletionStage<String> activate(String scope, String version, String action, String reason) {
      return deps.registry().activate(scope, version, action, "pipeline:" + runId, reason)
          .thenCompose(a -> AskPattern.<ModelDeployer.Command, ModelDeployer.Done>ask(deps.deployer(),
                  replyTo -> new ModelDeployer.Publish(a, replyTo), Duration.ofSeconds(10), system.scheduler())
              .thenApply(done -> scope + " activation " + a.seq() + ": " + a.version()));
    }

    private CompletionStage<String> register(ModelTraining.Outcome o, Extracted data, CtrModel active) {
      CtrModel m = o.candidate();
      ModelVersion v = new ModelVersion(m.version(), deps.clock().instant(), request.actor(), runId,
          active == null ? null : active.version(), settings.gitCommit(), m.schemaHash(), data.trainFrom(),
          data.trainTo(), data.holdoutFrom(), data.holdoutTo(), o.trainRows() + o.calibrationRows(),
          data.train().clicks(), o.holdoutRows(), o.holdoutClicks(),
          withTiming(o), o.metricsMap(),
          o.reference().toBytes(), ModelRegistry.bytes(m));
      return deps.registry().register(v).thenApply(written -> {
        if (!written) {
          throw new IllegalStateException("model version " + m.version() + " already exists in the registry");
        }
        return "registered " + m.version() + " (parent " + v.parentVersion() + ", commit " + v.gitCommit() + ")";
      });
    }

    private Map<String, String> withTiming(ModelTraining.Outcome o) {
      Map<String, String> m = new LinkedHashMap<>(options.asMap());
      m.put("train_millis", Long.toString(o.trainMillis()));
      return m;
    }

    private Map<String, String> provenance(Extracted data) {
      Map<String, String> p = new LinkedHashMap<>();
      p.put("source", "feature log, pipeline run " + runId);
      p.put("train.window", Instant.ofEpochMilli(data.trainFrom()) + "/" + Instant.ofEpochMilli(data.trainTo()));
      p.put("holdout.window", Instant.ofEpochMilli(data.holdoutFrom()) + "/"
          + Instant.ofEpochMilli(data.holdoutTo()));
      p.put("trained.at", deps.clock().instant().toString());
      return p;
    }

    private CompletionStage<Extracted> extract(long trainFrom, long trainTo, long holdoutFrom, long holdoutTo) {
      // one window after the other: reads of the log are large, and the node is serving meanwhile
      return deps.featureLog().read(trainFrom, trainTo).thenCompose(tl -> deps.featureLog().read(holdoutFrom,
          holdoutTo).thenCompose(hl -> deps.featureLog().labels(trainFrom, holdoutTo).thenApplyAsync(ls -> {
        TrainingData.Rows train = TrainingData.shown(tl, ls);
        TrainingData.Rows holdout = TrainingData.shown(hl, ls);
        double[][] scored = TrainingData.scoredRows(tl, settings.training().referenceRows());
        ParityCheck.Report parity = ParityCheck.run(tl, deps.catalog().current(), settings.parityCandidates());
        return new Extracted(trainFrom, trainTo, holdoutFrom, holdoutTo, tl.size(), hl.size(), train, holdout,
            scored, parity);
      }, deps.executor())));
    }

    /** Runs one step, recording it as started and then as succeeded (its detail) or failed (why). */
    private <T> CompletionStage<T> step(String name, java.util.function.Supplier<CompletionStage<T>> work) {
      int s = ++seq;
      currentStep = name;
      Instant started = deps.clock().instant();
      return deps.runs().saveStep(new Step(runId, s, name, RUNNING, started, null, null))
          .thenCompose(v -> saveRun(RUNNING, name, null))
          .thenCompose(v -> {
            CompletionStage<T> w;
            try {
              w = work.get();
            } catch (RuntimeException e) {
              w = CompletableFuture.failedFuture(e);
            }
            return w.handle((result, err) -> new Object[] {result, err});
          })
          .thenCompose(pair -> {
            @SuppressWarnings("unchecked")
            T result = (T) pair[0];
            Throwable err = (Throwable) pair[1];
            String detail = err != null ? root(err) : String.valueOf(result);
            return deps.runs().saveStep(new Step(runId, s, name, err != null ? FAILED : SUCCEEDED, started,
                    deps.clock().instant(), truncate(detail)))
                .thenApply(v -> {
                  if (err != null) {
                    throw new StepFailed(name, err);
                  }
                  return result;
                });
          });
    }

    private CompletionStage<Void> saveRun(String status, String step, String detail) {
      Instant finished = RUNNING.equals(status) ? null : deps.clock().instant();
      return deps.runs().saveRun(new Run(NAME, runId, trigger, startedAt, finished, status, step, candidateVersion,
          detail == null ? null : truncate(detail), settings.nodeId()));
    }

    /** Records the run's end; {@code step} null: the step that was running. */
    private CompletionStage<Void> finish(String status, String step, String detail) {
      LOG.info("pipeline run {}: {} ({})", runId, status, detail); // not the actor's log: runs on futures' threads
      return saveRun(status, step == null ? currentStep : step, detail);
    }

    /** Finishes a run its previous incarnation left RUNNING; see the class comment for the rules. */
    CompletionStage<Done> recover() {
      // the steps it records come after those the interrupted incarnation recorded
      return deps.runs().steps(runId).thenCompose(steps -> {
        seq = steps.stream().mapToInt(Step::seq).max().orElse(0);
        return finishInterrupted();
      }).thenApply(v -> Done.getInstance());
    }

    private CompletionStage<Void> finishInterrupted() {
      if (candidateVersion == null) {
        return finish(FAILED, "-", "interrupted before a candidate was registered (node crash or restart);"
            + " nothing was registered or deployed");
      }
      return deps.registry().find(candidateVersion).thenCompose(found -> {
        if (found.isEmpty()) {
          return finish(FAILED, REGISTER, "interrupted while registering " + candidateVersion
              + ", which the registry does not hold; nothing was deployed");
        }
        return afterRegister();
      });
    }
  }

  /** The windows read and what was built from them. */
  private record Extracted(long trainFrom, long trainTo, long holdoutFrom, long holdoutTo, int trainRequests,
      int holdoutRequests, TrainingData.Rows train, TrainingData.Rows holdout, double[][] scored,
      ParityCheck.Report parity) {
    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder();
      sb.append(String.format(Locale.ROOT, "training: %d logged requests, %d shown ads, %d clicks; hold-out: %d"
              + " logged requests, %d shown ads, %d clicks; parity: %d candidates recomputed, %d ads gone",
          trainRequests, train.size(), train.clicks(), holdoutRequests, holdout.size(), holdout.clicks(),
          parity.compared(), parity.adsMissing()));
      List<ParityCheck.FeatureParity> bad = parity.mismatched();
      if (bad.isEmpty()) {
        sb.append(", every feature equal");
      } else {
        sb.append(", mismatches:");
        for (ParityCheck.FeatureParity f : bad) {
          sb.append(String.format(Locale.ROOT, " %s %d/%d (max %.3g)", f.feature(), f.mismatches(), f.compared(),
              f.maxAbsDiff()));
        }
      }
      return sb.toString();
    }
  }

  private static final class StepFailed extends RuntimeException {
    StepFailed(String step, Throwable cause) {
      super(step + " failed: " + root(cause), cause, false, false);
    }
  }

  private static String truncate(String s) {
    return s.length() <= 4_000 ? s : s.substring(0, 4_000) + "...";
  }

  static String root(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && !(c instanceof StepFailed)) {
      c = c.getCause(); // a StepFailed already names its step and its root cause
    }
    return c.getMessage() == null ? c.toString() : c.getMessage();
  }
}
