package dev.adengine.engine.features;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/** Subscribes this node to the campaign-snapshot topic and keeps the latest of each in the {@link FeatureStore}. */
public final class SnapshotSubscriber {
  private SnapshotSubscriber() {}

  public static Behavior<CampaignSnapshot> create(ActorRef<Topic.Command<CampaignSnapshot>> topic, FeatureStore store) {
    return Behaviors.setup(ctx -> {
      topic.tell(Topic.subscribe(ctx.getSelf()));
      return Behaviors.receiveMessage(snapshot -> {
        store.offer(snapshot);
        return Behaviors.same();
      });
    });
  }
}
