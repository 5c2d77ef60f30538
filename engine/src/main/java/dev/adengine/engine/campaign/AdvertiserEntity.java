package dev.adengine.engine.campaign;

import com.fasterxml.jackson.annotation.JsonCreator;
import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.AdvertiserView;
import dev.adengine.api.v1.CampaignGrant;
import dev.adengine.api.v1.CampaignStatus;
import dev.adengine.engine.CborSerializable;
import dev.adengine.engine.catalog.CatalogUpdate;
import com.google.protobuf.InvalidProtocolBufferException;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
 * An advertiser: owner of campaigns, with a daily cap across all of them and the time zone its
 * budget days follow. Sharded and event-sourced into Cassandra; never on the bid path.
 *
 * <p>Commands and what they persist:
 * <ul>
 *   <li>{@link Upsert} -> {@link AdvertiserUpserted} (revision + 1; pushed to every node's catalog
 *       replica and the catalog table).
 *   <li>{@link Pause} / {@link Resume} -> {@link AdvertiserPaused} / {@link AdvertiserResumed}:
 *       every campaign of the advertiser stops (or resumes) serving on every node.
 *   <li>{@link GrantCampaign}: a campaign asks for more of today's cap ->
 *       {@link AdvertiserDayStarted} when the day in the advertiser's zone has changed, and
 *       {@link CampaignBudgetGranted} with what it can have: at most one chunk ({@code grantShare}
 *       of the cap, so that sibling campaigns take turns) and never more than the cap minus what
 *       its campaigns already hold today.
 *   <li>{@link ReturnCampaignBudget}: a campaign gives back part of its share it does not use ->
 *       {@link CampaignBudgetReturned}.
 *   <li>{@link Get}: no event.
 * </ul>
 *
 * <p>Invariant: the sum of today's campaign grants never exceeds the daily cap, and each campaign
 * grants its nodes no more than it holds here; so the advertiser's spend never exceeds its cap.
 */
