package dev.adengine.engine.lifecycle;

import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.persistence.ModelRegistryRepository.Activation;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * The automatic guardrail of the active model: rolls it back when, over a sliding window of the
 * whole cluster's traffic, its calibration (observed clicks / the clicks its pCTRs predicted),
 * its CTR or the error rate breaks a threshold, and keeps breaking it for a sustained time. The
 * rollback is an {@code AUTO_ROLLBACK} activation whose reason says which figure broke which
 * threshold, with the figures: the registry's activation log is the record of why.
 *
 * <p>Two parts: every node publishes its {@link ModelHealth} counts each {@code interval} into a
 * Distributed Data map (local writes, spread by gossip); one judge per cluster (a {@link
 * ClusterSingleton}) sums them for the active version, keeps the sums over the window and decides.
 * A rollback only applies if the version it judged is still the active one (a deploy made
 * meanwhile is never undone), and needs a previous version to go back to.
 */
public final class ModelGuardrail {

  public static final Key<LWWMap<String, ModelHealth.Counts>> KEY = LWWMapKey.create("model-health");

  /**
   * @param minImpressions impressions the window must hold before calibration and CTR are judged
   * @param minRequests requests the window must hold before the error rate is judged
   * @param minCalibration, maxCalibration bounds of observed / predicted clicks
   * @param minCtr CTR (clicks / impressions) below which the model breaks (0: not judged)
   * @param maxErrorRate share of failed requests above which the model breaks
   * @param settle the judged window ends this long ago: clicks come some time after the impression,
   *     so the newest stretch would always look as if clicks were missing
   */
  public record Settings(boolean enabled, Duration interval, Duration window, Duration settle, Duration sustain,
      long minImpressions,
      long minRequests, double minCalibration, double maxCalibration, double minCtr, double maxErrorRate) {}

  private ModelGuardrail() {}

  // ---- every node: publish this node's counts ----

  private sealed interface PublisherCommand {}

  private enum Publish implements PublisherCommand { INSTANCE }

  private record Published(Replicator.UpdateResponse<LWWMap<String, ModelHealth.Counts>> response)
      implements PublisherCommand {}

  /** This node's publisher: its counts into the map under {@link #KEY}, keyed by its node id. */
  public static Behavior<?> publisher(String nodeId, ModelHealth health, ModelHolder models, Duration interval,
      Clock clock) {
    return Behaviors.<PublisherCommand>setup(ctx -> {
      SelfUniqueAddress self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
      return Behaviors.withTimers(timers -> {
        timers.startTimerWithFixedDelay(Publish.INSTANCE, interval);
        return DistributedData.<PublisherCommand, LWWMap<String, ModelHealth.Counts>>withReplicatorMessageAdapter(
            replicator -> Behaviors.receive(PublisherCommand.class)
                .onMessageEquals(Publish.INSTANCE, () -> {
                  health.activeChanged(models.current().version(), clock.millis());
                  ModelHealth.Counts c = health.snapshot();
                  replicator.askUpdate(replyTo -> new Replicator.Update<>(KEY, LWWMap.create(),
                      Replicator.writeLocal(), replyTo, map -> map.put(self, nodeId, c)), Published::new);
                  return Behaviors.same();
                })
                .onMessage(Published.class, p -> Behaviors.same())
                .build());
      });
    });
  }

  // ---- one per cluster: judge ----

  public sealed interface Command {}

  private enum Judge implements Command { INSTANCE }

  private record HealthChanged(Replicator.SubscribeResponse<LWWMap<String, ModelHealth.Counts>> response)
      implements Command {}

  private record RolledBack(String version, String reason, Optional<Activation> activation, Throwable failure)
      implements Command {}

  /** Starts the judge's singleton proxy on this node (the judge runs on the oldest node). */
  public static ActorRef<Command> init(ActorSystem<?> system, Settings settings, ModelRegistry registry,
      ModelHolder models, ActorRef<ModelDeployer.Command> deployer, Clock clock) {
    return ClusterSingleton.get(system).init(SingletonActor.of(
        Behaviors.supervise(judge(settings, registry, models, deployer, clock)).onFailure(
            SupervisorStrategy.restartWithBackoff(Duration.ofSeconds(1), Duration.ofSeconds(30), 0.2)),
        "model-guardrail"));
  }

  /** Cluster-wide sums of the counts of one version. */
  record Totals(long requests, long errors, double topSlot, double loggedTopSlot, double loggedExpected,
      long impressions, long clicks) {
    static final Totals ZERO = new Totals(0, 0, 0, 0, 0, 0, 0);

    Totals plus(ModelHealth.Counts c) {
      return new Totals(requests + c.requests(), errors + c.errors(), topSlot + c.topSlotPctr(),
          loggedTopSlot + c.loggedTopSlotPctr(), loggedExpected + c.loggedExpected(), impressions + c.impressions(),
          clicks + c.clicks());
    }

    Totals minus(Totals o) {
      return new Totals(requests - o.requests, errors - o.errors, topSlot - o.topSlot, loggedTopSlot - o.loggedTopSlot,
          loggedExpected - o.loggedExpected, impressions - o.impressions, clicks - o.clicks);
    }

    /** Clicks the served ads should get where they were shown: the logged requests' position factor applied to all. */
    double predicted() {
      return loggedTopSlot > 0 ? topSlot * (loggedExpected / loggedTopSlot) : 0;
    }
  }

  private record Sample(long atMs, Totals totals) {}

