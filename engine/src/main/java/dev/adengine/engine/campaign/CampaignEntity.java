package dev.adengine.engine.campaign;

import com.fasterxml.jackson.annotation.JsonCreator;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.Pacing;
import dev.adengine.engine.CborSerializable;
import dev.adengine.engine.budget.PacingPolicy;
import dev.adengine.engine.catalog.CampaignDef;
import dev.adengine.engine.catalog.CatalogUpdate;
import dev.adengine.engine.features.CampaignSnapshot;
import dev.adengine.engine.features.DecayedCounter;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
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
 * A campaign: the source of truth for its definition, status and daily budget, sharded across
 * the cluster and event-sourced into Cassandra. Never on the bid path.
 *
 * <p>Commands and what they persist:
 * <ul>
 *   <li>{@link Upsert} -> {@link CampaignUpserted}: a new definition (revision + 1), pushed to
 *       every node's catalog replica and written to the catalog table.
 *   <li>{@link Pause} / {@link Resume} -> {@link CampaignPaused} / {@link CampaignResumed}: same
 *       propagation; every node stops serving on the next replica update.
 *   <li>{@link SyncNode}: a node reports its absolute totals for the budget day (spend,
 *       reservations) and may ask for more allowance -> {@link BudgetDayStarted} when the day in the
 *       campaign's time zone has changed, {@link NodeSynced} when the totals moved,
 *       {@link AllowanceGranted} when allowance is granted.
 *   <li>{@link Get}: no event.
 * </ul>
 *
 * <p>Budget invariant, by construction: the sum of all allowances granted for a day never exceeds
 * the daily budget, and a node never lets spend + reservations exceed its allowance. Reports carry
 * absolute totals with a per-node sequence number, so a retried or reordered report is harmless.
 */