public final class AdvertiserEntity
    extends EventSourcedBehaviorWithEnforcedReplies<AdvertiserEntity.Command, AdvertiserEntity.Event,
        AdvertiserEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Advertiser");

  public static void init(ActorSystem<?> system, CampaignEntity.CatalogPublisher publisher, Clock clock,
      double grantShare) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY,
        ctx -> create(ctx.getEntityId(), publisher, clock, grantShare)));
  }

  /** {@code grantShare}: the most one ask gets, as a share of the cap, so sibling campaigns interleave. */
  public static Behavior<Command> create(String advertiserId, CampaignEntity.CatalogPublisher publisher, Clock clock,
      double grantShare) {
    return Behaviors.setup(ctx -> new AdvertiserEntity(ctx, advertiserId, publisher, clock, grantShare));
  }

  private final ActorContext<Command> ctx;
  private final String advertiserId;
  private final CampaignEntity.CatalogPublisher publisher;
  private final Clock clock;
  private final double grantShare;

  private AdvertiserEntity(ActorContext<Command> ctx, String advertiserId, CampaignEntity.CatalogPublisher publisher,
      Clock clock, double grantShare) {
    super(PersistenceId.of(ENTITY_KEY.name(), advertiserId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.ctx = ctx;
    this.advertiserId = advertiserId;
    this.publisher = publisher;
    this.clock = clock;
    this.grantShare = grantShare;
  }

  // ---- protocol ----

  public sealed interface Command extends CborSerializable {}

  /** {@code advertiser} is the validated API message's bytes. */
  public record Upsert(byte[] advertiser, long dailyBudgetMicros, String zoneId,
      ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  public record Get(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  public record Pause(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  public record Resume(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  /**
   * A campaign asks for {@code wantMicros} more of today's cap; {@code seq} increases with each of
   * its asks, so a retried ask grants nothing twice.
   */
  public record GrantCampaign(String campaignId, long seq, long wantMicros,
      ActorRef<StatusReply<CampaignAllowance>> replyTo) implements Command {}

  /** A campaign gives back {@code amountMicros} of its share of {@code day}'s cap. */
  public record ReturnCampaignBudget(String campaignId, String day, long seq, long amountMicros,
      ActorRef<StatusReply<CampaignAllowance>> replyTo) implements Command {}

  private record Publish(long revision) implements Command {}

  private enum CatalogWritten implements Command {
    INSTANCE
  }

  /** What a campaign holds of the advertiser's cap for {@code day}. */
  public record CampaignAllowance(String advertiserId, String day, long grantedMicros, boolean paused)
      implements CborSerializable {}

  public record Summary(String advertiserId, byte[] advertiser, long dailyBudgetMicros, String zoneId, long revision,
      boolean paused, String day, Map<String, Long> grants) implements CborSerializable {
    public long grantedMicros() {
      return grants.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  // ---- events ----

  public sealed interface Event extends CborSerializable {}

  public record AdvertiserUpserted(String advertiserId, byte[] advertiser, long dailyBudgetMicros, String zoneId)
      implements Event {}

  public record AdvertiserPaused(String advertiserId) implements Event {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public AdvertiserPaused {}
  }

  public record AdvertiserResumed(String advertiserId) implements Event {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public AdvertiserResumed {}
  }

  public record AdvertiserDayStarted(String advertiserId, String day) implements Event {}

  public record CampaignBudgetGranted(String advertiserId, String campaignId, String day, long seq, long amountMicros,
      long campaignTotalMicros) implements Event {}

  public record CampaignBudgetReturned(String advertiserId, String campaignId, String day, long seq, long amountMicros,
      long campaignTotalMicros) implements Event {}

  // ---- state ----

  /** A campaign's grant for the day and the last ask it came from. */
  public record Held(long grantedMicros, long seq) implements CborSerializable {}

  public record State(byte[] advertiser, long dailyBudgetMicros, String zoneId, long revision, boolean paused,
      String day, Map<String, Held> grants) implements CborSerializable {
    boolean exists() {
      return advertiser != null;
    }

    long granted() {
      long sum = 0;
      for (Held h : grants.values()) {
        sum += h.grantedMicros();
      }
      return sum;
    }

    Held held(String campaignId) {
      return grants.getOrDefault(campaignId, new Held(0, -1));
    }
  }

  @Override
  public State emptyState() {
    return new State(null, 0, "UTC", 0, false, "", Map.of());
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
        .onCommand(Pause.class, (s, c) -> onPauseResume(s, true, c.replyTo()))
        .onCommand(Resume.class, (s, c) -> onPauseResume(s, false, c.replyTo()))
        .onCommand(GrantCampaign.class, this::onGrantCampaign)
        .onCommand(ReturnCampaignBudget.class, this::onReturn)
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
      return Effect().reply(cmd.replyTo(), StatusReply.error(notFound()));
    }
    return Effect().reply(cmd.replyTo(), StatusReply.success(summary(rolledView(state))));
  }

  private ReplyEffect<Event, State> onPauseResume(State state, boolean pause, ActorRef<StatusReply<Summary>> replyTo) {
    if (!state.exists()) {
      return Effect().reply(replyTo, StatusReply.error(notFound()));
    }
    if (state.paused() == pause) {
      return Effect().reply(replyTo, StatusReply.success(summary(state)));
    }
    Event event = pause ? new AdvertiserPaused(advertiserId) : new AdvertiserResumed(advertiserId);
    return Effect().persist(event).thenRun(this::publishCatalog)
        .thenReply(replyTo, s -> StatusReply.success(summary(s)));
  }

  private ReplyEffect<Event, State> onGrantCampaign(State state, GrantCampaign cmd) {
    if (!state.exists()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(notFound()));
    }
    List<Event> events = new ArrayList<>();
    State view = state;
    String today = today(state);
    if (today.compareTo(state.day()) > 0) {
      AdvertiserDayStarted started = new AdvertiserDayStarted(advertiserId, today);
      events.add(started);
      view = applyEvent(view, started);
    }
    Held held = view.held(cmd.campaignId());
    if (cmd.seq() > held.seq() && !view.paused() && cmd.wantMicros() > 0) {
      long chunk = Math.max(1, (long) Math.ceil(view.dailyBudgetMicros() * grantShare));
      long amount = Math.min(Math.min(cmd.wantMicros(), chunk), view.dailyBudgetMicros() - view.granted());
      if (amount > 0) {
        CampaignBudgetGranted granted = new CampaignBudgetGranted(advertiserId, cmd.campaignId(), view.day(),
            cmd.seq(), amount, held.grantedMicros() + amount);
        events.add(granted);
        view = applyEvent(view, granted);
      }
    }
    String campaignId = cmd.campaignId();
    if (events.isEmpty()) {
      return Effect().reply(cmd.replyTo(), StatusReply.success(allowance(view, campaignId)));
    }
    return Effect().persist(events).thenReply(cmd.replyTo(), s -> StatusReply.success(allowance(s, campaignId)));
  }

  private ReplyEffect<Event, State> onReturn(State state, ReturnCampaignBudget cmd) {
    if (!state.exists()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(notFound()));
    }
    Held held = state.held(cmd.campaignId());
    long amount = Math.min(cmd.amountMicros(), held.grantedMicros());
    if (!cmd.day().equals(state.day()) || cmd.seq() <= held.seq() || amount <= 0) {
      return Effect().reply(cmd.replyTo(), StatusReply.success(allowance(state, cmd.campaignId())));
    }
    String campaignId = cmd.campaignId();
    return Effect().persist(new CampaignBudgetReturned(advertiserId, campaignId, state.day(), cmd.seq(), amount,
            held.grantedMicros() - amount))
        .thenReply(cmd.replyTo(), s -> StatusReply.success(allowance(s, campaignId)));
  }

  // ---- event handler ----

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(AdvertiserEntity::applyEvent);
  }

  static State applyEvent(State s, Event event) {
    if (event instanceof AdvertiserUpserted e) {
      return new State(e.advertiser(), e.dailyBudgetMicros(), e.zoneId(), s.revision() + 1, s.paused(), s.day(),
          s.grants());
    } else if (event instanceof AdvertiserPaused) {
      return new State(s.advertiser(), s.dailyBudgetMicros(), s.zoneId(), s.revision() + 1, true, s.day(), s.grants());
    } else if (event instanceof AdvertiserResumed) {
      return new State(s.advertiser(), s.dailyBudgetMicros(), s.zoneId(), s.revision() + 1, false, s.day(),
          s.grants());
    } else if (event instanceof AdvertiserDayStarted e) {
      return new State(s.advertiser(), s.dailyBudgetMicros(), s.zoneId(), s.revision(), s.paused(), e.day(), Map.of());
    } else if (event instanceof CampaignBudgetReturned e) {
      Map<String, Held> grants = new HashMap<>(s.grants());
      grants.put(e.campaignId(), new Held(e.campaignTotalMicros(), e.seq()));
      return new State(s.advertiser(), s.dailyBudgetMicros(), s.zoneId(), s.revision(), s.paused(), s.day(),
          Map.copyOf(grants));
    } else if (event instanceof CampaignBudgetGranted e) {
      Map<String, Held> grants = new HashMap<>(s.grants());
      grants.put(e.campaignId(), new Held(e.campaignTotalMicros(), e.seq()));
      return new State(s.advertiser(), s.dailyBudgetMicros(), s.zoneId(), s.revision(), s.paused(), s.day(),
          Map.copyOf(grants));
    }
    throw new IllegalStateException("unknown event " + event);
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

  // ---- helpers ----

  private void publishCatalog(State state) {
    long revision = state.revision();
    CatalogUpdate update = new CatalogUpdate(CatalogUpdate.Kind.ADVERTISER, advertiserId, revision, view(state)
        .toByteArray());
    ctx.pipeToSelf(publisher.publish(update, ""), (ok, err) -> {
      if (err != null) {
        ctx.getLog().warn("Catalog write of advertiser {} revision {} failed, retrying in 1s: {}", advertiserId,
            revision, err.toString());
        ctx.scheduleOnce(Duration.ofSeconds(1), ctx.getSelf(), new Publish(revision));
      }
      return CatalogWritten.INSTANCE;
    });
  }

  /** The catalog and API view of an advertiser. */
  static AdvertiserView view(State s) {
    return view(s.advertiser(), s.paused(), s.revision(), s.day(),
        s.grants().entrySet().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey,
            e -> e.getValue().grantedMicros())));
  }

  public static AdvertiserView view(Summary s) {
    return view(s.advertiser(), s.paused(), s.revision(), s.day(), s.grants());
  }

  private static AdvertiserView view(byte[] advertiser, boolean paused, long revision, String day,
      Map<String, Long> grants) {
    AdvertiserView.Builder b = AdvertiserView.newBuilder()
        .setStatus(paused ? CampaignStatus.PAUSED : CampaignStatus.ACTIVE)
        .setRevision(revision)
        .setBudgetDay(day);
    try {
      b.setAdvertiser(Advertiser.parseFrom(advertiser));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored advertiser is unreadable", e);
    }
    long total = 0;
    for (Map.Entry<String, Long> e : new TreeMap<>(grants).entrySet()) {
      total += e.getValue();
      b.addGrants(CampaignGrant.newBuilder().setCampaignId(e.getKey()).setGrantedMicros(e.getValue()));
    }
    return b.setGrantedMicros(total).build();
  }

  private Summary summary(State s) {
    Map<String, Long> grants = new HashMap<>();
    s.grants().forEach((k, v) -> grants.put(k, v.grantedMicros()));
    return new Summary(advertiserId, s.advertiser(), s.dailyBudgetMicros(), s.zoneId(), s.revision(), s.paused(),
        s.day(), Map.copyOf(grants));
  }

  private CampaignAllowance allowance(State s, String campaignId) {
    return new CampaignAllowance(advertiserId, s.day(), s.held(campaignId).grantedMicros(), s.paused());
  }

  private State rolledView(State s) {
    String today = today(s);
    return today.compareTo(s.day()) > 0 ? applyEvent(s, new AdvertiserDayStarted(advertiserId, today)) : s;
  }

  private String today(State s) {
    return LocalDate.now(clock.withZone(ZoneId.of(s.zoneId()))).toString();
  }

  private String notFound() {
    return "NOT_FOUND: advertiser " + advertiserId;
  }
}
