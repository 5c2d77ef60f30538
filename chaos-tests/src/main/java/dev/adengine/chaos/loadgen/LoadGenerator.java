package dev.adengine.chaos.loadgen;

import dev.adengine.api.v1.AdminServiceClient;
import dev.adengine.api.v1.AuctionServiceClient;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.engine.sim.Destination;
import dev.adengine.engine.sim.Market;
import dev.adengine.engine.sim.MarketGenerator;
import dev.adengine.engine.sim.MarketSetup;
import dev.adengine.engine.sim.RequestGenerator;
import dev.adengine.engine.sim.TrafficSimulator;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;

/**
 * An open-loop load generator for {@code AuctionService.Bid}, to measure the engine's latency under
 * a fixed arrival rate without coordinated omission.
 *
 * <p>Request {@code i} is due at {@code t0 + i / rate}. One scheduler thread (the caller's) parks
 * until each due time and fires an asynchronous gRPC call, never waiting for earlier answers; the
 * latency of an answer is counted from the due time, so a slow engine (or a late generator) shows
 * in the latencies instead of silently lowering the rate. Requests come from the simulator's
 * {@link RequestGenerator} (destinations by popularity, slots, Zipf-skewed users, queries) over the
 * simulator's market, which the generator can first create through {@link MarketSetup}.
 *
 * <p>Targets are used round-robin. A request's deadline is its due time plus its {@code tmax_ms},
 * and every gRPC attempt carries what is left of it; an {@code UNAVAILABLE} answer is retried on
 * the next target while time is left, each target at most once. With {@code hedgeMs} set, a request
 * still unanswered that long after its due time is also sent to the next target (a hedge: a frozen
 * or overloaded node never answers {@code UNAVAILABLE}, it just runs out the clock); the first
 * answer counts, the other attempts are cancelled, and an error counts only once no attempt is left. At most {@code maxInFlight}
 * requests are outstanding: one due beyond that is not sent and counts as {@code CLIENT_OVERLOAD},
 * so the schedule never blocks.
 *
 * <p>Prints a line per second of the schedule (once that second's requests are all answered) and
 * the totals over the measured seconds, and returns them as a {@link LoadResult}. The gRPC clients
 * run on the generator's own local (non-cluster) ActorSystem. Request contents (user ids) are never
 * printed.
 */
public final class LoadGenerator {

  /** Budget multiplier of {@link LoadOptions#loadTestBudgets()}. */
  public static final double LOAD_TEST_BUDGET_SCALE = 1_000;
  private static final int SETUP_CONCURRENCY = 16;
  /** A second whose requests are still unanswered this long after its last deadline is closed anyway. */
  private static final long ANSWER_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
  private static final long REPORT_EVERY_MS = 50;
  private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  /** Failed requests described one per line at most, per run: as many in the warm-up, as many after. */
  private static final int MISS_LINES = 300;

  private final LoadOptions options;
  private final PrintStream out;
  private final AtomicBoolean stop = new AtomicBoolean();
  /** Measured seconds the schedule ends after, when {@link #endAfter} set them; else the options' duration. */
  private volatile int endAfterSeconds = -1;
  private volatile Runnable onMeasuredStart = () -> { };
  private volatile BiConsumer<LoadResult.Second, Histogram> onSecond = (row, latency) -> { };

