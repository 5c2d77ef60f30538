package dev.adengine.engine.experiment;

import dev.adengine.engine.NodeEntryPublisher;
import dev.adengine.experiments.stats.ArmStats;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;

/**
 * Publishes this node's cumulative per-arm stats ({@link ServingExperiments#snapshot}) every
 * {@code interval} into the {@link LWWMap} under {@link #KEY}, as this node's entry (keyed by its
 * node id, which includes its incarnation, so a restarted node never overwrites its previous
 * life's figures). Writes are local; gossip spreads them. Reports sum the entries of every node.
 */
public final class ArmStatsPublisher {

  public static final Key<LWWMap<String, NodeArmStats>> KEY = LWWMapKey.create("experiment-arm-stats");

  private ArmStatsPublisher() {}

  public static Behavior<?> create(String nodeId, ServingExperiments serving, Duration interval, Clock clock) {
    return NodeEntryPublisher.create(KEY, nodeId, interval, () -> {
      Map<ServingExperiments.ArmKey, ArmStats> snapshot = serving.snapshot();
      if (snapshot.isEmpty()) {
        return null;
      }
      Map<String, byte[]> arms = new HashMap<>();
      snapshot.forEach((k, s) -> arms.put(NodeArmStats.key(k.experimentId(), k.arm()), s.encode()));
      return new NodeArmStats(clock.millis(), arms);
    }, NodeArmStats::publishedAtMillis, 0, clock::millis);
  }

  /** Sums every node's entry into cluster-wide stats per arm, for one experiment. */
  public static Map<String, ArmStats> sum(LWWMap<String, NodeArmStats> map, String experimentId) {
    Map<String, ArmStats> byArm = new HashMap<>();
    String prefix = experimentId + "/";
    for (NodeArmStats node : map.getEntries().values()) {
      node.arms().forEach((key, bytes) -> {
        if (key.startsWith(prefix)) {
          byArm.merge(key.substring(prefix.length()), ArmStats.decode(bytes), ArmStats::plus);
        }
      });
    }
    return byArm;
  }
}
