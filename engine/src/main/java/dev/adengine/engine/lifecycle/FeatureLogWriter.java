package dev.adengine.engine.lifecycle;

import dev.adengine.api.v1.Winner;
import dev.adengine.engine.ranking.RankedCandidate;
import dev.adengine.engine.ranking.RankingFeatures;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.features.RequestFeatures;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.persistence.FeatureLogRepository;
import dev.adengine.persistence.FeatureLogRepository.LoggedRequest;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The feature log of one node: every auction's request context, each scored candidate's feature
 * vector and scores (and a shadow model's, when one is set), the winners with positions and
 * prices, the experiment arm and the model version, written to Cassandra ({@link
 * FeatureLogRepository}) for training, parity checks and audits.
 *
 * <p><b>The bid path never waits for it.</b> It hands over a {@link Capture} (references to what
 * the request already computed: no copy, no feature vector) with one {@link
 * ArrayBlockingQueue#offer}, which never blocks. One writer thread of its own takes captures off the
 * queue and does the rest off the bid path: it computes each candidate's row with the serving code
 * ({@link RankingFeatures#fill}, from the inputs the request captured, so the row is the one the
 * model scored), scores it with the shadow model, feeds the drift monitor, encodes the record and
 * starts its write. Bounded: at most {@code maxInFlight} writes are outstanding (the writer thread
 * waits for one to finish, which is what lets a burst queue up rather than be lost), and when the
 * queue is full because Cassandra cannot keep up, the capture is dropped and counted ({@link
 * Stats#droppedQueueFull()}): the auction is never slowed, and every lost record is counted.
 *
 * <p><b>Labels.</b> Accepted impressions and clicks are joined to the log by (request, ad): {@link
 * #label} queues them (never blocking the event path) and the writer thread writes them keyed by
 * the serving hour, bounded the same way.
 *
 * <p><b>Failed writes</b> of records and labels are retried with exponential backoff (0.2 s
 * doubling, at most {@value #MAX_RETRY_DELAY_MS} ms apart) for {@code retryFor} after their first
 * failure, so a Cassandra node that stalls or restarts for tens of seconds loses nothing. Bounded:
 * at most {@code queueCapacity} records and {@code 4 x queueCapacity} labels wait for a retry at
 * once; a write that fails beyond that, or whose retries would outlast {@code retryFor}, counts as
 * failed.
 */
public final class FeatureLogWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FeatureLogWriter.class);

  /** Which candidates a record holds. */
  public enum Candidates {
    /** Those that entered the auction (stage 2 re-scored them): every ad that could be shown. */
    AUCTION,
    /** Also each campaign's best ad that stage 1 left below the top K (larger records). */
    ALL
  }

  /**
   * @param queueCapacity captures waiting for the writer thread at most
   * @param maxInFlight record writes outstanding at most (the writer thread waits beyond)
   * @param labelsMaxInFlight label writes outstanding at most (labels wait in their own queue of
   *     {@code 4 x queueCapacity}, dropped and counted only when it is full)
   * @param sampleRate share of requests logged, in (0, 1]
   * @param maxRate requests logged per second at most (0: no cap): beyond, the rest of each second's
   *     requests are not logged ({@link Stats#rateLimited()}), which bounds the writer thread's CPU
   *     (about 50 us per request with 50 candidates: docs/benchmarks/lifecycle.md) and the Cassandra
   *     writes however fast the node serves
   * @param retryFor how long after its first failure a write is still retried
   */
  public record Settings(boolean enabled, int queueCapacity, int maxInFlight, int labelsMaxInFlight,
      double sampleRate, int maxRate, Candidates candidates, java.time.Duration retryFor) {
    public Settings {
      if (queueCapacity < 1 || maxInFlight < 1 || labelsMaxInFlight < 1 || maxRate < 0
          || !(sampleRate > 0 && sampleRate <= 1) || retryFor.isNegative()) {
        throw new IllegalArgumentException("feature-log: queue-capacity and max-in-flight must be >= 1,"
            + " sample-rate in (0, 1] and retry-for >= 0, got " + queueCapacity + ", " + maxInFlight + ", "
            + sampleRate + ", " + retryFor);
      }
    }

    /** A writer that logs nothing (benchmarks of the bid path without the log). */
    public static Settings disabled() {
      return new Settings(false, 1, 1, 1, 1.0, 0, Candidates.AUCTION, java.time.Duration.ZERO);
    }
  }

  /** Where records and labels go: the Cassandra repository, in production and in tests. */
  public interface Store {
    CompletionStage<Void> write(LoggedRequest r);

    CompletionStage<Void> markImpression(String requestId, String adId, long servedAtMs, long atMs);

    CompletionStage<Void> markClick(String requestId, String adId, long servedAtMs, long atMs);

    static Store of(FeatureLogRepository repository) {
      return new Store() {
        @Override
        public CompletionStage<Void> write(LoggedRequest r) {
          return repository.write(r);
        }

        @Override
        public CompletionStage<Void> markImpression(String requestId, String adId, long servedAtMs, long atMs) {
          return repository.markImpression(requestId, adId, servedAtMs, atMs);
        }

        @Override
        public CompletionStage<Void> markClick(String requestId, String adId, long servedAtMs, long atMs) {
          return repository.markClick(requestId, adId, servedAtMs, atMs);
        }
      };
    }
  }

  /**
   * What one served request hands to the log: its own objects, nothing copied. The candidates are
   * the request's ranking ({@code top} entered the auction, {@code belowTopK} did not); the bid path
   * no longer touches them once it has answered.
   *
   * @param shadow the shadow model to score beside {@code model}, or null
   */
  public record Capture(String requestId, long servedAtMs, String experimentId, String arm, CtrModel model,
      CtrModel shadow, FeatureLogCodec.Context context, RequestFeatures request, List<RankedCandidate> top,
      List<RankedCandidate> belowTopK, List<Winner> winners) {}

  private final Settings settings;
  private final Store store;
  private final String nodeId;
  private final DriftMonitor drift;
  private final ModelHealth health;
  private final ArrayBlockingQueue<Capture> queue;
  private final java.util.concurrent.Semaphore inFlight;
  private final java.util.concurrent.Semaphore labelsInFlight;
  private final ArrayBlockingQueue<PendingLabel> labels;
  private final LongAdder captured = new LongAdder();
  private final LongAdder sampledOut = new LongAdder();
  private final LongAdder rateLimited = new LongAdder();
  private final LongAdder droppedQueueFull = new LongAdder();
  private final LongAdder written = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder encodeFailures = new LongAdder();
  private final LongAdder labelsWritten = new LongAdder();
  private final LongAdder labelsDropped = new LongAdder();
  private final LongAdder labelsFailed = new LongAdder();
  private final LongAdder shadowScored = new LongAdder();
  private final Thread thread;
  private volatile boolean running = true;
  private final ScoreMeter scores;

  /**
   * Where the writer thread records each logged candidate's pCTR (metrics): asked once per record
   * for the model's recorder, which then takes every candidate's probability.
   */
  public interface ScoreMeter {
    /** The recorder of the probabilities {@code modelVersion} predicted, live or as the shadow. */
    java.util.function.DoubleConsumer pctr(String modelVersion, boolean shadow);

    ScoreMeter NONE = (version, shadow) -> p -> {};
  }

  public FeatureLogWriter(Settings settings, Store store, String nodeId, DriftMonitor drift, ModelHealth health) {
    this(settings, store, nodeId, drift, health, ScoreMeter.NONE);
  }

  public FeatureLogWriter(Settings settings, Store store, String nodeId, DriftMonitor drift, ModelHealth health,
      ScoreMeter scores) {
    this.scores = scores;
    this.health = health;
    this.settings = settings;
    this.retryForNanos = settings.retryFor().toNanos();
    this.store = store;
    this.nodeId = nodeId;
    this.drift = drift;
    this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
    this.inFlight = new java.util.concurrent.Semaphore(settings.maxInFlight());
    this.labelsInFlight = new java.util.concurrent.Semaphore(settings.labelsMaxInFlight());
    this.labels = new ArrayBlockingQueue<>(4 * settings.queueCapacity());
    this.thread = new Thread(this::run, "feature-log-writer");
    thread.setDaemon(true);
    if (settings.enabled()) {
      thread.start();
    }
  }

  public boolean enabled() {
    return settings.enabled();
  }

  /** Hands a served request to the log; never blocks (a full queue drops it and counts it). */
  public void offer(Capture c) {
    if (!settings.enabled()) {
      return;
    }
    if (settings.sampleRate() < 1 && !sampled(c.requestId())) {
      sampledOut.increment();
      return;
    }
    if (settings.maxRate() > 0 && !withinRate()) {
      rateLimited.increment();
      return;
    }
    captured.increment();
    if (!queue.offer(c)) {
      droppedQueueFull.increment();
    }
  }

  /** Whether this second still has room under {@code maxRate} (one CAS-free counter per second). */
  private boolean withinRate() {
    long second = System.nanoTime() / 1_000_000_000L;
    if (second != rateSecond) {
      rateSecond = second; // a race here lets a few more through at a second's edge: harmless
      rateCount.set(0);
    }
    return rateCount.incrementAndGet() <= settings.maxRate();
  }

  private volatile long rateSecond;
  private final java.util.concurrent.atomic.AtomicLong rateCount = new java.util.concurrent.atomic.AtomicLong();

  /** Whether a request is in the logged sample: a hash of its id, so every node agrees; allocation-free. */
  private boolean sampled(String requestId) {
    long h = requestId.hashCode() * 0x9E3779B97F4A7C15L; // SplitMix64's finalizer over the id's hash
    h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
    h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
    h ^= h >>> 31;
    return (h >>> 11) * 0x1.0p-53 < settings.sampleRate();
  }

  /** Joins an accepted impression or click to the log by (request, ad); never blocks. */
  public void label(boolean click, String requestId, String adId, long servedAtMs, long atMs) {
    if (!settings.enabled()) {
      return;
    }
    if (!labels.offer(new PendingLabel(click, requestId, adId, servedAtMs, atMs, 1, 0))) {
      labelsDropped.increment();
    }
  }

  /** Starts the queued labels' writes (the writer thread only; waits for free slots). */
  private void drainLabels() {
    PendingLabel l;
    while ((l = labels.poll()) != null) {
      try {
        labelsInFlight.acquire(); // ok to block: the writer's own thread waits for Cassandra
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        labelsFailed.increment();
        return;
      }
      writeLabel(l);
    }
  }

  /**
   * A label write, attempt {@code attempt} (1-based); retried by the writer thread when it fails.
   * {@code firstFailedNanos}: when its first attempt failed (0 before that).
   */
  private record PendingLabel(boolean click, String requestId, String adId, long servedAtMs, long atMs,
      int attempt, long firstFailedNanos) {}

  private void writeLabel(PendingLabel l) {
    CompletionStage<Void> w;
    try {
      w = l.click()
          ? store.markClick(l.requestId(), l.adId(), l.servedAtMs(), l.atMs())
          : store.markImpression(l.requestId(), l.adId(), l.servedAtMs(), l.atMs());
    } catch (RuntimeException e) {
      w = java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    w.whenComplete((ok, err) -> {
      labelsInFlight.release();
      if (err == null) {
        labelsWritten.increment();
        return;
      }
      long now = System.nanoTime();
      long first = l.attempt() == 1 ? now : l.firstFailedNanos();
      long due = now + retryDelayNanos(l.attempt());
      if (mayRetry(due, first, labelRetries, 4 * settings.queueCapacity())) {
        retries.add(new Retry(due, null, new PendingLabel(l.click(), l.requestId(), l.adId(), l.servedAtMs(),
            l.atMs(), l.attempt() + 1, first), 0, 0));
      } else {
        labelsFailed.increment();
        logFailure("label", l.attempt(), now - first, err);
      }
    });
  }

  /**
   * One scored row in this many feeds the drift monitor: binning every feature of every row was
   * half the writer's work, and a quarter of the rows (thousands a second) is plenty for PSI.
   */
  static final int DRIFT_EVERY = 4;
  private long driftRows; // the writer thread only

  /**
   * The first retry follows a failure by 0.2 s, each next one waits twice as long, up to this: the
   * driver's longest wait between reconnections (5 s, cluster-config/persistence.conf), so a write
   * is tried again soon after the connection is back. History: a fixed number of attempts was not
   * enough on an overloaded CI machine (3 attempts 0.6 s apart lost 36% of a test's records; 5
   * (3 s) lost 3,126 labels while Cassandra closed the connection for about 11 s; 7 (12.6 s) lost
   * 2% of the records in another run), hence a retry window ({@code retry-for}) instead.
   */
  static final long MAX_RETRY_DELAY_MS = 5_000;
  private static final long RETRY_DELAY_NANOS = 200_000_000L;

  /** The delay before the retry that follows failed attempt {@code attempt} (1-based). */
  static long retryDelayNanos(int attempt) {
    return Math.min(RETRY_DELAY_NANOS << Math.min(attempt - 1, 10), MAX_RETRY_DELAY_MS * 1_000_000L);
  }

  /**
   * A failed record or label write waiting to be tried again, due at {@code dueNanos}; a record's
   * next attempt and when its first failed.
   */
  private record Retry(long dueNanos, LoggedRequest record, PendingLabel label, int recordAttempt,
      long recordFirstFailedNanos) {}

  private final long retryForNanos;
  private final java.util.concurrent.ConcurrentLinkedQueue<Retry> retries =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  /** Records and labels waiting in {@link #retries} (bounded: see the class comment). */
  private final AtomicInteger recordRetries = new AtomicInteger();
  private final AtomicInteger labelRetries = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong failuresLogged = new java.util.concurrent.atomic.AtomicLong();

  /**
   * Whether a write that first failed at {@code firstFailedNanos} is tried again at {@code dueNanos}:
   * within the retry window, and with a place in its {@code backlog} of {@code limit} (taken).
   */
  private boolean mayRetry(long dueNanos, long firstFailedNanos, AtomicInteger backlog, int limit) {
    if (dueNanos - firstFailedNanos > retryForNanos) {
      return false;
    }
    if (backlog.incrementAndGet() <= limit) {
      return true;
    }
    backlog.decrementAndGet();
    return false;
  }

  private void logFailure(String what, int attempts, long sinceFirstNanos, Throwable err) {
    long n = failuresLogged.incrementAndGet();
    if (n == 1 || n % 1_000 == 0) {
      LOG.warn("feature-log {} write failed after {} attempts over {} ms ({} failures so far): {}", what, attempts,
          sinceFirstNanos / 1_000_000, n, err.toString());
    }
  }

  /** Retries that are due (the writer thread only); those not yet due go back. */
  private void retryDue() {
    int n = retries.size();
    long now = System.nanoTime();
    for (int i = 0; i < n; i++) {
      Retry r = retries.poll();
      if (r == null) {
        return;
      }
      if (r.dueNanos() - now > 0) {
        retries.add(r);
      } else if (r.record() != null) {
        recordRetries.decrementAndGet();
        store(r.record(), r.recordAttempt(), r.recordFirstFailedNanos());
      } else {
        labelRetries.decrementAndGet();
        if (!labels.offer(r.label())) {
          labelsDropped.increment();
        }
      }
    }
  }

  private void run() {
    while (running || !queue.isEmpty() || !retries.isEmpty() || !labels.isEmpty()) {
      retryDue();
      drainLabels();
      Capture c;
      try {
        c = queue.poll(50, TimeUnit.MILLISECONDS); // ok to block: the writer's own thread, not an actor or handler
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (c == null) {
        continue;
      }
      try {
        write(c);
      } catch (RuntimeException e) {
        encodeFailures.increment();
        LOG.warn("feature-log record not written: {}", e.toString());
      }
    }
  }

  private void write(Capture c) {
    store(encode(c), 1, 0);
  }

  /**
   * The writer thread's work on one capture, up to the Cassandra write: each candidate's row,
   * shadow scores, drift and guardrail counts, the encoded record. Public for the benchmark.
   */
  public LoggedRequest encode(Capture c) {
    List<RankedCandidate> top = c.top();
    List<RankedCandidate> below = settings.candidates() == Candidates.ALL ? c.belowTopK() : List.of();
    FeatureLogCodec.Context ctx = c.context();
    boolean shadow = c.shadow() != null;
    FeatureLogCodec.CandidatesWriter out = candidates.reset();
    double placedPctr = 0;
    double expectedClicks = 0;
    double[] x = row;
    java.util.function.DoubleConsumer livePctr = scores.pctr(c.model().version(), false);
    java.util.function.DoubleConsumer shadowPctrs = shadow ? scores.pctr(c.shadow().version(), true) : null;
    for (int i = 0, n = top.size() + below.size(); i < n; i++) {
      RankedCandidate rc = i < top.size() ? top.get(i) : below.get(i - top.size());
      RankingFeatures.fill(x, c.request(), ctx.destination(), ctx.medianPriceMicros(), rc.ad(), 1,
          rc.adImpressions(), rc.adClicks(), rc.campaignImpressions(), rc.campaignClicks());
      double shadowPctr = Double.NaN;
      if (shadow) {
        shadowPctr = rc.rescored() ? c.shadow().stage2(x) : c.shadow().stage1(x);
        shadowScored.increment();
        shadowPctrs.accept(shadowPctr);
      }
      livePctr.accept(rc.pctr());
      if (rc.rescored() && drift != null && (++driftRows & (DRIFT_EVERY - 1)) == 0) {
        drift.observe(c.model().version(), x, rc.pctr(), c.servedAtMs());
      }
      Winner w = winner(c.winners(), rc.ad().adId());
      if (w != null && health != null) {
        // the click probability where it was shown: served pCTR is the top slot's
        System.arraycopy(x, 0, shown, 0, x.length);
        FeatureExtractor.setPosition(shown, w.getPosition());
        expectedClicks += c.model().stage2(shown);
        placedPctr += rc.pctr();
      }
      out.add(rc.ad().adId(), rc.campaign().campaignId(), rc.campaign().advertiserId(), rc.rescored(),
          w == null ? 0 : w.getPosition(), w == null ? 0 : w.getPriceMicros(), rc.stage1(), rc.pctr(), shadowPctr,
          rc.score(), rc.adImpressions(), rc.adClicks(), rc.campaignImpressions(), rc.campaignClicks(), x);
    }
    if (placedPctr > 0) {
      health.placed(placedPctr, expectedClicks);
    }
    return new LoggedRequest(c.requestId(), c.servedAtMs(), nodeId, emptyToNull(c.experimentId()),
        emptyToNull(c.arm()), c.model().version(), shadow ? c.shadow().version() : null, c.model().schemaHash(),
        FeatureLogCodec.encodeContext(ctx), out.toBytes());
  }

  /** The writer thread's row buffers (encode runs on that thread only; the benchmark calls it on one). */
  private final double[] row = new double[FeatureExtractor.SIZE];
  /** The writer thread's record buffer, reused per record (sized for 64 candidates, grown once if needed). */
  private final FeatureLogCodec.CandidatesWriter candidates = new FeatureLogCodec.CandidatesWriter(
      FeatureExtractor.SIZE, 64);
  private final double[] shown = new double[FeatureExtractor.SIZE];

  /** The winner of {@code adId} among a response's few winners, or null. */
  private static Winner winner(List<Winner> winners, String adId) {
    for (int i = 0, n = winners.size(); i < n; i++) {
      if (winners.get(i).getAdId().equals(adId)) {
        return winners.get(i);
      }
    }
    return null;
  }

  /**
   * Starts a record's write (attempt {@code attempt}, 1-based; the first failed at {@code
   * firstFailedNanos}) once a slot is free; a failed one is retried within {@code retryFor}.
   */
  private void store(LoggedRequest record, int attempt, long firstFailedNanos) {
    try {
      inFlight.acquire(); // ok to block: the writer's own thread waits for Cassandra, never the bid path
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failed.increment();
      return;
    }
    CompletionStage<Void> write;
    try {
      write = store.write(record);
    } catch (RuntimeException e) {
      inFlight.release();
      throw e;
    }
    write.whenComplete((ok, err) -> {
      inFlight.release();
      if (err == null) {
        written.increment();
        return;
      }
      long now = System.nanoTime();
      long first = attempt == 1 ? now : firstFailedNanos;
      long due = now + retryDelayNanos(attempt);
      if (mayRetry(due, first, recordRetries, settings.queueCapacity())) {
        retries.add(new Retry(due, record, null, attempt + 1, first));
      } else {
        failed.increment();
        logFailure("record", attempt, now - first, err);
      }
    });
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  /** The writer's counters, for the admin API and metrics. */
  public record Stats(long captured, long sampledOut, long rateLimited, long queued, long written,
      long droppedQueueFull,
      long failed, long encodeFailures, long labelsWritten, long labelsDropped, long labelsFailed,
      long shadowScored) {
    /** Records lost for any reason: queue full, write failed, or not encodable. */
    public long dropped() {
      return droppedQueueFull + failed + encodeFailures;
    }
  }

  public Stats stats() {
    return new Stats(captured.sum(), sampledOut.sum(), rateLimited.sum(), queue.size(), written.sum(), droppedQueueFull.sum(),
        failed.sum(), encodeFailures.sum(), labelsWritten.sum(), labelsDropped.sum(),
        labelsFailed.sum(), shadowScored.sum());
  }

  public Settings settings() {
    return settings;
  }

  /** Lets the writer drain what is queued and retried (for up to five seconds), then stops it. */
  @Override
  public void close() {
    running = false;
    try {
      thread.join(5_000); // ok to block: shutdown, on the stopping thread
      if (thread.isAlive()) {
        thread.interrupt(); // Cassandra is not answering: stop waiting for it
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
