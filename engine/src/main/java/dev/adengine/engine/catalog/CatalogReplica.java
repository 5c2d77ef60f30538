package dev.adengine.engine.catalog;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.AdvertiserView;
import dev.adengine.api.v1.CampaignStatus;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.persistence.CatalogRepository;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * Keeps this node's catalog replica: loads it from Cassandra at start (and again every
 * resync-interval, healing any update the topic lost), applies {@link CatalogUpdate}s pushed by the
 * entities (advertisers as AdvertiserView, campaigns as CampaignView), and publishes a freshly indexed {@link CatalogSnapshot} to {@link Catalog}. Updates that
 * arrive close together are applied in one rebuild. Newer revisions always win, whatever the
 * arrival order. A rebuild keeps the entries of the campaigns that did not change, and a resync
 * that brings nothing new publishes no snapshot.
 */
public final class CatalogReplica extends AbstractBehavior<CatalogReplica.Command> {

  public sealed interface Command {}

  private record Updated(CatalogUpdate update) implements Command {}

  private enum Flush implements Command {
    INSTANCE
  }

  private enum Resync implements Command {
    INSTANCE
  }

  private record Loaded(List<CatalogRepository.CatalogRow> advertisers, List<CatalogRepository.CatalogRow> campaigns)
      implements Command {}

  private record LoadFailed(Throwable cause) implements Command {}

