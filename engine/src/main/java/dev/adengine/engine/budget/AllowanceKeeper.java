package dev.adengine.engine.budget;

import dev.adengine.engine.campaign.CampaignEntity;
import dev.adengine.engine.catalog.Catalog;
import dev.adengine.engine.catalog.CampaignEntry;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Keeps this node's budget ledgers topped up and reported, off the bid path.
 *
 * <p>Every tick it looks at each active campaign in the catalog replica: when the node's free
 * allowance falls below {@code refillBelow} of one grant or two of the campaign's largest charges,
 * or the ledger changed and was not reported for {@code reportInterval}, it sends the campaign
 * entity a {@link CampaignEntity.SyncNode} with the node's absolute totals, asking for more
 * allowance when needed, and applies the grant in the reply. At most one sync per campaign is in
 * flight, and at most {@code maxInFlight} overall. A failed or slow sync only delays the next
 * top-up: the bid path keeps using what it holds. It also releases CPC reservations whose click
 * window has ended, and gives back allowance the node cannot use: all of a paused campaign's free
 * allowance, an idle campaign's beyond one win, and a fragment too small for one win.
 *
 * <p>Between reports, a sync that only renews the lease (every third of it) carries the totals the
 * node last sent, not its current ones: the entity sees nothing new and persists nothing. So the
 * journal takes at most one {@link CampaignEntity.NodeSynced} per active campaign and node every
 * {@code reportInterval}, however short the lease. Asks for more allowance and give-backs always
 * carry the current totals (the entity checks a give-back against them).
 */
public final class AllowanceKeeper extends AbstractBehavior<AllowanceKeeper.Command> {

  public sealed interface Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private record Synced(String campaignId, long sentVersion, boolean wantedMore, CampaignEntity.Grant grant,
      Throwable error) implements Command {}

  /**
   * {@code lease}: how long a grant may be spent without a sync; the keeper renews at a third of it.
   * {@code askBackoffMax}: the longest wait after asks for more that got nothing (doubling from one
   * tick).
   */
  public record Settings(String nodeId, double refillBelow, double grantShare, Duration interval,
      Duration reportInterval, Duration askBackoffMax, Duration askTimeout, int maxInFlight, Duration lease,
      Duration idleAfter) {}

