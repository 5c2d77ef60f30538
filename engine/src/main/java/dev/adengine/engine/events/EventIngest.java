package dev.adengine.engine.events;

import dev.adengine.engine.Failures;
import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventAck;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventType;
import dev.adengine.api.v1.Rejection;
import dev.adengine.engine.auction.OnlineStats;
import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.budget.CampaignLedger;
import dev.adengine.engine.catalog.Catalog;
import dev.adengine.engine.catalog.CatalogSnapshot;
import dev.adengine.engine.grpc.Validation;
import dev.adengine.engine.budget.LedgerService;
import dev.adengine.persistence.ChargeRepository;
import dev.adengine.persistence.ChargeRepository.Charge;
import dev.adengine.persistence.EventRepository;
import dev.adengine.persistence.EventRepository.StoredEvent;
import dev.adengine.engine.experiment.ServingExperiments;
import dev.adengine.engine.lifecycle.FeatureLogWriter;
import dev.adengine.engine.lifecycle.ModelHealth;
import dev.adengine.experiments.stats.ArmStats;
import dev.adengine.persistence.ServedRepository.ServedAd;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Billable events: each event of a batch is checked on its own (fields, ad, campaign, that the ad
 * was served for the request, the click window), then stored with an insert-if-absent keyed by
 * event id. Only the first store of an id is accepted and charged; any repeat is a duplicate. The
 * ack is sent only after every accepted event is stored, so an acknowledged event is never lost.
 *
 * <p>Charging: CPM is charged at the win (by the bid path, with a row in the durable charge log);
 * a CPC click claims the reservation of the node that served the ad (over the cluster when another
 * node served it), writes its charge row, booked against that node, before the ack, and only then
 * turns the claim into that node's spend: spend is booked when, and only when, the charge is durable.
 */