  static Behavior<Command> judge(Settings settings, ModelRegistry registry, ModelHolder models,
      ActorRef<ModelDeployer.Command> deployer, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        DistributedData.<Command, LWWMap<String, ModelHealth.Counts>>withReplicatorMessageAdapter(replicator -> {
          replicator.subscribe(KEY, HealthChanged::new);
          timers.startTimerWithFixedDelay(Judge.INSTANCE, settings.interval());
          return new Judgement(ctx, settings, registry, models, deployer, clock).behavior();
        })));
  }

  /** The judge's state: the latest counts of every node, the window of sums, the breach clock. */
  private static final class Judgement {
    private final ActorContext<Command> ctx;
    private final Settings settings;
    private final ModelRegistry registry;
    private final ModelHolder models;
    private final ActorRef<ModelDeployer.Command> deployer;
    private final Clock clock;
    private Map<String, ModelHealth.Counts> latest = Map.of();
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private String judged;
    private long breachingSince = -1;
    private boolean rollingBack;

    Judgement(ActorContext<Command> ctx, Settings settings, ModelRegistry registry, ModelHolder models,
        ActorRef<ModelDeployer.Command> deployer, Clock clock) {
      this.ctx = ctx;
      this.settings = settings;
      this.registry = registry;
      this.models = models;
      this.deployer = deployer;
      this.clock = clock;
    }

    Behavior<Command> behavior() {
      return Behaviors.receive(Command.class)
          .onMessage(HealthChanged.class, h -> {
            if (h.response() instanceof Replicator.Changed<LWWMap<String, ModelHealth.Counts>> changed) {
              latest = Map.copyOf(changed.get(KEY).getEntries());
            }
            return Behaviors.same();
          })
          .onMessageEquals(Judge.INSTANCE, () -> {
            judge();
            return Behaviors.same();
          })
          .onMessage(RolledBack.class, r -> {
            rollingBack = false;
            if (r.failure() != null) {
              ctx.getLog().error("guardrail: rolling back {} failed ({}); reason was: {}", r.version(),
                  RetrainPipeline.root(r.failure()), r.reason());
            } else if (r.activation().isPresent()) {
              ctx.getLog().warn("guardrail rolled back {} to {}: {}", r.version(), r.activation().get().version(),
                  r.reason());
            } else {
              ctx.getLog().info("guardrail: {} is no longer active; no rollback", r.version());
            }
            return Behaviors.same();
          })
          .build();
    }

    private void judge() {
      long now = clock.millis();
      String version = models.current().version();
      if (!version.equals(judged)) {
        judged = version;
        samples.clear();
        breachingSince = -1;
      }
      Totals sum = Totals.ZERO;
      for (ModelHealth.Counts c : latest.values()) {
        if (version.equals(c.version())) {
          sum = sum.plus(c);
        }
      }
      samples.addLast(new Sample(now, sum));
      long endAt = now - settings.settle().toMillis();
      long startAt = endAt - settings.window().toMillis();
      while (samples.size() > 1 && samples.peekFirst().atMs() < startAt) {
        samples.removeFirst();
      }
      Sample end = null;
      for (Sample s : samples) {
        if (s.atMs() <= endAt) {
          end = s; // the newest sample at least `settle` old
        }
      }
      if (end == null) {
        return; // not yet a settled stretch of traffic under this version
      }
      Sample start = samples.peekFirst();
      Totals w = end.totals().minus(start.totals());
      long spanMs = end.atMs() - start.atMs();
      String breach = breach(w);
      if (breach == null) {
        breachingSince = -1;
        return;
      }
      if (breachingSince < 0) {
        breachingSince = now;
        ctx.getLog().info("guardrail: {} breaks a threshold ({}); rolling back if it lasts {}", version, breach,
            settings.sustain());
      }
      if (now - breachingSince >= settings.sustain().toMillis() && !rollingBack) {
        rollingBack = true;
        String reason = "guardrail: " + breach + String.format(Locale.ROOT,
            " over %d s of traffic ending %d s ago, sustained %d s (requests %d, errors %d, impressions %d, clicks"
                + " %d, predicted clicks %.1f)", spanMs / 1000, settings.settle().toSeconds(),
            (now - breachingSince) / 1000, w.requests(), w.errors(), w.impressions(), w.clicks(), w.predicted());
        ctx.pipeToSelf(registry.rollback(ModelDeployer.ACTIVE_SCOPE, ModelRegistry.AUTO_ROLLBACK, "guardrail",
                reason, version)
            .thenCompose(a -> a.isEmpty()
                ? java.util.concurrent.CompletableFuture.completedFuture(a)
                : AskPattern.<ModelDeployer.Command, ModelDeployer.Done>ask(deployer,
                        replyTo -> new ModelDeployer.Publish(a.get(), replyTo), Duration.ofSeconds(10),
                        ctx.getSystem().scheduler())
                    .thenApply(done -> a)),
            (a, err) -> new RolledBack(version, reason, a, err));
      }
    }

    /** Which threshold the window's figures break, or null. */
    private String breach(Totals w) {
      if (w.requests() >= settings.minRequests() && w.requests() > 0) {
        double errorRate = (double) w.errors() / w.requests();
        if (errorRate > settings.maxErrorRate()) {
          return String.format(Locale.ROOT, "error rate %.4f > %.4f", errorRate, settings.maxErrorRate());
        }
      }
      if (w.impressions() >= settings.minImpressions() && w.predicted() > 0) {
        double calibration = w.clicks() / w.predicted();
        if (calibration < settings.minCalibration() || calibration > settings.maxCalibration()) {
          return String.format(Locale.ROOT, "calibration (observed / predicted clicks) %.3f outside [%.2f, %.2f]",
              calibration, settings.minCalibration(), settings.maxCalibration());
        }
        double ctr = (double) w.clicks() / w.impressions();
        if (settings.minCtr() > 0 && ctr < settings.minCtr()) {
          return String.format(Locale.ROOT, "CTR %.5f < %.5f", ctr, settings.minCtr());
        }
      }
      return null;
    }
  }
}