  public LoadGenerator(LoadOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  /** Runs once with {@code options}, printing to {@code out}; blocks until the last answer is in. */
  public static LoadResult run(LoadOptions options, PrintStream out)
      throws MarketSetup.SetupException, InterruptedException {
    return new LoadGenerator(options, out).run();
  }

  /**
   * Warms a target up: runs the short run {@code round.apply(n)} for n = 1, 2, ... until one has at
   * least {@code okRatio} OK or {@code maxRounds} have run, printing each round's ratio to {@code out}
   * under {@code label}. A just-started JVM answers a fraction of its first seconds' bids in time on a
   * loaded machine; what follows should measure a warm one.
   *
   * @return each round's OK ratio, in order (the last is the first to reach {@code okRatio}, if any did)
   */
  public static List<Double> warmUntil(java.util.function.IntFunction<LoadOptions> round, double okRatio,
      int maxRounds, String label, PrintStream out) throws MarketSetup.SetupException, InterruptedException {
    return warmUntil(round, okRatio, 1, maxRounds, label, out);
  }

  /**
   * As above, until {@code inARow} rounds in a row have at least {@code okRatio} OK: one good round
   * of a machine still compiling can be luck.
   *
   * @return each round's OK ratio, in order (the last ends the first such streak, if any did)
   */
  public static List<Double> warmUntil(java.util.function.IntFunction<LoadOptions> round, double okRatio,
      int inARow, int maxRounds, String label, PrintStream out)
      throws MarketSetup.SetupException, InterruptedException {
    List<Double> ratios = new ArrayList<>();
    int streak = 0;
    for (int n = 1; n <= maxRounds && streak < inARow; n++) {
      double ratio = run(round.apply(n), out).totals().okRatio();
      ratios.add(ratio);
      streak = ratio >= okRatio ? streak + 1 : 0;
      out.printf(Locale.ROOT, "[%s] warm-up round %d: %.2f%% OK%n", label, n, 100 * ratio);
    }
    return ratios;
  }

  /**
   * Asks a running {@link #run()} to stop sending; it then waits for the outstanding answers and
   * returns the seconds sent so far.
   */
  public void requestStop() {
    stop.set(true);
  }

  /**
   * Ends a running (or not yet started) {@link #run()}'s schedule after {@code measuredSeconds}
   * measured seconds instead of the options' duration, which stays the longest it may run: the
   * caller can run the load until something has happened (a recovery) plus some seconds. Unlike
   * {@link #requestStop()}, the schedule ends on a second's boundary, so the last second is whole;
   * a value below the second being sent ends the schedule at that second's end.
   */
  public void endAfter(int measuredSeconds) {
    if (measuredSeconds < 1) {
      throw new IllegalArgumentException("measuredSeconds must be at least 1, not " + measuredSeconds);
    }
    endAfterSeconds = Math.min(measuredSeconds, options.durationSeconds());
  }

  /** Warm-up plus measured seconds of the schedule, as {@link #endAfter} or the options set them. */
  private int totalSeconds() {
    int measured = endAfterSeconds;
    return measured < 0 ? options.totalSeconds() : options.warmupSeconds() + measured;
  }

  /**
   * Runs {@code action} once when the measured window begins: as the schedule opens its first
   * non-warm-up second (at most one request interval before that second's first due time). It runs
   * on the report thread, not the schedule's, so it may take a few milliseconds (read counters of
   * another process, for example) without delaying requests. Set it before {@link #run()}.
   */
  public LoadGenerator onMeasuredStart(Runnable action) {
    onMeasuredStart = action;
    return this;
  }

  /**
   * Receives every second of the schedule as it closes (warm-up included), with its own latency
   * histogram (microseconds from the intended send time, OK answers only), for callers that add up
   * other windows than the run's (the chaos harness: before, during and after a fault). Runs on
   * the report thread; the histogram is the caller's to keep. Set it before {@link #run()}.
   */
  public LoadGenerator onSecond(BiConsumer<LoadResult.Second, Histogram> action) {
    onSecond = action;
    return this;
  }

  public LoadResult run() throws MarketSetup.SetupException, InterruptedException {
    Market generated = new MarketGenerator(options.seed(), options.campaigns(), options.today()).generate();
    Market sized = options.ads() > 0 ? generated.withAds(options.ads(), options.seed()) : generated;
    Market market = options.loadTestBudgets() ? sized.forLoadTest(LOAD_TEST_BUDGET_SCALE) : sized;
    List<Destination> destinations = options.destinations() == 0
        ? market.destinations()
        : market.destinations().subList(0, Math.min(options.destinations(), market.destinations().size()));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "adengine-loadgen", TrafficSimulator.clientSystemConfig());
    ScheduledThreadPoolExecutor deadlines = daemonScheduler("loadgen-deadlines");
    ScheduledThreadPoolExecutor reporter = daemonScheduler("loadgen-report");
    try {
      List<GrpcClientSettings> settings = new ArrayList<>();
      for (LoadOptions.Target t : options.targets()) {
        // a target that is down stays a target: its client keeps reconnecting (with back-off)
        settings.add(GrpcClientSettings.connectToServiceAt(t.host(), t.port(), system).withTls(false)
            .withConnectionAttempts(-1));
      }
      out.printf(Locale.ROOT,
          "[loadgen] targets=%s rate=%s/s warm-up=%ds duration=%ds tmax=%dms max-in-flight=%d seed=%d"
              + " market of %d campaigns and %d ads %s, requests to %d of %d destinations%n",
          options.targets(), LoadResult.number(options.rate()), options.warmupSeconds(),
          options.durationSeconds(), options.tmaxMs(), options.maxInFlight(), options.seed(),
          market.campaigns().size(), market.adCount(), options.setupMarket() ? "set up first" : "assumed in place",
          destinations.size(), market.destinations().size());
      if (options.setupMarket()) {
        setUp(market, settings, system);
      }
      List<AuctionServiceClient> clients = new ArrayList<>();
      for (GrpcClientSettings s : settings) {
        clients.add(AuctionServiceClient.create(s, system));
      }
      RequestGenerator requests = new RequestGenerator(destinations, options.seed(), options.today(),
          "lg-" + Long.toString(System.currentTimeMillis(), 36), options.users(), options.tmaxMs(), 0.0);
      LoadResult result = new Run(clients, deadlines, reporter).execute(requests);
      out.print(result.totals().render(options));
      out.flush();
      return result;
    } finally {
      reporter.shutdownNow();
      deadlines.shutdownNow();
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join(); // ok to block: the caller's thread, not an actor or callback
    }
  }

