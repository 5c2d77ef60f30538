package dev.adengine.engine.metrics;

import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.NoBidReason;
import dev.adengine.api.v1.Placement;
import dev.adengine.engine.auction.BidHandler;
import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.features.FeatureStore;
import dev.adengine.engine.grpc.GrpcErrors;
import dev.adengine.engine.health.NodeState;
import dev.adengine.engine.lifecycle.DriftMonitor;
import dev.adengine.engine.lifecycle.FeatureLogWriter;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.DoubleConsumer;
import kamon.Kamon;
import kamon.metric.Counter;
import kamon.metric.Gauge;
import kamon.metric.Histogram;
import kamon.metric.MeasurementUnit;
import kamon.metric.Timer;
import kamon.tag.TagSet;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.GrpcServiceException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's metrics (the catalog: docs/metrics.md), recorded with Kamon and tagged {@code node}
 * with the node id (Kamon is JVM-global; tests run several nodes in one JVM).
 *
 * <p>Hot paths touch only instruments resolved before: the bid path's timers, no-bid and gRPC
 * counters sit in arrays indexed by enum number, each resolved once on first use (one volatile
 * read afterwards); no tag map or string is built per request, and nothing here takes a lock on
 * the bid path (Kamon's counters are {@code LongAdder}s, its histograms lock-free). Gauges, and the
 * counters that mirror counts the engine keeps anyway (spend, the feature log's fates), are sampled
 * every {@code adengine.metrics.sample-interval} by a task on the actor system's scheduler.
 */
public final class EngineMetrics implements BidHandler.Meter, FeatureLogWriter.ScoreMeter, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EngineMetrics.class);

  /** A bid's fate, as the latency histogram's {@code outcome} label names it. */
  public enum Outcome {
    /** OK with at least one winner. */
    FILLED,
    /** OK without a winner. */
    EMPTY,
    /** INVALID_ARGUMENT: the request was wrong. */
    INVALID,
    /** Any other non-OK status. */
    ERROR;

    final String label = name().toLowerCase(Locale.ROOT);
  }

  /** The gRPC services whose responses are counted ({@code service} label). */
  public static final String AUCTION_SERVICE = "AuctionService";
  public static final String EVENT_SERVICE = "EventService";
  public static final String ADMIN_SERVICE = "AdminService";

  private static final Status.Code[] CODES = Status.Code.values();
  /** Placement numbers 0..n-1 by name; index n for a number the API does not know. */
  private static final String[] PLACEMENTS;

  static {
    List<String> names = new ArrayList<>();
    for (Placement p : Placement.values()) {
      if (p != Placement.UNRECOGNIZED) {
        while (names.size() <= p.getNumber()) {
          names.add(null);
        }
        names.set(p.getNumber(), p.name());
      }
    }
    names.add("UNKNOWN");
    PLACEMENTS = names.toArray(new String[0]);
  }

  private final String nodeId;
  private final TagSet node;
  private final List<Runnable> removals = new ArrayList<>();

  private final AtomicReferenceArray<Timer> latency = new AtomicReferenceArray<>(PLACEMENTS.length * 4);
  private final AtomicReferenceArray<Counter> noBids;
  private final Counter partial;
  private final ResponseCounters bidResponses;
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Counter>> armRequests = new ConcurrentHashMap<>();
  /** pCTR recorders by model version (live, shadow): the histogram's, in ppm. */
  private final ConcurrentHashMap<String, DoubleConsumer> livePctr = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, DoubleConsumer> shadowPctr = new ConcurrentHashMap<>();

  private final Counter spendCpc;
  private final Counter spendCpm;
  private final Gauge allowance;
  private final Gauge reserved;
  private final Gauge campaignsWithAllowance;
  private final Gauge snapshotAge;
  private final Gauge snapshotsStale;
  private final Gauge ready;
  private final Counter logWritten;
  private final Counter logDropped;
  private final Counter logRateLimited;
  private final Counter logFailed;
  private final Gauge stage2Compiled;
  private final Counter stage2Fallbacks;
  /** PSI gauges by model version and feature; the sampler's thread only. */
  private final Map<String, Map<String, Gauge>> psi = new HashMap<>();

  private volatile Cancellable sampler;

  public EngineMetrics(String nodeId) {
    this.nodeId = nodeId;
    this.node = TagSet.of("node", nodeId);
    int reasons = 0;
    for (NoBidReason r : NoBidReason.values()) {
      if (r != NoBidReason.UNRECOGNIZED) {
        reasons = Math.max(reasons, r.getNumber() + 1);
      }
    }
    this.noBids = new AtomicReferenceArray<>(reasons);
    this.partial = counter("adengine.bid.partial", node);
    this.bidResponses = new ResponseCounters(AUCTION_SERVICE, "Bid");
    this.spendCpc = counter("adengine.spend.micros", node.withTag("pricing", "CPC"));
    this.spendCpm = counter("adengine.spend.micros", node.withTag("pricing", "CPM"));
    this.allowance = gauge("adengine.budget.allowance.micros", MeasurementUnit.none(), node);
    this.reserved = gauge("adengine.budget.reserved.micros", MeasurementUnit.none(), node);
    this.campaignsWithAllowance = gauge("adengine.budget.campaigns_with_allowance", MeasurementUnit.none(), node);
    this.snapshotAge = gauge("adengine.feature.snapshot.age", MeasurementUnit.time().seconds(), node);
    this.snapshotsStale = gauge("adengine.feature.snapshots.stale", MeasurementUnit.none(), node);
    this.ready = gauge("adengine.node.ready", MeasurementUnit.none(), node);
    this.logWritten = counter("adengine.featurelog.records", node.withTag("result", "written"));
    this.logDropped = counter("adengine.featurelog.records", node.withTag("result", "dropped"));
    this.logRateLimited = counter("adengine.featurelog.records", node.withTag("result", "rate_limited"));
    this.logFailed = counter("adengine.featurelog.records", node.withTag("result", "failed"));
    this.stage2Compiled = gauge("adengine.model.stage2_compiled", MeasurementUnit.none(), node);
    this.stage2Fallbacks = counter("adengine.model.stage2_fallbacks", node);
  }

  public String nodeId() {
    return nodeId;
  }

  // ---- the bid path ----

  /**
   * A Bid call answered with {@code code} after {@code nanos}: its latency under (placement,
   * outcome), its gRPC status, and whether the answer was partial. {@code response} is null unless
   * {@code code} is OK.
   */
  public void bidAnswered(int placementNumber, long nanos, BidResponse response, Status.Code code) {
    Outcome outcome;
    if (code == Status.Code.OK) {
      outcome = response.getWinnersCount() > 0 ? Outcome.FILLED : Outcome.EMPTY;
      if (response.getPartial()) {
        partial.increment();
      }
    } else {
      outcome = code == Status.Code.INVALID_ARGUMENT ? Outcome.INVALID : Outcome.ERROR;
    }
    int p = placementNumber >= 0 && placementNumber < PLACEMENTS.length - 1 && PLACEMENTS[placementNumber] != null
        ? placementNumber : PLACEMENTS.length - 1;
    int slot = p * 4 + outcome.ordinal();
    Timer t = latency.get(slot);
    if (t == null) {
      t = timer(PLACEMENTS[p], outcome);
      latency.set(slot, t);
    }
    t.record(nanos);
    bidResponses.count(code);
  }

  private Timer timer(String placement, Outcome outcome) {
    Timer t = Kamon.timer("adengine.bid.latency").withTags(node.withTag("placement", placement)
        .withTag("outcome", outcome.label));
    synchronized (removals) {
      removals.add(t::remove);
    }
    return t;
  }

  @Override
  public void noBids(NoBidReason reason, int count) {
    int i = reason.getNumber();
    Counter c = noBids.get(i);
    if (c == null) {
      c = counter("adengine.bid.no_bids", node.withTag("reason", reason.name()));
      noBids.set(i, c);
    }
    c.increment(count);
  }

  @Override
  public void armRequest(String experimentId, String arm) {
    ConcurrentHashMap<String, Counter> arms = armRequests.get(experimentId);
    if (arms == null) {
      arms = armRequests.computeIfAbsent(experimentId, k -> new ConcurrentHashMap<>());
    }
    Counter c = arms.get(arm);
    if (c == null) {
      c = arms.computeIfAbsent(arm, a -> counter("adengine.experiment.requests",
          node.withTag("experiment", experimentId).withTag("arm", a)));
    }
    c.increment();
  }

  /** Counts the gRPC responses of one service method; each status code's counter resolved once. */
  public final class ResponseCounters {
    private final TagSet tags;
    private final AtomicReferenceArray<Counter> byCode = new AtomicReferenceArray<>(CODES.length);

    ResponseCounters(String service, String method) {
      this.tags = node.withTag("service", service).withTag("method", method);
    }

    public void count(Status.Code code) {
      int i = code.ordinal();
      Counter c = byCode.get(i);
      if (c == null) {
        c = counter("adengine.grpc.responses", tags.withTag("code", code.name()));
        byCode.set(i, c);
      }
      c.increment();
    }

    public void count(Throwable error) {
      count(GrpcErrors.codeOf(error));
    }
  }

  /** The counters of a gRPC method other than Bid (resolve once, at wrapping time). */
  public ResponseCounters responses(String service, String method) {
    return new ResponseCounters(service, method);
  }

  // ---- the feature-log writer's thread ----

  @Override
  public DoubleConsumer pctr(String modelVersion, boolean shadow) {
    ConcurrentHashMap<String, DoubleConsumer> byVersion = shadow ? shadowPctr : livePctr;
    DoubleConsumer recorder = byVersion.get(modelVersion);
    if (recorder == null) {
      recorder = byVersion.computeIfAbsent(modelVersion, v -> {
        Histogram h = Kamon.histogram("adengine.model.pctr", MeasurementUnit.none())
            .withTags(node.withTag("model", v).withTag("role", shadow ? "shadow" : "live"));
        synchronized (removals) {
          removals.add(h::remove);
        }
        return p -> h.record(Math.round(Math.min(1.0, Math.max(0.0, p)) * 1_000_000));
      });
    }
    return recorder;
  }

  // ---- sampled ----

  /** What the sampler reads. */
  public record Sources(ActorSystem<?> system, BudgetLedger ledger, FeatureStore features, Duration staleAfter,
      DriftMonitor drift, FeatureLogWriter featureLog, dev.adengine.engine.ranking.ModelHolder models) {}

  /** Starts sampling {@code sources} every {@code interval} on the system's scheduler; stops with the system. */
  public void startSampling(Sources sources, Duration interval) {
    Sampler s = new Sampler(sources);
    sampler = sources.system().scheduler().scheduleAtFixedRate(Duration.ZERO, interval, s,
        sources.system().executionContext());
    sources.system().getWhenTerminated().thenRun(this::close);
  }

  /** Reads the node's state into the gauges and the sampled counters; one thread at a time. */
  private final class Sampler implements Runnable {
    private final Sources s;
    private long cpcSeen;
    private long cpmSeen;
    private long writtenSeen;
    private long droppedSeen;
    private long rateLimitedSeen;
    private long failedSeen;
    private long fallbacksSeen;

    Sampler(Sources s) {
      this.s = s;
    }

    @Override
    public synchronized void run() {
      try {
        sample();
      } catch (RuntimeException e) {
        LOG.warn("metrics sample failed: {}", e.toString());
      }
    }

    private void sample() {
      ready.update(NodeState.get(s.system()).ready() ? 1 : 0);

      BudgetLedger.Summary b = s.ledger().summary();
      allowance.update(b.allowanceMicros());
      reserved.update(b.reservedMicros());
      campaignsWithAllowance.update(b.campaignsWithAllowance());
      long cpc = s.ledger().spentMicros(true);
      long cpm = s.ledger().spentMicros(false);
      spendCpc.increment(Math.max(0, cpc - cpcSeen));
      spendCpm.increment(Math.max(0, cpm - cpmSeen));
      cpcSeen = cpc;
      cpmSeen = cpm;

      long now = System.currentTimeMillis();
      FeatureStore.Freshness f = s.features().freshness(now, s.staleAfter().toMillis());
      snapshotAge.update(f.maxAgeMillis() / 1000.0);
      snapshotsStale.update(f.stale());

      if (s.featureLog() != null) {
        FeatureLogWriter.Stats st = s.featureLog().stats();
        writtenSeen = add(logWritten, st.written(), writtenSeen);
        droppedSeen = add(logDropped, st.droppedQueueFull(), droppedSeen);
        rateLimitedSeen = add(logRateLimited, st.rateLimited(), rateLimitedSeen);
        failedSeen = add(logFailed, st.failed() + st.encodeFailures(), failedSeen);
      }
      if (s.models() != null) {
        stage2Compiled.update(s.models().current().stage2Vectorized() ? 1 : 0);
        fallbacksSeen = add(stage2Fallbacks, s.models().stage2Fallbacks(), fallbacksSeen);
      }
      if (s.drift() != null) {
        samplePsi(now);
      }
    }

    private long add(Counter c, long total, long seen) {
      if (total > seen) {
        c.increment(total - seen);
      }
      return Math.max(total, seen);
    }

    /** PSI of every monitored model's features and score; a PSI without evidence (too few rows) is not exported. */
    private void samplePsi(long now) {
      for (String version : s.drift().versions()) {
        DriftMonitor.Status st = s.drift().status(version, now);
        if (st.report() == null) {
          continue;
        }
        Map<String, Gauge> gauges = psi.computeIfAbsent(version, v -> new HashMap<>());
        for (Map.Entry<String, Double> e : st.report().featurePsi().entrySet()) {
          setPsi(gauges, version, e.getKey(), e.getValue());
        }
        setPsi(gauges, version, "score", st.report().scorePsi());
      }
    }

    private void setPsi(Map<String, Gauge> gauges, String version, String feature, double value) {
      Gauge g = gauges.get(feature);
      if (Double.isFinite(value)) {
        if (g == null) {
          g = gauge("adengine.model.psi", MeasurementUnit.none(), node.withTag("model", version)
              .withTag("feature", feature));
          gauges.put(feature, g);
        }
        g.update(value);
      } else if (g != null) {
        g.remove();
        gauges.remove(feature);
      }
    }
  }

  // ---- instruments ----

  private Counter counter(String name, TagSet tags) {
    Counter c = Kamon.counter(name).withTags(tags);
    synchronized (removals) {
      removals.add(c::remove);
    }
    return c;
  }

  private Gauge gauge(String name, MeasurementUnit unit, TagSet tags) {
    Gauge g = Kamon.gauge(name, unit).withTags(tags);
    synchronized (removals) {
      removals.add(g::remove);
    }
    return g;
  }

  /** Stops sampling and removes this node's instruments (a stopped node's series end). */
  @Override
  public void close() {
    Cancellable c = sampler;
    if (c != null) {
      c.cancel();
    }
    List<Runnable> all;
    synchronized (removals) {
      all = new ArrayList<>(removals);
      removals.clear();
    }
    all.forEach(Runnable::run);
  }
}