  public static Behavior<Command> create(Settings settings, Catalog catalog, BudgetLedger ledger, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.interval());
      return new AllowanceKeeper(ctx, settings, catalog, ledger, clock);
    }));
  }

  private static final class Track {
    boolean inFlight;
    long reportedVersion = -1;
    /** When the current totals were last sent (a report), and when any sync was (a renewal at least). */
    long lastReportMillis;
    long lastSyncMillis;
    /** The totals last sent: what a renewal between reports carries. */
    CampaignLedger.Totals lastSent;
    long notBeforeMillis;
    /** Asks in a row that wanted more and got nothing: each one doubles the wait before the next. */
    int emptyAsks;
    /** When this node's spend or reservations for the campaign last changed. */
    long lastActiveMillis;
    long lastSeenVersion = -1;
    /** Gave allowance back for idleness; no new asks until the campaign is active here again. */
    boolean resting;
  }

  private final Settings settings;
  private final Catalog catalog;
  private final BudgetLedger ledger;
  private final Clock clock;
  private final ClusterSharding sharding;
  private final Map<String, Track> tracks = new HashMap<>();
  private final AtomicLong seq = new AtomicLong();
  private int inFlight;

  private AllowanceKeeper(ActorContext<Command> ctx, Settings settings, Catalog catalog, BudgetLedger ledger,
      Clock clock) {
    super(ctx);
    this.settings = settings;
    this.catalog = catalog;
    this.ledger = ledger;
    this.clock = clock;
    this.sharding = ClusterSharding.get(ctx.getSystem());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(Synced.class, this::onSynced)
        .build();
  }

  private Behavior<Command> onTick() {
    long now = clock.millis();
    ledger.expireReservations(now);
    for (CampaignEntry entry : catalog.current().campaigns().values()) {
      if (inFlight >= settings.maxInFlight()) {
        break;
      }
      String id = entry.def().campaignId();
      Track track = tracks.computeIfAbsent(id, k -> new Track());
      if (track.inFlight || now < track.notBeforeMillis) {
        continue;
      }
      CampaignLedger.Totals totals = ledger.getOrCreate(id).totals();
      long free = totals.allowance() - totals.spent() - totals.reserved();
      boolean wantMore = !entry.paused() && needsRefill(free, entry.def().dailyBudgetMicros(),
          entry.def().maxChargeMicros(), settings.grantShare(), settings.refillBelow());
      boolean unreported = totals.version() != track.reportedVersion
          && now - track.lastReportMillis >= settings.reportInterval().toMillis();
      boolean renew = track.lastSyncMillis > 0 && now - track.lastSyncMillis >= settings.lease().toMillis() / 3;
      if (totals.version() != track.lastSeenVersion) {
        track.lastSeenVersion = totals.version();
        track.lastActiveMillis = now;
        track.resting = false;
      }
      if (track.resting && free >= entry.def().maxChargeMicros()) {
        wantMore = false;
      }
      long giveBack = 0;
      long maxCharge = entry.def().maxChargeMicros();
      if (entry.paused() && free > 0) {
        // Paused: the bid path no longer serves it, so nothing here can spend its allowance. Give
        // all of it back (the entity returns its share of the advertiser's cap to the advertiser's
        // other campaigns); open reservations stay until a click converts them or their window ends.
        giveBack = ledger.getOrCreate(id).takeBackAbove(0);
        totals = ledger.getOrCreate(id).totals();
      } else if (now - track.lastActiveMillis >= settings.idleAfter().toMillis() && free > maxCharge) {
        // Idle here (no win, no click for idle-after): keep one win's worth, give the rest back so
        // that nodes where the campaign does win, or its advertiser's other campaigns, can use it.
        giveBack = ledger.getOrCreate(id).takeBackAbove(maxCharge);
        totals = ledger.getOrCreate(id).totals();
        wantMore = false;
        track.lastActiveMillis = now;
        track.resting = giveBack > 0;
      } else if (track.emptyAsks > 0 && free > 0 && free < entry.def().maxChargeMicros()) {
        // The entity had nothing more to give, and what this node holds cannot pay for one win:
        // give the fragment back so that it can be pooled with others into a usable grant.
        giveBack = ledger.getOrCreate(id).takeBackFragment(entry.def().maxChargeMicros());
        totals = ledger.getOrCreate(id).totals();
        wantMore = false;
      }
      // A renewal repeats what the entity was last told, so that it has nothing to persist and the
      // change since goes in the next report; with nothing told yet today, it is a report.
      boolean nothingToldToday = track.lastSent == null || !track.lastSent.day().equals(totals.day());
      if (wantMore || unreported || giveBack > 0 || (renew && nothingToldToday)) {
        track.lastReportMillis = now;
        track.lastSent = totals;
        sync(id, totals, wantMore, giveBack, track, now);
      } else if (renew) {
        sync(id, track.lastSent, false, 0, track, now);
      }
    }
    return this;
  }

  private void sync(String campaignId, CampaignLedger.Totals totals, boolean wantMore, long giveBack, Track track,
      long now) {
    track.inFlight = true;
    track.lastSyncMillis = now;
    inFlight++;
    long s = seq.incrementAndGet();
    getContext().askWithStatus(
        CampaignEntity.Grant.class,
        sharding.entityRefFor(CampaignEntity.ENTITY_KEY, campaignId),
        settings.askTimeout(),
        replyTo -> new CampaignEntity.SyncNode(settings.nodeId(), totals.day(), s, totals.spent(), totals.reserved(),
            totals.impressions(), totals.clicks(), wantMore, giveBack, replyTo),
        (grant, err) -> new Synced(campaignId, totals.version(), wantMore, grant, err));
  }

  private Behavior<Command> onSynced(Synced msg) {
    inFlight--;
    Track track = tracks.computeIfAbsent(msg.campaignId(), k -> new Track());
    track.inFlight = false;
    long now = clock.millis();
    if (msg.error() != null) {
      // Back off; the bid path keeps serving from the allowance it holds.
      track.notBeforeMillis = now + 1000;
      getContext().getLog().debug("Budget sync for campaign {} failed: {}", msg.campaignId(), msg.error().toString());
      return this;
    }
    CampaignLedger l = ledger.getOrCreate(msg.campaignId());
    long before = l.totals().allowance();
    ledger.applyGrant(msg.campaignId(), msg.grant().day(), msg.grant().allowanceMicros(),
        msg.grant().leaseUntilMillis());
    track.reportedVersion = msg.sentVersion();
    CampaignLedger.Totals after = l.totals();
    if (msg.wantedMore() && after.allowance() == before) {
      // Nothing granted (pacing holds the ceiling, or the budget is leased out): back off
      // exponentially from one tick to askBackoffMax instead of asking every tick.
      track.emptyAsks = Math.min(track.emptyAsks + 1, 16);
      long wait = Math.min(settings.askBackoffMax().toMillis(),
          settings.interval().toMillis() << Math.min(track.emptyAsks - 1, 10));
      track.notBeforeMillis = now + wait;
    } else if (after.allowance() > before) {
      track.emptyAsks = 0;
    }
    return this;
  }

  /**
   * The refill rule: ask for more when the free allowance is under {@code refillBelow} of one grant
   * ({@code grantShare} of the budget) or under two of the campaign's largest charges (its bid): a
   * grant may be only a few bids deep, and the node must not run dry before the top-up arrives.
   */
  static boolean needsRefill(long freeMicros, long dailyBudgetMicros, long maxChargeMicros, double grantShare,
      double refillBelow) {
    long grantUnit = Math.max(1, (long) Math.ceil(dailyBudgetMicros * grantShare));
    double threshold = Math.max(refillBelow * grantUnit, 2.0 * maxChargeMicros);
    return freeMicros < threshold;
  }
}
