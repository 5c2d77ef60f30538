package dev.adengine.engine.slo;

import dev.adengine.engine.NodeEntryPublisher;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
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

  public static Behavior<?> create(String nodeId, SloTracker tracker, SloSettings settings, LongSupplier clock) {
    return NodeEntryPublisher.create(KEY, nodeId, settings.publishInterval(), () -> tracker.snapshot(settings.windows()),
        NodeSlo::publishedAtMillis, settings.pruneAfter().toMillis(), clock);
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