  public static Behavior<Command> create(Catalog catalog, CatalogRepository repository,
      ActorRef<Topic.Command<CatalogUpdate>> topic, Duration resyncInterval, Duration coalesce, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new CatalogReplica(ctx, timers, catalog, repository, topic, resyncInterval, coalesce, clock)));
  }

  private final TimerScheduler<Command> timers;
  private final Catalog catalog;
  private final CatalogRepository repository;
  private final Duration resyncInterval;
  private final Duration coalesce;
  private final Clock clock;
  private final Map<String, CampaignView> campaigns = new HashMap<>();
  private final Map<String, Long> campaignRevisions = new HashMap<>();
  private final Map<String, AdvertiserEntry> advertisers = new HashMap<>();
  private final List<CatalogUpdate> pending = new ArrayList<>();
  private Map<String, Built> built = new HashMap<>();
  private boolean loading;

  private CatalogReplica(ActorContext<Command> ctx, TimerScheduler<Command> timers, Catalog catalog,
      CatalogRepository repository, ActorRef<Topic.Command<CatalogUpdate>> topic, Duration resyncInterval,
      Duration coalesce, Clock clock) {
    super(ctx);
    this.timers = timers;
    this.catalog = catalog;
    this.repository = repository;
    this.resyncInterval = resyncInterval;
    this.coalesce = coalesce;
    this.clock = clock;
    ActorRef<CatalogUpdate> adapter = ctx.messageAdapter(CatalogUpdate.class, Updated::new);
    topic.tell(Topic.subscribe(adapter));
    startLoad();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Updated.class, this::onUpdated)
        .onMessageEquals(Flush.INSTANCE, this::onFlush)
        .onMessageEquals(Resync.INSTANCE, this::onResync)
        .onMessage(Loaded.class, this::onLoaded)
        .onMessage(LoadFailed.class, this::onLoadFailed)
        .build();
  }

  private void startLoad() {
    loading = true;
    CompletionStage<List<CatalogRepository.CatalogRow>> advs = repository.loadAdvertisers();
    CompletionStage<List<CatalogRepository.CatalogRow>> camps = advs.thenCompose(a -> repository.loadCampaigns());
    getContext().pipeToSelf(advs.thenCombine(camps, Loaded::new), (ok, err) -> ok != null ? ok : new LoadFailed(err));
  }

  private Behavior<Command> onUpdated(Updated msg) {
    pending.add(msg.update());
    if (!timers.isTimerActive(Flush.INSTANCE)) {
      timers.startSingleTimer(Flush.INSTANCE, Flush.INSTANCE, coalesce);
    }
    return this;
  }

  private Behavior<Command> onFlush() {
    boolean changed = false;
    for (CatalogUpdate u : pending) {
      changed |= apply(u.kind(), u.id(), u.revision(), u.payload());
    }
    pending.clear();
    if (changed) {
      publish(false);
    }
    return this;
  }

  private Behavior<Command> onResync() {
    if (!loading) {
      startLoad();
    }
    return this;
  }

  /**
   * A load from Cassandra: at start, and every resync-interval. A resync that finds nothing newer
   * than the replica holds publishes nothing (the bid path keeps its snapshot and what it resolved
   * in it).
   */
  private Behavior<Command> onLoaded(Loaded msg) {
    loading = false;
    int changed = 0;
    for (CatalogRepository.CatalogRow row : msg.advertisers()) {
      changed += apply(CatalogUpdate.Kind.ADVERTISER, row.id(), row.revision(), row.payload()) ? 1 : 0;
    }
    for (CatalogRepository.CatalogRow row : msg.campaigns()) {
      changed += apply(CatalogUpdate.Kind.CAMPAIGN, row.id(), row.revision(), row.payload()) ? 1 : 0;
    }
    if (changed > 0 || !catalog.loaded()) {
      publish(true);
      getContext().getLog().info("Catalog replica loaded: {} advertisers, {} campaigns ({} newer than held)",
          advertisers.size(), campaigns.size(), changed);
    } else {
      getContext().getLog().debug("Catalog resync: {} advertisers, {} campaigns, nothing newer than held",
          advertisers.size(), campaigns.size());
    }
    timers.startSingleTimer(Resync.INSTANCE, Resync.INSTANCE, resyncInterval);
    return this;
  }

  private Behavior<Command> onLoadFailed(LoadFailed msg) {
    loading = false;
    getContext().getLog().warn("Catalog load from Cassandra failed, retrying in 1s: {}", msg.cause().toString());
    timers.startSingleTimer(Resync.INSTANCE, Resync.INSTANCE, Duration.ofSeconds(1));
    return this;
  }

  /** Applies one change if it is newer than what the replica holds; returns whether it was. */
  private boolean apply(CatalogUpdate.Kind kind, String id, long revision, byte[] payload) {
    try {
      if (kind == CatalogUpdate.Kind.ADVERTISER) {
        AdvertiserEntry held = advertisers.get(id);
        if (held != null && held.revision() >= revision) {
          return false;
        }
        AdvertiserView v = AdvertiserView.parseFrom(payload);
        Advertiser a = v.getAdvertiser();
        advertisers.put(id, new AdvertiserEntry(id, a.getName(), a.getDailyBudgetMicros(), a.getTimeZone(),
            v.getStatus() == CampaignStatus.PAUSED, revision));
        return true;
      }
      Long held = campaignRevisions.get(id);
      if (held != null && held >= revision) {
        return false;
      }
      campaigns.put(id, CampaignView.parseFrom(payload));
      campaignRevisions.put(id, revision);
      return true;
    } catch (InvalidProtocolBufferException e) {
      getContext().getLog().error("Unreadable catalog payload for {} {}: {}", kind, id, e.getMessage());
      return false;
    }
  }

  /**
   * Publishes a snapshot of what the replica holds. A campaign whose revision and advertiser time
   * zone did not change since the last snapshot keeps its entry (the same objects): the bid path's
   * resolved lookups and the CPU's caches hold on to them, and a rebuild allocates only what changed.
   */
  private void publish(boolean fromFullLoad) {
    Map<String, CampaignEntry> entries = new HashMap<>(campaigns.size() * 2);
    Map<String, Built> next = new HashMap<>(campaigns.size() * 2);
    for (Map.Entry<String, CampaignView> e : campaigns.entrySet()) {
      CampaignView view = e.getValue();
      AdvertiserEntry adv = advertisers.get(view.getCampaign().getAdvertiserId());
      String zone = adv == null ? "" : adv.timeZone();
      long revision = campaignRevisions.get(e.getKey());
      Built b = built.get(e.getKey());
      if (b == null || b.entry().revision() != revision || !b.advertiserZone().equals(zone)) {
        b = new Built(zone, new CampaignEntry(CatalogCodec.toDef(view.getCampaign(), zone),
            view.getStatus() == CampaignStatus.PAUSED, revision));
      }
      next.put(e.getKey(), b);
      entries.put(e.getKey(), b.entry());
    }
    built = next;
    catalog.publish(new CatalogSnapshot(entries, advertisers, clock.millis()), fromFullLoad);
  }

  /** A campaign's entry in the last snapshot, with the advertiser time zone it was built with. */
  private record Built(String advertiserZone, CampaignEntry entry) {}
}