  /** Creates the market through the first target, then waits until every target's replica holds it. */
  private void setUp(Market market, List<GrpcClientSettings> settings, ActorSystem<Void> system)
      throws MarketSetup.SetupException, InterruptedException {
    for (int i = 0; i < settings.size(); i++) {
      AdminServiceClient admin = AdminServiceClient.create(settings.get(i).withDeadline(MarketSetup.CALL_TIMEOUT), system);
      try {
        MarketSetup setup = new MarketSetup(admin, SETUP_CONCURRENCY, MarketSetup.CALL_TIMEOUT, out);
        if (i == 0) {
          setup.create(market);
        }
        out.printf("[loadgen] waiting for %s to hold the market%n", options.targets().get(i));
        setup.awaitReplica(market.campaigns().size(), MarketSetup.REPLICA_WAIT);
      } finally {
        admin.close();
      }
    }
  }

  private static ScheduledThreadPoolExecutor daemonScheduler(String name) {
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
    executor.setRemoveOnCancelPolicy(true);
    return executor;
  }

  /**
   * One request on its way: which second it belongs to, its deadline, its attempts. Attempts can
   * overlap (a hedge), so the mutable state is guarded by the call's monitor; the first answer
   * settles the call.
   */
  private static final class Call {
    final BidRequest request;
    final SecondRecorder second;
    final long intendedNanos;
    final long deadlineNanos;
    final int firstTarget;
    // guarded by this
    int target;
    int attempts;
    int outstanding;
    boolean settled;
    final List<Context.CancellableContext> contexts = new ArrayList<>(2);

    Call(BidRequest request, SecondRecorder second, long intendedNanos, long deadlineNanos, int target) {
      this.request = request;
      this.second = second;
      this.intendedNanos = intendedNanos;
      this.deadlineNanos = deadlineNanos;
      this.target = target;
      this.firstTarget = target;
    }
  }

  /** The state of one run: the schedule on the caller's thread, reporting on its own thread. */
  private final class Run {
    private final List<AuctionServiceClient> clients;
    private final ScheduledThreadPoolExecutor deadlines;
    private final ScheduledThreadPoolExecutor reporter;
    private final long tmaxNanos = TimeUnit.MILLISECONDS.toNanos(options.tmaxMs());
    private final long hedgeNanos = TimeUnit.MILLISECONDS.toNanos(options.hedgeMs());
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger missLines = new AtomicInteger();
    private final AtomicInteger warmupMissLines = new AtomicInteger();
    /** Seconds not yet closed, oldest first; the scheduler appends, the report thread removes. */
    private final ConcurrentLinkedDeque<SecondRecorder> open = new ConcurrentLinkedDeque<>();
    /** Every request due before this time has been fired or refused. */
    private volatile long scheduledUpTo;
    private volatile boolean sendingDone;
    private final CountDownLatch finished = new CountDownLatch(1);

    // report thread only
    private final List<LoadResult.Second> rows = new ArrayList<>();
    private final Histogram latency = new Histogram(3);
    private final Map<String, Long> errors = new HashMap<>();
    private int measuredSeconds;
    private long sent;
    private long ok;
    private long filled;
    private long retries;
    private long maxSendLagMicros;

