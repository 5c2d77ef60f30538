package dev.adengine.engine.campaign;

import dev.adengine.engine.CborSerializable;
import dev.adengine.engine.catalog.CatalogUpdate;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * An advertiser: owner of campaigns, with a daily cap across them and the time zone its budget
 * days follow. Sharded and event-sourced into Cassandra; never on the bid path.
 *
 * <p>{@link Upsert} -> {@link AdvertiserUpserted} (revision + 1; pushed to every node's catalog
 * replica and the catalog table). {@link Get} -> no event.
 */
public final class AdvertiserEntity
    extends EventSourcedBehaviorWithEnforcedReplies<AdvertiserEntity.Command, AdvertiserEntity.Event,
        AdvertiserEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Advertiser");

  public static void init(ActorSystem<?> system, CampaignEntity.CatalogPublisher publisher) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), publisher)));
  }

  public static Behavior<Command> create(String advertiserId, CampaignEntity.CatalogPublisher publisher) {
    return Behaviors.setup(ctx -> new AdvertiserEntity(ctx, advertiserId, publisher));
  }

  private final ActorContext<Command> ctx;
  private final String advertiserId;
  private final CampaignEntity.CatalogPublisher publisher;

  private AdvertiserEntity(ActorContext<Command> ctx, String advertiserId, CampaignEntity.CatalogPublisher publisher) {
    super(PersistenceId.of(ENTITY_KEY.name(), advertiserId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.ctx = ctx;
    this.advertiserId = advertiserId;
    this.publisher = publisher;
  }

  // ---- protocol ----

  public sealed interface Command extends CborSerializable {}

  /** {@code advertiser} is the validated API message's bytes. */
  public record Upsert(byte[] advertiser, long dailyBudgetMicros, String zoneId,
      ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  public record Get(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  private record Publish(long revision) implements Command {}

  private enum CatalogWritten implements Command {
    INSTANCE
  }

  public record Summary(String advertiserId, byte[] advertiser, long dailyBudgetMicros, String zoneId, long revision)
      implements CborSerializable {}

  // ---- events ----

  public sealed interface Event extends CborSerializable {}

  public record AdvertiserUpserted(String advertiserId, byte[] advertiser, long dailyBudgetMicros, String zoneId)
      implements Event {}

  // ---- state ----

  public record State(byte[] advertiser, long dailyBudgetMicros, String zoneId, long revision)
      implements CborSerializable {
    boolean exists() {
      return advertiser != null;
    }
  }

  @Override
  public State emptyState() {
    return new State(null, 0, "UTC", 0);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> b = newCommandHandlerWithReplyBuilder();
    b.forAnyState()
        .onCommand(Upsert.class, this::onUpsert)
        .onCommand(Get.class, this::onGet)
        .onCommand(Publish.class, (s, c) -> {
          if (s.revision() == c.revision()) {
            publishCatalog(s);
          }
          return Effect().noReply();
        })
        .onCommand(CatalogWritten.class, (s, c) -> Effect().noReply());
    return b.build();
  }

  private ReplyEffect<Event, State> onUpsert(State state, Upsert cmd) {
    return Effect()
        .persist(new AdvertiserUpserted(advertiserId, cmd.advertiser(), cmd.dailyBudgetMicros(), cmd.zoneId()))
        .thenRun(this::publishCatalog)
        .thenReply(cmd.replyTo(), s -> StatusReply.success(summary(s)));
  }

  private ReplyEffect<Event, State> onGet(State state, Get cmd) {
    if (!state.exists()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("NOT_FOUND: advertiser " + advertiserId));
    }
    return Effect().reply(cmd.replyTo(), StatusReply.success(summary(state)));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    var builder = newEventHandlerBuilder();
    builder.forAnyState().onEvent(AdvertiserUpserted.class,
        (s, e) -> new State(e.advertiser(), e.dailyBudgetMicros(), e.zoneId(), s.revision() + 1));
    return builder.build();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          if (state.exists()) {
            publishCatalog(state);
          }
        })
        .build();
  }

  private void publishCatalog(State state) {
    long revision = state.revision();
    CatalogUpdate update = new CatalogUpdate(CatalogUpdate.Kind.ADVERTISER, advertiserId, revision, state.advertiser());
    ctx.pipeToSelf(publisher.publish(update, ""), (ok, err) -> {
      if (err != null) {
        ctx.getLog().warn("Catalog write of advertiser {} revision {} failed, retrying in 1s: {}", advertiserId,
            revision, err.toString());
        ctx.scheduleOnce(Duration.ofSeconds(1), ctx.getSelf(), new Publish(revision));
      }
      return CatalogWritten.INSTANCE;
    });
  }

  private Summary summary(State s) {
    return new Summary(advertiserId, s.advertiser(), s.dailyBudgetMicros(), s.zoneId(), s.revision());
  }
}