public final class CampaignEntity
    extends EventSourcedBehaviorWithEnforcedReplies<CampaignEntity.Command, CampaignEntity.Event, CampaignEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Campaign");

  /** Under a pacing ceiling, a grant is at least one grant share / this (see {@link #onSync}). */
  static final int MIN_GRANT_DIVISOR = 4;

  /** What the entity needs from its node: where to push catalog changes, the clock, grant policy. */
  /**
   * {@code lease}: how long a node may spend a grant without syncing; {@code settleAfter}: how long
   * after a node's last sync its grant is settled from the durable charge log (lease + click window
   * + grace: by then it can neither spend nor be charged for a click any more).
   */
  public record Deps(CatalogPublisher publisher, Clock clock, double grantShare, PacingPolicy pacing,
      AdvertiserBudget advertiserBudget, Consumer<CampaignSnapshot> snapshots, Duration snapshotInterval,
      Duration featureHalfLife, Duration lease, Duration settleAfter, Duration settleInterval,
      ChargeSums charges) {

    /** Deps for tests of grant logic that do not look at snapshots or settlement. */
    public static Deps of(CatalogPublisher publisher, Clock clock, double grantShare, PacingPolicy pacing,
        AdvertiserBudget advertiserBudget) {
      return new Deps(publisher, clock, grantShare, pacing, advertiserBudget, s -> { }, Duration.ofSeconds(1),
          Duration.ofHours(1), Duration.ofDays(365), Duration.ofDays(3650), Duration.ofHours(1),
          (c, d, n) -> java.util.concurrent.CompletableFuture.completedFuture(0L));
    }
  }

  /** The durable charges booked against a node for a campaign's day (the charge log in Cassandra). */
  @FunctionalInterface
  public interface ChargeSums {
    java.util.concurrent.CompletionStage<Long> sumForNode(String campaignId, String day, String node);
  }

  public static void init(ActorSystem<?> system, Deps deps) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), deps)));
  }

  public static Behavior<Command> create(String campaignId, Deps deps) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new CampaignEntity(ctx, timers, campaignId, deps)));
  }

  private final ActorContext<Command> ctx;
  private final String campaignId;
  private final Deps deps;
  private final TimerScheduler<Command> timers;
  /**
   * Online features, derived (not persisted): decayed counts fed by each fresh node sync, rebuilt
   * from the day's persisted totals on recovery.
   */
  private final DecayedCounter impressions;
  private final DecayedCounter clicks;
  private final DecayedCounter spend;
  private long lastEventMillis;
  /** Not persisted: when each node last synced (set to the recovery time for nodes known then). */
  private final Map<String, Long> lastSeen = new HashMap<>();
  private final java.util.Set<String> settling = new java.util.HashSet<>();
  private Campaign parsed;
  private long parsedRevision = -1;
  /** Not persisted: at most one ask to the advertiser at a time per incarnation. */
  private boolean advertiserAskInFlight;
  private long lastAdvertiserSeq;

  private CampaignEntity(ActorContext<Command> ctx, TimerScheduler<Command> timers, String campaignId, Deps deps) {
    super(PersistenceId.of(ENTITY_KEY.name(), campaignId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1));
    this.ctx = ctx;
    this.timers = timers;
    this.campaignId = campaignId;
    this.deps = deps;
    long now = deps.clock().millis();
    this.impressions = new DecayedCounter(deps.featureHalfLife(), now);
    this.clicks = new DecayedCounter(deps.featureHalfLife(), now);
    this.spend = new DecayedCounter(deps.featureHalfLife(), now);
  }

  // ---- protocol ----

  public sealed interface Command extends CborSerializable {}

  /**
   * Create or replace the definition. {@code campaign} is the validated API message's bytes. With
   * {@code expectedRevision} above 0 the entity must be at that revision, else the command is refused
   * ({@link #CONFLICT} and the current revision) and nothing changes: an optimistic lock for
   * read-modify-write clients.
   */
  public record Upsert(byte[] campaign, String advertiserId, long dailyBudgetMicros, String zoneId,
      long expectedRevision, ActorRef<StatusReply<Summary>> replyTo) implements Command {
    /** An unconditional upsert. */
    public Upsert(byte[] campaign, String advertiserId, long dailyBudgetMicros, String zoneId,
        ActorRef<StatusReply<Summary>> replyTo) {
      this(campaign, advertiserId, dailyBudgetMicros, zoneId, 0, replyTo);
    }
  }

  /** Prefix of the error an {@link Upsert} gets when the entity is not at its expected revision. */
  public static final String CONFLICT = "ABORTED: ";

  public record Pause(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  public record Resume(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  public record Get(ActorRef<StatusReply<Summary>> replyTo) implements Command {}

  /**
   * A node's absolute totals for {@code day}; {@code seq} increases with every report of that node
   * incarnation. {@code wantMore} asks for another grant; {@code returnMicros} gives back allowance
   * the node has already taken off its own ledger (a fragment smaller than one win).
   */
  public record SyncNode(String node, String day, long seq, long spentMicros, long reservedMicros,
      long impressions, long clicks, boolean wantMore, long returnMicros, ActorRef<StatusReply<Grant>> replyTo)
      implements Command {

    public SyncNode(String node, String day, long seq, long spentMicros, long reservedMicros, long impressions,
        long clicks, boolean wantMore, ActorRef<StatusReply<Grant>> replyTo) {
      this(node, day, seq, spentMicros, reservedMicros, impressions, clicks, wantMore, 0L, replyTo);
    }
  }

  /** Internal: the advertiser answered an ask for more of its cap (or the ask failed). */
  private record AdvertiserAnswered(AdvertiserEntity.CampaignAllowance allowance, long seq, String error)
      implements Command {}

  /** Internal: time to look for silent nodes whose grant can be settled. */
  private enum SettleTick implements Command {
    INSTANCE
  }

  /** Internal: the durable charges of a silent node were summed (or the query failed). */
  private record Settle(String node, String day, long spentMicros, String error) implements Command {}

  /** Internal: time to publish this campaign's snapshot to every node. */
  private enum PublishSnapshot implements Command {
    INSTANCE
  }

  /** Internal: write the catalog row of this revision now. */
  private record Publish(long revision) implements Command {}

  /** Internal: the catalog write succeeded. */
  private enum CatalogWritten implements Command {
    INSTANCE
  }

  /** What the entity tells a node after a sync: its allowance for the day and the campaign's state. */
  /** {@code leaseUntilMillis}: the node may spend this allowance until then (0 once its grant is settled). */
  public record Grant(String campaignId, String day, long allowanceMicros, boolean paused, long dailyBudgetMicros,
      long leaseUntilMillis) implements CborSerializable {}

  /** A read model of the campaign for the admin API. */
  public record Summary(String campaignId, byte[] campaign, boolean paused, long revision, String day,
      long dailyBudgetMicros, long spentMicros, long reservedMicros, Map<String, NodeGrant> nodes)
      implements CborSerializable {
    public long remainingMicros() {
      return Math.max(0, dailyBudgetMicros - spentMicros - reservedMicros);
    }
  }

  // ---- events (a schema: renaming one needs a migration) ----

  public sealed interface Event extends CborSerializable {}

  public record CampaignUpserted(String campaignId, byte[] campaign, String advertiserId, long dailyBudgetMicros,
      String zoneId) implements Event {}

  public record CampaignPaused(String campaignId) implements Event {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public CampaignPaused {}
  }

  public record CampaignResumed(String campaignId) implements Event {
    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public CampaignResumed {}
  }

  public record BudgetDayStarted(String campaignId, String day) implements Event {}

  public record NodeSynced(String campaignId, String node, String day, long seq, long spentMicros,
      long reservedMicros, long impressions, long clicks) implements Event {}

  /** {@code seq} is the node's sync that asked for it: a repeat of that sync grants nothing more. */
  public record AllowanceGranted(String campaignId, String node, String day, long seq, long amountMicros,
      long allowanceAfterMicros) implements Event {}

  /** A node gave back {@code amountMicros} of its allowance (a fragment it could not spend). */
  public record AllowanceReturned(String campaignId, String node, String day, long seq, long amountMicros,
      long allowanceAfterMicros) implements Event {}

  /**
   * A node went silent for longer than lease + click window: its grant is closed at what its
   * durable charges add up to, and the rest of its allowance returns to the campaign.
   */
  public record NodeSettled(String campaignId, String node, String day, long spentMicros) implements Event {}

  /** This campaign gave {@code amountMicros} of its advertiser's cap back (its nodes did not need it). */
  public record AdvertiserAllowanceReturned(String campaignId, String day, long seq, long amountMicros)
      implements Event {}

  /** The advertiser now lets this campaign hold {@code totalMicros} of its cap for {@code day}. */
  public record AdvertiserAllowanceReceived(String campaignId, String day, long seq, long totalMicros)
      implements Event {}

  // ---- state ----

  /** What one node holds of the day's budget. */
  /** {@code settled}: the node's grant was closed at its durable charges; it gets nothing more today. */
  public record NodeGrant(long allowanceMicros, long spentMicros, long reservedMicros, long impressions,
      long clicks, long seq, boolean settled) implements CborSerializable {
    static final NodeGrant NONE = new NodeGrant(0, 0, 0, 0, 0, -1, false);

    public NodeGrant(long allowanceMicros, long spentMicros, long reservedMicros, long impressions, long clicks,
        long seq) {
      this(allowanceMicros, spentMicros, reservedMicros, impressions, clicks, seq, false);
    }

    NodeGrant withGrant(long allowance, long grantSeq) {
      return new NodeGrant(allowance, spentMicros, reservedMicros, impressions, clicks, Math.max(seq, grantSeq),
          settled);
    }
  }

  /**
   * {@code advertiserAllowance}: what the advertiser lets this campaign hold today (its nodes are
   * never granted more in total); {@code advertiserSeq}: the last ask it answered.
   */
  public record State(byte[] campaign, String advertiserId, long dailyBudgetMicros, String zoneId, boolean paused,
      long revision, String day, Map<String, NodeGrant> nodes, long advertiserAllowance, long advertiserSeq)
      implements CborSerializable {

    static State empty() {
      return new State(null, null, 0, "UTC", false, 0, "", Map.of(), 0, 0);
    }

    boolean exists() {
      return campaign != null;
    }

    long granted() {
      long sum = 0;
      for (NodeGrant g : nodes.values()) {
        sum += g.allowanceMicros();
      }
      return sum;
    }

    long spent() {
      long sum = 0;
      for (NodeGrant g : nodes.values()) {
        sum += g.spentMicros();
      }
      return sum;
    }

    long reserved() {
      long sum = 0;
      for (NodeGrant g : nodes.values()) {
        sum += g.reservedMicros();
      }
      return sum;
    }

    NodeGrant node(String node) {
      return nodes.getOrDefault(node, NodeGrant.NONE);
    }

    State withNode(String node, NodeGrant grant) {
      Map<String, NodeGrant> copy = new HashMap<>(nodes);
      copy.put(node, grant);
      return new State(campaign, advertiserId, dailyBudgetMicros, zoneId, paused, revision, day, Map.copyOf(copy),
          advertiserAllowance, advertiserSeq);
    }

    State withDefinition(byte[] c, String adv, long budget, String zone) {
      return new State(c, adv, budget, zone, paused, revision + 1, day, nodes, advertiserAllowance, advertiserSeq);
    }

    State withPaused(boolean p) {
      return new State(campaign, advertiserId, dailyBudgetMicros, zoneId, p, revision + 1, day, nodes,
          advertiserAllowance, advertiserSeq);
    }

    State withDay(String d) {
      return new State(campaign, advertiserId, dailyBudgetMicros, zoneId, paused, revision, d, Map.of(), 0,
          advertiserSeq);
    }

    State withAdvertiserAllowanceReduced(long amount, long seq) {
      return new State(campaign, advertiserId, dailyBudgetMicros, zoneId, paused, revision, day, nodes,
          advertiserAllowance - amount, Math.max(advertiserSeq, seq));
    }

    State withAdvertiserAllowance(long total, long seq) {
      return new State(campaign, advertiserId, dailyBudgetMicros, zoneId, paused, revision, day, nodes,
          Math.max(advertiserAllowance, total), Math.max(advertiserSeq, seq));
    }
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  // ---- command handlers, in call order ----

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, Event, State> b = newCommandHandlerWithReplyBuilder();
    b.forAnyState()
        .onCommand(Upsert.class, this::onUpsert)
        .onCommand(Pause.class, (s, c) -> onPauseResume(s, true, c.replyTo()))
        .onCommand(Resume.class, (s, c) -> onPauseResume(s, false, c.replyTo()))
        .onCommand(Get.class, this::onGet)
        .onCommand(SyncNode.class, this::onSync)
        .onCommand(CatalogWritten.class, (s, c) -> Effect().noReply())
        .onCommand(AdvertiserAnswered.class, this::onAdvertiserAnswered)
        .onCommand(SettleTick.class, (s, c) -> onSettleTick(s))
        .onCommand(Settle.class, this::onSettle)
        .onCommand(PublishSnapshot.class, (s, c) -> {
          if (s.exists()) {
            deps.snapshots().accept(snapshot(rolledView(s)));
          }
          return Effect().noReply();
        })
        .onCommand(Publish.class, (s, c) -> {
          if (s.revision() == c.revision()) {
            publishCatalog(s);
          }
          return Effect().noReply();
        });
    return b.build();
  }

  private ReplyEffect<Event, State> onUpsert(State state, Upsert cmd) {
    if (cmd.expectedRevision() > 0 && state.revision() != cmd.expectedRevision()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(CONFLICT + "campaign " + campaignId + " is at revision "
          + state.revision() + ", not " + cmd.expectedRevision() + " (changed meanwhile: read it again)"));
    }
    if (state.exists() && !state.advertiserId().equals(cmd.advertiserId())) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          "campaign.advertiser_id: campaign " + campaignId + " belongs to advertiser " + state.advertiserId()));
    }
    return Effect()
        .persist(new CampaignUpserted(campaignId, cmd.campaign(), cmd.advertiserId(), cmd.dailyBudgetMicros(),
            cmd.zoneId()))
        .thenRun(s -> {
          publishCatalog(s);
          if (deps.advertiserBudget().capped() && s.advertiserAllowance() == 0) {
            askAdvertiser(s, 2 * grantUnit(s)); // in hand before the first node asks
          }
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(summary(s)));
  }

  private ReplyEffect<Event, State> onAdvertiserAnswered(State state, AdvertiserAnswered msg) {
    advertiserAskInFlight = false;
    if (msg.error() != null) {
      ctx.getLog().debug("Advertiser ask of campaign {} failed: {}", campaignId, msg.error());
      return Effect().noReply();
    }
    AdvertiserEntity.CampaignAllowance a = msg.allowance();
    String today = today(state);
    // A grant for another day than today's (a race at midnight) is not used.
    if (!a.day().equals(today)) {
      return Effect().noReply();
    }
    List<Event> events = new ArrayList<>();
    State view = state;
    if (today.compareTo(state.day()) > 0) {
      BudgetDayStarted started = new BudgetDayStarted(campaignId, today);
      events.add(started);
      view = applyEvent(view, started);
    }
    if (a.grantedMicros() > view.advertiserAllowance()) {
      events.add(new AdvertiserAllowanceReceived(campaignId, today, msg.seq(), a.grantedMicros()));
    }
    if (events.isEmpty()) {
      return Effect().noReply();
    }
    return Effect().persist(events).thenNoReply();
  }

  private ReplyEffect<Event, State> onPauseResume(State state, boolean pause, ActorRef<StatusReply<Summary>> replyTo) {
    if (!state.exists()) {
      return Effect().reply(replyTo, StatusReply.error(notFound()));
    }
    if (state.paused() == pause) {
      return Effect().reply(replyTo, StatusReply.success(summary(state)));
    }
    Event event = pause ? new CampaignPaused(campaignId) : new CampaignResumed(campaignId);
    return Effect().persist(event).thenRun(this::publishCatalog)
        .thenReply(replyTo, s -> StatusReply.success(summary(s)));
  }

  private ReplyEffect<Event, State> onGet(State state, Get cmd) {
    if (!state.exists()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(notFound()));
    }
    return Effect().reply(cmd.replyTo(), StatusReply.success(summary(rolledView(state))));
  }

  private ReplyEffect<Event, State> onSync(State state, SyncNode cmd) {
    if (!state.exists()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(notFound()));
    }
    List<Event> events = new ArrayList<>();
    String today = today(state);
    State view = state;
    // The budget day only moves forward (ISO dates compare as strings): a time-zone change that
    // puts "today" behind the current day must not reopen a day and its budget.
    if (today.compareTo(state.day()) > 0) {
      BudgetDayStarted started = new BudgetDayStarted(campaignId, today);
      events.add(started);
      view = view.withDay(today);
    }
    String day = view.day();
    NodeGrant held = view.node(cmd.node());
    if (held.settled()) {
      // Settled for silence: this node's grant is closed for the day (its lease ran out long ago).
      List<Event> only = events;
      return only.isEmpty() ? Effect().reply(cmd.replyTo(), StatusReply.success(grant(view, cmd.node())))
          : Effect().persist(only).thenReply(cmd.replyTo(), st -> StatusReply.success(grant(st, cmd.node())));
    }
    lastSeen.put(cmd.node(), deps.clock().millis());
    // Only a fresh sync (a sequence number not seen from this node yet) may move totals or ask for
    // more: a retried or duplicated sync is answered with the current grant and changes nothing.
    boolean fresh = cmd.seq() > held.seq();
    if (fresh && cmd.day().equals(day)) {
      boolean moved = cmd.spentMicros() != held.spentMicros() || cmd.reservedMicros() != held.reservedMicros()
          || cmd.impressions() != held.impressions() || cmd.clicks() != held.clicks() || held.seq() < 0;
      if (moved) {
        NodeSynced synced = new NodeSynced(campaignId, cmd.node(), day, cmd.seq(), cmd.spentMicros(),
            cmd.reservedMicros(), cmd.impressions(), cmd.clicks());
        events.add(synced);
        countFeatures(held, synced);
        view = applyEvent(view, synced);
      }
    }
    if (fresh && cmd.returnMicros() > 0) {
      NodeGrant g = view.node(cmd.node());
      // Only what the node can no longer spend: its allowance minus its (just reported) spend and
      // reservations. The node took it off its own ledger before sending this.
      long amount = Math.min(cmd.returnMicros(), g.allowanceMicros() - g.spentMicros() - g.reservedMicros());
      if (amount > 0) {
        AllowanceReturned returned = new AllowanceReturned(campaignId, cmd.node(), day, cmd.seq(), amount,
            g.allowanceMicros() - amount);
        events.add(returned);
        view = applyEvent(view, returned);
      }
    }
    long toAdvertiser = 0;
    long returnSeq = 0;
    if (!events.isEmpty() && events.get(events.size() - 1) instanceof AllowanceReturned
        && deps.advertiserBudget().capped()) {
      // A node gave allowance back (it was idle, or held a fragment): whatever this campaign now
      // holds of its advertiser's cap beyond what its nodes hold goes back to the advertiser, for
      // its other campaigns. A node that needs more later makes the campaign ask again.
      long inHand = view.advertiserAllowance() - view.granted();
      if (inHand > 0) {
        toAdvertiser = inHand;
        returnSeq = nextAdvertiserSeq(view);
        AdvertiserAllowanceReturned back = new AdvertiserAllowanceReturned(campaignId, day, returnSeq, toAdvertiser);
        events.add(back);
        view = applyEvent(view, back);
      }
    }
    if (fresh && cmd.wantMore() && !view.paused()) {
      long want = grantUnit(view);
      // Pacing's ceiling, but never below one grant: a paced campaign can always win a little,
      // even just after midnight when the curve's share is still smaller than one bid.
      long paced = deps.pacing().grantCeiling(pacing(view), view.dailyBudgetMicros(),
          deps.clock().instant().atZone(ZoneId.of(view.zoneId())));
      long ceiling = Math.min(view.dailyBudgetMicros(), Math.max(paced, want));
      long available = Math.min(ceiling, advertiserLimit(view)) - view.granted();
      long amount = Math.min(want, available);
      NodeGrant asking = view.node(cmd.node());
      long nodeFree = asking.allowanceMicros() - asking.spentMicros() - asking.reservedMicros();
      if (nodeFree + amount < maxCharge(view)) {
        // A grant that still leaves the node unable to afford one win would only strand money there.
        amount = 0;
      }
      // While pacing holds the ceiling below the budget, the ceiling creeps up with the clock: do
      // not hand out every sliver of it (one event per ask, asks every keeper tick), wait until a
      // quarter grant has come free. The last of the budget is granted whatever its size.
      if (ceiling < view.dailyBudgetMicros() && amount < Math.max(1, want / MIN_GRANT_DIVISOR)) {
        amount = 0;
      }
      if (amount > 0) {
        long after = view.node(cmd.node()).allowanceMicros() + amount;
        AllowanceGranted granted = new AllowanceGranted(campaignId, cmd.node(), day, cmd.seq(), amount, after);
        events.add(granted);
        view = applyEvent(view, granted);
      }
      // Keep one grant of the advertiser's cap in hand, so the next node ask need not wait for it.
      if (deps.advertiserBudget().capped() && view.advertiserAllowance() - view.granted() < want
          && view.advertiserAllowance() < ceiling) {
        askAdvertiser(view, Math.min(2 * want, ceiling - view.advertiserAllowance()));
      }
    }
    if (events.isEmpty()) {
      return Effect().reply(cmd.replyTo(), StatusReply.success(grant(view, cmd.node())));
    }
    long back = toAdvertiser;
    long backSeq = returnSeq;
    return Effect().persist(events)
        .thenRun(s -> {
          if (back > 0) {
            deps.advertiserBudget().giveBack(s.advertiserId(), campaignId, s.day(), backSeq, back)
                .whenComplete((ok, err) -> {
                  if (err != null) {
                    ctx.getLog().debug("Returning {} of advertiser cap for campaign {} failed (cap under-used): {}",
                        back, campaignId, err.toString());
                  }
                });
          }
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(grant(s, cmd.node())));
  }

  // ---- event handler ----

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(CampaignEntity::applyEvent);
  }

  static State applyEvent(State state, Event event) {
    if (event instanceof CampaignUpserted e) {
      return state.withDefinition(e.campaign(), e.advertiserId(), e.dailyBudgetMicros(), e.zoneId());
    } else if (event instanceof CampaignPaused) {
      return state.withPaused(true);
    } else if (event instanceof CampaignResumed) {
      return state.withPaused(false);
    } else if (event instanceof BudgetDayStarted e) {
      return state.withDay(e.day());
    } else if (event instanceof NodeSynced e) {
      NodeGrant held = state.node(e.node());
      return state.withNode(e.node(), new NodeGrant(held.allowanceMicros(), e.spentMicros(), e.reservedMicros(),
          e.impressions(), e.clicks(), e.seq()));
    } else if (event instanceof AllowanceReturned e) {
      return state.withNode(e.node(), state.node(e.node()).withGrant(e.allowanceAfterMicros(), e.seq()));
    } else if (event instanceof NodeSettled e) {
      NodeGrant held = state.node(e.node());
      return state.withNode(e.node(), new NodeGrant(e.spentMicros(), e.spentMicros(), 0, held.impressions(),
          held.clicks(), held.seq(), true));
    } else if (event instanceof AdvertiserAllowanceReturned e) {
      return state.withAdvertiserAllowanceReduced(e.amountMicros(), e.seq());
    } else if (event instanceof AdvertiserAllowanceReceived e) {
      return state.withAdvertiserAllowance(e.totalMicros(), e.seq());
    } else if (event instanceof AllowanceGranted e) {
      return state.withNode(e.node(), state.node(e.node()).withGrant(e.allowanceAfterMicros(), e.seq()));
    }
    throw new IllegalStateException("unknown event " + event);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          // Re-write the catalog row on every start: heals a write lost to a crash between
          // persisting an event and writing the row. Idempotent (written at the revision).
          if (state.exists()) {
            publishCatalog(state);
            long now = deps.clock().millis();
            long imps = 0;
            long clk = 0;
            for (NodeGrant g : rolledView(state).nodes().values()) {
              imps += g.impressions();
              clk += g.clicks();
            }
            impressions.add(imps, now);
            clicks.add(clk, now);
          }
          timers.startTimerWithFixedDelay(PublishSnapshot.INSTANCE, deps.snapshotInterval());
          timers.startTimerWithFixedDelay(SettleTick.INSTANCE, deps.settleInterval());
        })
        .build();
  }

  // ---- helpers ----

  private void publishCatalog(State state) {
    long revision = state.revision();
    byte[] payload = CampaignViews.catalogPayload(state);
    CatalogUpdate update = new CatalogUpdate(CatalogUpdate.Kind.CAMPAIGN, campaignId, revision, payload);
    ctx.pipeToSelf(deps.publisher().publish(update, state.advertiserId()), (ok, err) -> {
      if (err != null) {
        ctx.getLog().warn("Catalog write of campaign {} revision {} failed, retrying in 1s: {}", campaignId, revision,
            err.toString());
        ctx.scheduleOnce(Duration.ofSeconds(1), ctx.getSelf(), new Publish(revision));
      }
      return CatalogWritten.INSTANCE;
    });
  }

  private Summary summary(State s) {
    return new Summary(campaignId, s.campaign(), s.paused(), s.revision(), s.day(), s.dailyBudgetMicros(), s.spent(),
        s.reserved(), s.nodes());
  }

  /** The state as of today: yesterday's grants and spend do not count against today's budget. */
  private State rolledView(State s) {
    String today = today(s);
    return today.compareTo(s.day()) > 0 ? s.withDay(today) : s;
  }

  private Grant grant(State s, String node) {
    NodeGrant g = s.node(node);
    long leaseUntil = g.settled() ? 0 : deps.clock().millis() + deps.lease().toMillis();
    return new Grant(campaignId, s.day(), g.allowanceMicros(), s.paused(), s.dailyBudgetMicros(), leaseUntil);
  }

  /** Starts settling every node of today that has been silent for longer than settleAfter. */
  private ReplyEffect<Event, State> onSettleTick(State state) {
    long now = deps.clock().millis();
    for (Map.Entry<String, NodeGrant> e : state.nodes().entrySet()) {
      String node = e.getKey();
      long seen = lastSeen.computeIfAbsent(node, k -> now);
      if (!e.getValue().settled() && !settling.contains(node) && now - seen > deps.settleAfter().toMillis()) {
        settling.add(node);
        String day = state.day();
        ctx.pipeToSelf(deps.charges().sumForNode(campaignId, day, node),
            (sum, err) -> new Settle(node, day, sum == null ? 0 : sum, err == null ? null : err.toString()));
      }
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onSettle(State state, Settle msg) {
    settling.remove(msg.node());
    NodeGrant held = state.node(msg.node());
    long seen = lastSeen.getOrDefault(msg.node(), 0L);
    boolean stillSilent = deps.clock().millis() - seen > deps.settleAfter().toMillis();
    if (msg.error() != null || !msg.day().equals(state.day()) || held.settled() || !stillSilent) {
      if (msg.error() != null) {
        ctx.getLog().warn("Settling node {} of campaign {} failed, will retry: {}", msg.node(), campaignId,
            msg.error());
      }
      return Effect().noReply();
    }
    ctx.getLog().info("Settling silent node {} of campaign {} at {} micros of durable charges (it held {})",
        msg.node(), campaignId, msg.spentMicros(), held.allowanceMicros());
    return Effect().persist(new NodeSettled(campaignId, msg.node(), msg.day(), msg.spentMicros())).thenNoReply();
  }

  private String today(State s) {
    return LocalDate.now(deps.clock().withZone(ZoneId.of(s.zoneId()))).toString();
  }

  /** Feeds the decayed counters with what a node's fresh sync adds to its previous totals. */
  private void countFeatures(NodeGrant before, NodeSynced after) {
    long now = deps.clock().millis();
    long newImps = Math.max(0, after.impressions() - before.impressions());
    long newClicks = Math.max(0, after.clicks() - before.clicks());
    long newSpend = Math.max(0, after.spentMicros() - before.spentMicros());
    if (newImps > 0 || newClicks > 0) {
      lastEventMillis = now;
    }
    impressions.add(newImps, now);
    clicks.add(newClicks, now);
    spend.add(newSpend, now);
  }

  private CampaignSnapshot snapshot(State s) {
    long now = deps.clock().millis();
    // A decayed sum with half-life h, divided by h / ln 2, is the recent rate per millisecond.
    double meanLifeHours = deps.featureHalfLife().toMillis() / Math.log(2) / 3_600_000.0;
    return new CampaignSnapshot(campaignId, s.day(), s.dailyBudgetMicros(), s.spent(), s.reserved(), s.paused(),
        impressions.valueAt(now), clicks.valueAt(now), spend.valueAt(now) / meanLifeHours, lastEventMillis, now);
  }

  /** One grant: a share of the budget, but never less than one win's largest charge (its bid). */
  private long grantUnit(State s) {
    return Math.max(Math.max(1, maxCharge(s)), (long) Math.ceil(s.dailyBudgetMicros() * deps.grantShare()));
  }

  /** The most one win can cost: the bid per click (CPC) or per impression (CPM, rounded up). */
  private long maxCharge(State s) {
    Campaign c = definition(s);
    return CampaignDef.maxCharge(c.getPricing(), c.getBidMicros());
  }

  /** The stored definition, parsed once per revision (node syncs ask for it many times a second). */
  private Campaign definition(State s) {
    if (parsed == null || parsedRevision != s.revision()) {
      parsed = CampaignViews.parse(s.campaign());
      parsedRevision = s.revision();
    }
    return parsed;
  }

  /** What the advertiser lets this campaign grant its nodes in total today. */
  private long advertiserLimit(State s) {
    return deps.advertiserBudget().capped() ? s.advertiserAllowance() : Long.MAX_VALUE;
  }

  private void askAdvertiser(State s, long wantMicros) {
    if (advertiserAskInFlight || wantMicros <= 0) {
      return;
    }
    advertiserAskInFlight = true;
    long seq = nextAdvertiserSeq(s);
    ctx.pipeToSelf(deps.advertiserBudget().request(s.advertiserId(), campaignId, seq, wantMicros),
        (ok, err) -> new AdvertiserAnswered(ok, seq, err == null ? null : err.toString()));
  }

  /** Increases with every ask or give-back to the advertiser, across restarts. */
  private long nextAdvertiserSeq(State s) {
    long seq = Math.max(Math.max(lastAdvertiserSeq, s.advertiserSeq()) + 1, deps.clock().millis());
    lastAdvertiserSeq = seq;
    return seq;
  }

  /** The campaign's pacing mode, from its stored definition (unspecified means EVEN). */
  private Pacing pacing(State s) {
    Pacing p = definition(s).getPacing();
    return p == Pacing.PACING_UNSPECIFIED || p == Pacing.UNRECOGNIZED ? Pacing.EVEN : p;
  }

  private String notFound() {
    return "NOT_FOUND: campaign " + campaignId;
  }

  /**
   * Pushes a catalog change to every node and writes it to the catalog table; completes with
   * {@link Done} (never null: the result is piped to an entity that may have stopped by then, and a
   * null dead letter fails Pekko's DeadLetterListener) once the write is durable.
   */
  public interface CatalogPublisher {
    java.util.concurrent.CompletionStage<Done> publish(CatalogUpdate update, String parentId);

    /** A {@link Function} form of the publisher, for tests. */
    static CatalogPublisher of(Function<CatalogUpdate, java.util.concurrent.CompletionStage<Done>> f) {
      return (u, p) -> f.apply(u);
    }
  }
}
