package dev.adengine.engine.slo;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * Publishes this node's window counts ({@link SloTracker#snapshot}) every {@code publish-interval}
 * into the {@link LWWMap} under {@link #KEY}, as this node's entry (keyed by its node id, which
 * includes its incarnation), the way {@code ArmStatsPublisher} publishes arm stats: local writes,
 * spread by gossip. It also removes entries nobody has refreshed for {@code prune-after} (nodes
 * that left or died), so the map does not grow with every incarnation.
 */
public final class SloPublisher {

  public static final Key<LWWMap<String, NodeSlo>> KEY = LWWMapKey.create("slo-node-counts");

  private SloPublisher() {}

  private sealed interface Command {}

  private enum Tick implements Command { INSTANCE }

  private record Written(Replicator.UpdateResponse<LWWMap<String, NodeSlo>> response) implements Command {}

  public static Behavior<?> create(String nodeId, SloTracker tracker, SloSettings settings, LongSupplier clock) {
    long pruneAfter = settings.pruneAfter().toMillis();
    return Behaviors.<Command>setup(ctx -> {
      SelfUniqueAddress self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
      return Behaviors.withTimers(timers -> {
        timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.publishInterval());
        return DistributedData.<Command, LWWMap<String, NodeSlo>>withReplicatorMessageAdapter(replicator ->
            Behaviors.receive(Command.class)
                .onMessageEquals(Tick.INSTANCE, () -> {
                  NodeSlo entry = tracker.snapshot(settings.windows());
                  long now = clock.getAsLong();
                  replicator.askUpdate(replyTo -> new Replicator.Update<>(KEY, LWWMap.create(),
                      Replicator.writeLocal(), replyTo, map -> {
                        LWWMap<String, NodeSlo> m = map;
                        for (Map.Entry<String, NodeSlo> e : map.getEntries().entrySet()) {
                          if (!e.getKey().equals(nodeId) && now - e.getValue().publishedAtMillis() > pruneAfter) {
                            m = m.remove(self, e.getKey());
                          }
                        }
                        return m.put(self, nodeId, entry);
                      }), Written::new);
                  return Behaviors.same();
                })
                .onMessage(Written.class, w -> Behaviors.same())
                .build());
      });
    });
  }

  /** Every node's latest entry, from this node's replica (empty before any node published). */
  public static CompletionStage<Map<String, NodeSlo>> entries(ActorSystem<?> system, Duration timeout) {
    CompletionStage<Replicator.GetResponse<LWWMap<String, NodeSlo>>> get = AskPattern.ask(
        DistributedData.get(system).replicator(),
        replyTo -> new Replicator.Get<>(KEY, Replicator.readLocal(), replyTo), timeout, system.scheduler());
    return get.thenApply(response -> {
      if (response instanceof Replicator.GetSuccess<LWWMap<String, NodeSlo>> ok) {
        return Map.copyOf(ok.get(KEY).getEntries());
      }
      return Map.of();
    });
  }
}
