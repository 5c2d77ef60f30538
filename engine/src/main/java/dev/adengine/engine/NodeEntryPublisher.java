package dev.adengine.engine;

import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * Publishes this node's entry every {@code interval} into the Distributed Data {@link LWWMap} under
 * {@code key}, keyed by the node id (which includes the node's incarnation, so a restarted node never
 * overwrites its previous life's entry). Writes are local; gossip spreads them; readers combine
 * every node's entry. Used for per-arm experiment stats and for the SLO window counts.
 */
public final class NodeEntryPublisher {
  private NodeEntryPublisher() {}

  private sealed interface Command {}

  private enum Tick implements Command { INSTANCE }

  private record Written(Object response) implements Command {}

  /**
   * @param entry this node's current entry, or null to publish nothing this time
   * @param publishedAt an entry's publication time (ms), for pruning
   * @param pruneAfterMillis other nodes' entries older than this are removed on each write, so that
   *     the map does not grow with every incarnation; 0 keeps them
   * @param nowMillis the clock pruning compares with
   */
  public static <V> Behavior<?> create(Key<LWWMap<String, V>> key, String nodeId, Duration interval,
      Supplier<V> entry, ToLongFunction<V> publishedAt, long pruneAfterMillis,
      java.util.function.LongSupplier nowMillis) {
    return Behaviors.<Command>setup(ctx -> {
      SelfUniqueAddress self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
      return Behaviors.withTimers(timers -> {
        timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
        return DistributedData.<Command, LWWMap<String, V>>withReplicatorMessageAdapter(replicator ->
            Behaviors.receive(Command.class)
                .onMessageEquals(Tick.INSTANCE, () -> {
                  V mine = entry.get();
                  if (mine == null) {
                    return Behaviors.same();
                  }
                  long now = nowMillis.getAsLong();
                  replicator.askUpdate(replyTo -> new Replicator.Update<>(key, LWWMap.create(),
                      Replicator.writeLocal(), replyTo, map -> {
                        LWWMap<String, V> m = map;
                        if (pruneAfterMillis > 0) {
                          for (Map.Entry<String, V> e : map.getEntries().entrySet()) {
                            if (!e.getKey().equals(nodeId) && now - publishedAt.applyAsLong(e.getValue())
                                > pruneAfterMillis) {
                              m = m.remove(self, e.getKey());
                            }
                          }
                        }
                        return m.put(self, nodeId, mine);
                      }), Written::new);
                  return Behaviors.same();
                })
                .onMessage(Written.class, w -> Behaviors.same())
                .build());
      });
    });
  }
}