public final class EventIngest {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EventIngest.class);
  private final Catalog catalog;
  private final ServedAds served;
  private final EventRepository events;
  private final ChargeRepository charges;
  private final ClickCharges clickCharges;
  private final LedgerService.Router router;
  private final Members members;
  private final BudgetLedger ledger;
  private final OnlineStats stats;
  private final Duration clickWindow;
  private final List<Duration> servedRetryDelays;
  private final String nodeId;
  private final Clock clock;
  private final ServingExperiments experiments;
  /** Joins each new impression and click to the feature log by (request, ad). */
  private final FeatureLogWriter featureLog;
  /** The model guardrail's counts of accepted impressions and clicks. */
  private final ModelHealth health;

  /**
   * @param experiments the per-arm recorders: a new impression or click of an ad served to a user
   *     in experiment arms counts toward each of them (and a CPC click's charge as their revenue)
   */
  public EventIngest(Catalog catalog, ServedAds served, EventRepository events, ChargeRepository charges,
      ClickCharges clickCharges, LedgerService.Router router, BudgetLedger ledger, OnlineStats stats, Duration clickWindow,
      List<Duration> servedRetryDelays, String nodeId, Clock clock, Members members, ServingExperiments experiments,
      FeatureLogWriter featureLog, ModelHealth health) {
    this.featureLog = featureLog;
    this.health = health;
    this.experiments = experiments;
    this.servedRetryDelays = List.copyOf(servedRetryDelays);
    this.members = members;
    this.charges = charges;
    this.clickCharges = clickCharges;
    this.router = router;
    this.catalog = catalog;
    this.served = served;
    this.events = events;
    this.ledger = ledger;
    this.stats = stats;
    this.clickWindow = clickWindow;
    this.nodeId = nodeId;
    this.clock = clock;
  }

  /** What this node knows of a node incarnation (by its id, which carries its cluster uid). */
  public enum Liveness {
    /** A cluster member (not downed): its ledger holds its reservations. */
    MEMBER,
    /** Known to be dead (downed, removed or replaced): its ledger is gone, its grant will be settled. */
    GONE,
    /** Neither: this node's view cannot tell (it has not joined yet, or the member is new to it). */
    UNKNOWN
  }

  @FunctionalInterface
  public interface Members {
    Liveness liveness(String nodeId);
  }

  /** The serving node's fate is not known here: the click may be retried, here later or elsewhere. */
  static final class ServingNodeUnknown extends RuntimeException {
    ServingNodeUnknown(String node) {
      super("cannot tell whether node " + node + " is alive", null, false, false);
    }
  }

  private enum Outcome {
    ACCEPTED,
    DUPLICATE,
    REJECTED
  }

  private record Result(int index, String eventId, Outcome outcome, String reason) {}

  public CompletionStage<EventAck> report(EventBatch batch) {
    CatalogSnapshot snapshot = catalog.current();
    List<CompletableFuture<Result>> results = new ArrayList<>(batch.getEventsCount());
    for (int i = 0; i < batch.getEventsCount(); i++) {
      results.add(one(i, batch.getEvents(i), snapshot).toCompletableFuture());
    }
    return CompletableFuture.allOf(results.toArray(new CompletableFuture[0])).thenApply(v -> {
      EventAck.Builder ack = EventAck.newBuilder();
      int accepted = 0;
      int duplicate = 0;
      for (CompletableFuture<Result> f : results) {
        Result r = f.join(); // ok to block: every future is complete here (allOf)
        switch (r.outcome()) {
          case ACCEPTED -> accepted++;
          case DUPLICATE -> duplicate++;
          case REJECTED -> ack.addRejections(
              Rejection.newBuilder().setIndex(r.index()).setEventId(r.eventId()).setReason(r.reason()));
        }
      }
      return ack.setAccepted(accepted).setDuplicate(duplicate).setRejected(ack.getRejectionsCount()).build();
    });
  }

  private CompletionStage<Result> one(int index, Event e, CatalogSnapshot snapshot) {
    String problem = Validation.event(e);
    if (problem != null) {
      return done(index, e, Outcome.REJECTED, problem);
    }
    CatalogSnapshot.AdLocation location = snapshot.ad(e.getAdId());
    if (location == null) {
      return done(index, e, Outcome.REJECTED, "unknown ad");
    }
    if (!location.campaign().def().campaignId().equals(e.getCampaignId())) {
      return done(index, e, Outcome.REJECTED, "ad does not belong to campaign");
    }
    return served.find(e.getRequestId(), e.getAdId())
        .thenCompose(found -> found.isPresent() ? CompletableFuture.completedFuture(found) : findAgainLater(e, 0))
        .thenCompose(found -> afterServedLookup(index, e, found))
        .exceptionally(err -> new Result(index, e.getEventId(), Outcome.REJECTED,
            "temporarily unable to verify or store the event, retry: " + Failures.rootName(err)));
  }

  /**
   * The serving node writes its served record just after its bid reply (with other bids' records,
   * within {@code adengine.served.write-linger}), so an event that reaches another node within
   * milliseconds of the win may not see it yet, nor one whose serving node stalled right after its
   * reply (a collection, starved cores, a SIGSTOP): look again after each of {@code
   * served-retry-delays} (without blocking) before calling the ad not shown. An event for an ad
   * that was not shown is answered that much later.
   */
  private CompletionStage<Optional<ServedAd>> findAgainLater(Event e, int attempt) {
    if (attempt >= servedRetryDelays.size()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    Executor later = CompletableFuture.delayedExecutor(servedRetryDelays.get(attempt).toMillis(), TimeUnit.MILLISECONDS);
    return CompletableFuture.supplyAsync(() -> null, later)
        .thenCompose(x -> served.find(e.getRequestId(), e.getAdId()))
        .thenCompose(found -> found.isPresent() ? CompletableFuture.completedFuture(found)
            : findAgainLater(e, attempt + 1));
  }

  private CompletionStage<Result> afterServedLookup(int index, Event e, Optional<ServedAd> found) {
    if (found.isEmpty()) {
      return done(index, e, Outcome.REJECTED, "ad not shown for request");
    }
    ServedAd s = found.get();
    if (!s.campaignId().equals(e.getCampaignId())) {
      return done(index, e, Outcome.REJECTED, "ad not shown for campaign");
    }
    boolean click = e.getType() == EventType.CLICK;
    if (click && clock.millis() - s.servedAtMs() > clickWindow.toMillis()) {
      return done(index, e, Outcome.REJECTED, "click window closed");
    }
    long charge = click && "CPC".equals(s.pricing()) ? s.priceMicros() : 0L;
    if (charge == 0) {
      return store(index, e, s, 0L);
    }
    // A CPC click: the node that served the ad claims its reservation first, so a click is never
    // charged without the serving node's allowance paying for it. Only then is the click stored
    // and charged, and only once the charge is durable does the claim become spend (commit): a
    // store that fails leaves the money reserved, for a retry of the click to commit, or for the
    // serving node to release when the click window ends without a charge in the charge log.
    // Claims and commits are idempotent per click event id.
    // If the store fails past the claim, the click may be stored without its charge row (the event
    // insert is the commit point): the repair writes it, and commits, if the event is stored.
    return conversion(s, e).thenCompose(outcome -> switch (outcome) {
      case CONVERTED -> store(index, e, s, charge).thenApply(stored -> {
        commit(s, e);
        return stored;
      }).whenComplete((stored, err) -> {
        if (err != null) {
          clickCharges.repairLater(chargeRow(s, e, charge), e.getEventId(), s.servedAtMs() + clickWindow.toMillis(),
              () -> commit(s, e));
        }
      });
      case ALREADY_CLICKED -> done(index, e, Outcome.REJECTED, "ad already clicked for request");
      case NO_RESERVATION -> done(index, e, Outcome.REJECTED, "click window closed");
    });
  }

  /**
   * Asks the serving node to convert its reservation. A serving node known to be dead has lost its
   * ledger and its grant will be settled from the durable charge log, so the click is booked
   * against it as converted. Only a node known dead: one that is merely absent from this node's
   * view (this node has not joined yet, or the other has only just joined) may be alive, and a
   * charge booked against a live node without its ledger converting would never reach its books.
   * A member that does not answer, or a node of unknown fate, may still be spending: the click is
   * not accepted now (the caller may retry).
   */
  private CompletionStage<BudgetLedger.Conversion> conversion(ServedAd s, Event e) {
    if (nodeId.equals(s.node())) {
      return CompletableFuture.completedFuture(ledger.claimClick(e.getRequestId(), e.getAdId(), e.getEventId()));
    }
    return switch (members.liveness(s.node())) {
      case GONE -> {
        LOG.debug("Click {} of campaign {} booked against dead node {} ({} micros)", e.getEventId(), s.campaignId(),
            s.node(), s.priceMicros());
        yield CompletableFuture.completedFuture(BudgetLedger.Conversion.CONVERTED);
      }
      case MEMBER -> router.convert(s.node(), e.getRequestId(), e.getAdId(), e.getEventId());
      case UNKNOWN -> {
        LOG.debug("Click {} of campaign {} not accepted: this node cannot tell yet whether node {} is alive",
            e.getEventId(), s.campaignId(), s.node());
        yield CompletableFuture.failedFuture(new ServingNodeUnknown(s.node()));
      }
    };
  }

  /** The click's charge is stored: its claim on the serving node's reservation becomes spend. */
  private void commit(ServedAd s, Event e) {
    if (nodeId.equals(s.node())) {
      ledger.commitClick(e.getRequestId(), e.getAdId(), e.getEventId());
    } else if (members.liveness(s.node()) == Liveness.MEMBER) {
      router.commit(s.node(), e.getRequestId(), e.getAdId(), e.getEventId());
    }
    // A dead node's grant is settled from the charge log; one of unknown fate finds the charge
    // there itself when its claim expires.
  }

  private CompletionStage<Result> store(int index, Event e, ServedAd s, long charge) {
    boolean click = e.getType() == EventType.CLICK;
    StoredEvent stored = new StoredEvent(e.getEventId(), e.getRequestId(), e.getAdId(), e.getCampaignId(),
        e.getType().name(), e.getTimeMs(), charge, nodeId);
    return events.insertIfAbsent(stored).thenCompose(isNew -> {
      if (isNew) {
        count(e, click);
        countForExperiments(s, click, charge);
        featureLog.label(click, e.getRequestId(), e.getAdId(), s.servedAtMs(), e.getTimeMs());
        if (click) {
          health.click();
        } else {
          health.impression();
        }
      }
      if (charge == 0) {
        return done(index, e, isNew ? Outcome.ACCEPTED : Outcome.DUPLICATE, null);
      }
      // The charge row is durable before the ack. It is idempotent, so a duplicate writes it again:
      // that completes a first attempt that stored the event but failed before the charge.
      return charges.record(chargeRow(s, e, charge))
          .thenApply(v -> new Result(index, e.getEventId(), isNew ? Outcome.ACCEPTED : Outcome.DUPLICATE, null));
    });
  }

  /** The charge-log row of a CPC click, booked against the node that served the ad. */
  private Charge chargeRow(ServedAd s, Event e, long charge) {
    String day = s.day() != null ? s.day() : LocalDate.ofInstant(Instant.ofEpochMilli(s.servedAtMs()),
        ZoneOffset.UTC).toString();
    return new Charge(s.campaignId(), day, s.node(), Charge.clickId(e.getEventId()), charge, "CLICK", clock.millis());
  }

  private void count(Event e, boolean click) {
    CampaignLedger l = ledger.getOrCreate(e.getCampaignId());
    if (click) {
      stats.click(e.getAdId());
      l.countClick();
    } else {
      stats.impression(e.getAdId());
      l.countImpression();
    }
  }

  /** Adds a new event to the stats of each experiment arm the served ad's user was in. */
  private void countForExperiments(ServedAd s, boolean click, long charge) {
    if (s.experimentArms() == null) {
      return;
    }
    for (String pair : s.experimentArms().split(",")) {
      int slash = pair.indexOf('/');
      if (slash <= 0) {
        continue;
      }
      ArmStats.Recorder r = experiments.recorder(pair.substring(0, slash), pair.substring(slash + 1));
      if (click) {
        r.recordClicks(1);
        if (charge > 0) {
          r.recordRequestRevenue(charge);
          r.recordSpend(charge);
        }
      } else {
        r.recordImpressions(1);
      }
    }
  }

  private static CompletionStage<Result> done(int index, Event e, Outcome outcome, String reason) {
    return CompletableFuture.completedFuture(new Result(index, e.getEventId(), outcome, reason));
  }
}