    Run(List<AuctionServiceClient> clients, ScheduledThreadPoolExecutor deadlines, ScheduledThreadPoolExecutor reporter) {
      this.clients = clients;
      this.deadlines = deadlines;
      this.reporter = reporter;
    }

    LoadResult execute(RequestGenerator requests) throws InterruptedException {
      long start = System.nanoTime();
      scheduledUpTo = start;
      reporter.scheduleWithFixedDelay(this::report, REPORT_EVERY_MS, REPORT_EVERY_MS, TimeUnit.MILLISECONDS);
      send(requests, start);
      // the last second closes at most tmax + grace after its end, which is now or earlier
      long maxWait = tmaxNanos + ANSWER_GRACE_NANOS + TimeUnit.SECONDS.toNanos(5);
      if (!finished.await(maxWait, TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException("the report thread did not close the last second");
      }
      synchronized (this) {
        LoadResult.Totals totals = new LoadResult.Totals(measuredSeconds, sent, ok, filled, errors, retries, latency,
            maxSendLagMicros);
        return new LoadResult(options, rows, totals);
      }
    }

    /** The open-loop schedule: request i leaves at {@code start + i / rate}, answered or not. */
    private void send(RequestGenerator requests, long start) {
      double intervalNanos = 1e9 / options.rate();
      int targets = clients.size();
      SecondRecorder current = null;
      for (long i = 0; !stop.get(); i++) {
        long intended = start + (long) (i * intervalNanos);
        int second = (int) ((intended - start) / 1_000_000_000L);
        // read each time: endAfter may move the end while the schedule runs; never before an open second's end
        int total = Math.max(totalSeconds(), current == null ? 0 : current.index + 1);
        if (second >= total) {
          break;
        }
        while (current == null || current.index < second) {
          current = openSecond(current == null ? 0 : current.index + 1, start);
        }
        BidRequest request = requests.next().request(); // built before its due time, off the critical path
        scheduledUpTo = intended;
        if (!parkUntil(intended)) {
          break;
        }
        current.sent(System.nanoTime() - intended);
        if (inFlight.get() >= options.maxInFlight()) {
          current.clientOverload();
          continue;
        }
        inFlight.incrementAndGet();
        start(new Call(request, current, intended, intended + tmaxNanos, (int) (i % targets)));
      }
      // seconds with nothing due (rates below 1/s) still get their row
      while (!stop.get() && (current == null || current.index < totalSeconds() - 1)) {
        current = openSecond(current == null ? 0 : current.index + 1, start);
      }
      sendingDone = true;
    }

    private SecondRecorder openSecond(int index, long start) {
      SecondRecorder s = new SecondRecorder(index, start + TimeUnit.SECONDS.toNanos(index + 1L),
          index < options.warmupSeconds());
      open.addLast(s);
      if (index == options.warmupSeconds()) {
        reporter.execute(onMeasuredStart);
      }
      return s;
    }

    /** Parks until {@code due}; false when the run was stopped (or the thread interrupted) first. */
    private boolean parkUntil(long due) {
      long wait;
      while ((wait = due - System.nanoTime()) > 0 && !stop.get()) {
        LockSupport.parkNanos(Math.min(wait, MAX_PARK_NANOS));
        if (Thread.currentThread().isInterrupted()) {
          stop.set(true); // the interrupt stays set: execute() then throws InterruptedException
        }
      }
      return !stop.get();
    }

    /** Sends the first attempt, and schedules its hedge when hedging is on. */
    private void start(Call call) {
      attempt(call, call.target);
      if (hedgeNanos > 0 && clients.size() > 1) {
        long delay = call.intendedNanos + hedgeNanos - System.nanoTime();
        deadlines.schedule(() -> hedge(call), Math.max(0, delay), TimeUnit.NANOSECONDS);
      }
    }

    /** Sends the request to the next target too, unless it was answered meanwhile. */
    private void hedge(Call call) {
      int target;
      synchronized (call) {
        if (call.settled || call.attempts >= clients.size() || call.deadlineNanos - System.nanoTime() <= 0) {
          return;
        }
        call.target = (call.target + 1) % clients.size();
        target = call.target;
      }
      call.second.retry();
      attempt(call, target);
    }

    /** Sends one attempt to {@code target} with what is left of the request's deadline; never blocks. */
    private void attempt(Call call, int target) {
      AuctionServiceClient client = clients.get(target);
      // a root context: completion callbacks run inside the finished call's (cancelled) context
      Context.CancellableContext context = Context.ROOT.withDeadline(
          Deadline.after(call.deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS), deadlines);
      synchronized (call) {
        call.attempts++;
        call.outstanding++;
        call.contexts.add(context);
      }
      CompletionStage<BidResponse> answer;
      try {
        answer = context.call(() -> client.bid(call.request));
      } catch (Exception e) {
        context.cancel(null);
        answered(call, null, e);
        return;
      }
      answer.whenComplete((response, error) -> {
        context.cancel(null); // drops the deadline timer
        answered(call, response, error);
      });
    }

    /**
     * Records the first answer (cancelling the other attempts), or retries an UNAVAILABLE answer on
     * the next target while time is left; an error counts once no other attempt is still out.
     */
    private void answered(Call call, BidResponse response, Throwable error) {
      List<Context.CancellableContext> losers = List.of();
      int retryOn = -1;
      boolean record;
      synchronized (call) {
        call.outstanding--;
        if (call.settled) {
          return;
        }
        if (error == null) {
          call.settled = true;
          losers = List.copyOf(call.contexts);
          record = true;
        } else {
          Status.Code code = Status.fromThrowable(error).getCode();
          if (code == Status.Code.UNAVAILABLE && call.attempts < clients.size()
              && call.deadlineNanos - System.nanoTime() > 0) {
            call.target = (call.target + 1) % clients.size();
            retryOn = call.target;
            record = false;
          } else if (call.outstanding > 0) {
            record = false; // another attempt may still answer
          } else {
            call.settled = true;
            record = true;
          }
        }
      }
      if (retryOn >= 0) {
        call.second.retry();
        attempt(call, retryOn);
        return;
      }
      if (!record) {
        return;
      }
      if (error == null) {
        call.second.ok((System.nanoTime() - call.intendedNanos) / 1_000, response.getWinnersCount() > 0);
        for (Context.CancellableContext c : losers) {
          c.cancel(null); // the hedge (or the original) still out: its answer is no longer needed
        }
      } else {
        Status.Code code = Status.fromThrowable(error).getCode();
        call.second.error(code);
        describeMiss(call, code);
      }
      inFlight.decrementAndGet();
    }

    /**
     * Prints one line per failed request, the first {@link #MISS_LINES} of the warm-up and of the
     * measured seconds: its second, the target of its first attempt, how many attempts it made, and
     * when it failed (for finding out which node a miss came from; no request content).
     */
    private void describeMiss(Call call, Status.Code code) {
      if ((call.second.warmup ? warmupMissLines : missLines).incrementAndGet() > MISS_LINES) {
        return;
      }
      int attempts;
      synchronized (call) {
        attempts = call.attempts;
      }
      var first = options.targets().get(call.firstTarget);
      out.printf(Locale.ROOT, "[loadgen] miss t=%ds%s first-target=%s:%d attempts=%d after=%.1fms %s%n",
          call.second.index + 1, call.second.warmup ? " (warm-up)" : "", first.host(), first.port(), attempts,
          (System.nanoTime() - call.intendedNanos) / 1e6, code);
    }

    /** Closes, prints and adds up every finished second, oldest first. */
    private synchronized void report() {
      long now = System.nanoTime();
      for (SecondRecorder s = open.peekFirst(); s != null; s = open.peekFirst()) {
        boolean scheduled = sendingDone || scheduledUpTo - s.endNanos >= 0;
        boolean overdue = now - (s.endNanos + tmaxNanos + ANSWER_GRACE_NANOS) >= 0;
        if (!scheduled || !(s.allAnswered() || overdue)) {
          break;
        }
        open.pollFirst();
        SecondRecorder.Closed closed = s.close();
        LoadResult.Second row = closed.row();
        rows.add(row);
        out.println(row.render());
        onSecond.accept(row, closed.latencyMicros().copy());
        if (!row.warmup()) {
          measuredSeconds++;
          sent += row.sent();
          ok += row.ok();
          filled += row.filled();
          retries += row.retries();
          row.errors().forEach((k, v) -> errors.merge(k, v, Long::sum));
          latency.add(closed.latencyMicros());
          maxSendLagMicros = Math.max(maxSendLagMicros, row.maxSendLagMicros());
        }
      }
      if (sendingDone && open.isEmpty()) {
        out.flush();
        finished.countDown();
      }
    }
  }
}
