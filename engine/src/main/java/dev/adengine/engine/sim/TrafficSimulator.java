package dev.adengine.engine.sim;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.adengine.api.v1.AdminServiceClient;
import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.AuctionServiceClient;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventServiceClient;
import dev.adengine.api.v1.EventType;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.Winner;
import java.io.PrintStream;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Drives a running engine node with realistic hotel-search traffic: creates a synthetic
 * {@link Market} through {@code AdminService}, sends {@code AuctionService.Bid} at a fixed
 * arrival rate (open loop: each request leaves at its scheduled time whether or not earlier ones
 * were answered, and latency counts from that scheduled time), plays the user with
 * {@link GroundTruthClickModel} and reports impressions and clicks through {@code
 * EventService.Report}. Prints one summary line every few seconds and totals at the end.
 *
 * <p>As a library: {@code new TrafficSimulator(options, System.out).run()}, stoppable from
 * another thread with {@link #requestStop()}. As a program: see {@link Cli}.
 *
 * <p>It runs its own local (non-cluster) ActorSystem for the gRPC clients, configured from the
 * libraries' reference config only, so the engine's {@code application.conf} on the classpath
 * does not turn it into a cluster node.
 */
public final class TrafficSimulator {

  private static final int EVENT_BATCH = 500;
  private static final int MAX_QUEUED_EVENTS = 200_000;
  private static final int MAX_IN_FLIGHT_EVENT_BATCHES = 8;
  private static final Duration FLUSH_EVERY = Duration.ofMillis(100);
  private static final double RESEND_SHARE = 0.01;
  private static final Duration RESEND_AFTER = Duration.ofSeconds(2);
  /** Clicks happen this long after the impression (uniform), so they are reported after it. */
  private static final int CLICK_DELAY_MIN_MS = 300;
  private static final int CLICK_DELAY_SPREAD_MS = 2_700;

  private final SimulatorOptions options;
  private final PrintStream out;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final SimStats stats = new SimStats();

  public TrafficSimulator(SimulatorOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  /** Runs one simulation with {@code options}; blocks until it is over. */
  public static SimulationSummary run(SimulatorOptions options, PrintStream out)
      throws MarketSetup.SetupException, InterruptedException {
    return new TrafficSimulator(options, out).run();
  }

  /** Asks a running {@link #run()} to stop sending, finish outstanding work and return. */
  public void requestStop() {
    stop.set(true);
  }

  /**
   * The config of a simulator-side client ActorSystem (this simulator's, the load generator's):
   * local provider, libraries' defaults, quiet logs.
   */
  public static Config clientSystemConfig() {
    return ConfigFactory.parseString(
            String.join("\n",
                "pekko.actor.provider = local",
                "pekko.loglevel = WARNING",
                "pekko.stdout-loglevel = WARNING",
                "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off"))
        .withFallback(ConfigFactory.defaultReference());
  }

  public SimulationSummary run() throws MarketSetup.SetupException, InterruptedException {
    Market market = new MarketGenerator(options.seed(), options.campaigns(), options.today()).generate();
    GroundTruthClickModel clickModel = GroundTruthClickModel.forMarket(market);
    Map<String, Pricing> pricingByCampaign = new HashMap<>();
    for (Campaign c : market.campaigns()) {
      pricingByCampaign.put(c.getCampaignId(), c.getPricing());
    }

    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "adengine-sim", clientSystemConfig());
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "sim-scheduler");
      t.setDaemon(true);
      return t;
    });
    try {
      GrpcClientSettings base = GrpcClientSettings.connectToServiceAt(options.host(), options.port(), system).withTls(false);
      AdminServiceClient admin = AdminServiceClient.create(base.withDeadline(MarketSetup.CALL_TIMEOUT), system);
      AuctionServiceClient auction = AuctionServiceClient.create(base.withDeadline(options.callTimeout()), system);
      EventServiceClient events = EventServiceClient.create(base.withDeadline(options.callTimeout()), system);

      out.printf(Locale.ROOT, "[sim] target=%s:%d seed=%d market: %d destinations, %d advertisers, %d campaigns, %d ads%n",
          options.host(), options.port(), options.seed(), market.destinations().size(),
          market.advertisers().size(), market.campaigns().size(), market.adCount());
      if (options.setup()) {
        MarketSetup setup = new MarketSetup(admin, options.setupConcurrency(), MarketSetup.CALL_TIMEOUT, out);
        setup.create(market);
        setup.awaitReplica(market.campaigns().size(), MarketSetup.REPLICA_WAIT);
      }

      EventReporter reporter = new EventReporter(events, stats, EVENT_BATCH, MAX_QUEUED_EVENTS, MAX_IN_FLIGHT_EVENT_BATCHES);
      Load load = new Load(market, clickModel, pricingByCampaign, reporter, scheduler);
      String runId = Long.toString(System.currentTimeMillis(), 36);
      RequestGenerator requests = new RequestGenerator(market.destinations(), options.trafficSeed(), options.today(),
          "sim-" + runId, options.users(), options.tmaxMs(), options.debugShare(), options.mix());

      long start = System.nanoTime();
      scheduler.scheduleAtFixedRate(reporter::flush, FLUSH_EVERY.toMillis(), FLUSH_EVERY.toMillis(), TimeUnit.MILLISECONDS);
      ReportLine line = new ReportLine(start);
      long every = options.reportEvery().toMillis();
      scheduler.scheduleAtFixedRate(line::print, every, every, TimeUnit.MILLISECONDS);

      sendAtFixedRate(auction, requests, load, start);

      // let outstanding bids finish (each has a client deadline), then the delayed clicks and resends
      awaitInFlight(options.callTimeout().plusSeconds(1));
      scheduler.shutdown(); // periodic tasks stop; delayed clicks and resends still run
      scheduler.awaitTermination(CLICK_DELAY_MIN_MS + CLICK_DELAY_SPREAD_MS + RESEND_AFTER.toMillis() + 1_000, TimeUnit.MILLISECONDS);
      reporter.drain(options.callTimeout().plusSeconds(2));
      line.print();
      SimulationSummary summary = stats.summary(Duration.ofNanos(System.nanoTime() - start));
      out.print(summary.render());
      return summary;
    } finally {
      scheduler.shutdownNow();
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join(); // ok to block: the simulator's own driver thread, not an actor or handler
    }
  }

  /** The open-loop sender: request i leaves at {@code start + i / rate}, answered or not. */
  private void sendAtFixedRate(AuctionService auction, RequestGenerator requests, Load load, long start) {
    double intervalNanos = 1e9 / options.rate();
    long end = options.duration().isZero() ? Long.MAX_VALUE : start + options.duration().toNanos();
    for (long i = 0; !stop.get(); i++) {
      long intended = start + (long) (i * intervalNanos);
      if (intended - end >= 0) {
        break;
      }
      long wait;
      while ((wait = intended - System.nanoTime()) > 0 && !stop.get()) {
        LockSupport.parkNanos(Math.min(wait, 50_000_000L));
        if (Thread.interrupted()) {
          stop.set(true);
        }
      }
      if (stop.get()) {
        break;
      }
      SimRequest request = requests.next();
      stats.requests.increment();
      if (inFlight.get() >= options.maxInFlight()) {
        stats.refused.increment();
        continue;
      }
      inFlight.incrementAndGet();
      try {
        auction.bid(request.request()).whenComplete((response, error) -> {
          inFlight.decrementAndGet();
          long latencyMicros = (System.nanoTime() - intended) / 1_000;
          if (error != null) {
            stats.recordError(error);
          } else {
            stats.recordOk(latencyMicros);
            load.onAnswer(request, response);
          }
        });
      } catch (RuntimeException e) {
        inFlight.decrementAndGet();
        stats.recordError(e);
      }
    }
  }

  private void awaitInFlight(Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10); // ok to block: the simulator's own driver thread, not an actor or handler
    }
  }

  /** Plays the user for an answered request: impressions, ground-truth clicks, spend. */
  private final class Load {
    private final Market market;
    private final GroundTruthClickModel clickModel;
    private final Map<String, Pricing> pricingByCampaign;
    private final EventReporter reporter;
    private final ScheduledExecutorService scheduler;

    Load(Market market, GroundTruthClickModel clickModel, Map<String, Pricing> pricingByCampaign,
        EventReporter reporter, ScheduledExecutorService scheduler) {
      this.market = market;
      this.clickModel = clickModel;
      this.pricingByCampaign = pricingByCampaign;
      this.reporter = reporter;
      this.scheduler = scheduler;
    }

    void onAnswer(SimRequest request, BidResponse response) {
      stats.slotsRequested.add(request.request().getSlots());
      if (response.getPartial()) {
        stats.partial.increment();
      }
      if (response.getWinnersCount() == 0) {
        return;
      }
      stats.filledRequests.increment();
      // one generator per request, seeded from the run seed and the request's sequence number,
      // so the clicks drawn do not depend on the order in which answers arrive
      SplittableRandom random = new SplittableRandom(options.trafficSeed() * 0x9E3779B97F4A7C15L + request.sequence());
      String requestId = request.request().getRequestId();
      for (int i = 0; i < response.getWinnersCount(); i++) {
        Winner w = response.getWinners(i);
        int position = w.getPosition() > 0 ? w.getPosition() : i + 1;
        stats.winners.increment();
        Pricing pricing = w.getPricing() == Pricing.CPC || w.getPricing() == Pricing.CPM
            ? w.getPricing()
            : pricingByCampaign.getOrDefault(w.getCampaignId(), Pricing.PRICING_UNSPECIFIED);
        if (pricing == Pricing.CPM) {
          stats.cpmPriceSumMicros.add(w.getPriceMicros());
        }
        emit(event(requestId, w, position, EventType.IMPRESSION), random);
        Optional<Market.Listing> listing = market.listing(w.getAdId());
        if (listing.isEmpty()) {
          stats.unknownAds.increment();
          continue;
        }
        double p = clickModel.clickProbability(listing.get().ad(), request.destination(), request.context(), position);
        stats.expectedClicks.add(p);
        if (random.nextDouble() < p) {
          stats.clicks.increment();
          if (pricing == Pricing.CPC) {
            stats.cpcSpendMicros.add(w.getPriceMicros());
          }
          long delay = CLICK_DELAY_MIN_MS + random.nextInt(CLICK_DELAY_SPREAD_MS);
          schedule(() -> emit(event(requestId, w, position, EventType.CLICK), random(requestId)), delay);
        }
      }
    }

    private SplittableRandom random(String requestId) {
      return new SplittableRandom(options.trafficSeed() ^ requestId.hashCode());
    }

    private void emit(Event event, SplittableRandom random) {
      if (reporter.offer(event) && random.nextDouble() < RESEND_SHARE) {
        // A resend is a deliberate duplicate of an event already queued: once the run is over (a
        // click emitted while the scheduler drains) it is simply not sent, and nothing is lost.
        trySchedule(() -> {
          stats.eventsResent.increment();
          reporter.offer(event);
        }, RESEND_AFTER.toMillis());
      }
    }

    /** Schedules an event that must be sent; one the finished run cannot take counts as dropped. */
    private void schedule(Runnable task, long delayMs) {
      if (!trySchedule(task, delayMs)) {
        stats.eventsDropped.increment();
      }
    }

    private boolean trySchedule(Runnable task, long delayMs) {
      try {
        scheduler.schedule(task, delayMs, TimeUnit.MILLISECONDS);
        return true;
      } catch (RejectedExecutionException e) {
        return false; // the run is over
      }
    }

    private Event event(String requestId, Winner w, int position, EventType type) {
      return Event.newBuilder()
          .setEventId(requestId + ":" + position + (type == EventType.CLICK ? ":clk" : ":imp"))
          .setRequestId(requestId)
          .setAdId(w.getAdId())
          .setCampaignId(w.getCampaignId())
          .setType(type)
          .setTimeMs(System.currentTimeMillis())
          .build();
    }
  }

  /** The periodic one-line report: rates and latency over the last interval, totals so far. */
  private final class ReportLine {
    private final long start;
    private long lastNanos;
    private long lastCompleted;
    private long lastOk;
    private long lastSlots;
    private long lastWinners;

    ReportLine(long start) {
      this.start = start;
      this.lastNanos = start;
    }

    synchronized void print() {
      long now = System.nanoTime();
      double seconds = Math.max(1e-9, (now - lastNanos) / 1e9);
      long ok = stats.ok.sum();
      long completed = ok + stats.errors.sum();
      long slots = stats.slotsRequested.sum();
      long winners = stats.winners.sum();
      Histogram latency = stats.takeInterval();
      long dCompleted = completed - lastCompleted;
      long dSlots = slots - lastSlots;
      long clicks = stats.clicks.sum();
      out.printf(Locale.ROOT,
          "[sim] t=%ds rps=%.0f ok=%.1f%% p50=%s p99=%s fill=%.0f%% imps=%d clicks=%d ctr=%.1f%% spend=%s errors=%d refused=%d%n",
          Math.round((now - start) / 1e9),
          dCompleted / seconds,
          dCompleted == 0 ? 0.0 : 100.0 * (ok - lastOk) / dCompleted,
          millis(latency, 50),
          millis(latency, 99),
          dSlots == 0 ? 0.0 : 100.0 * (winners - lastWinners) / dSlots,
          winners,
          clicks,
          winners == 0 ? 0.0 : 100.0 * clicks / winners,
          SimulationSummary.units(stats.spendMicros()),
          stats.errors.sum(),
          stats.refused.sum());
      out.flush();
      lastNanos = now;
      lastCompleted = completed;
      lastOk = ok;
      lastSlots = slots;
      lastWinners = winners;
    }

    private static String millis(Histogram latency, double percentile) {
      return latency.getTotalCount() == 0
          ? "-"
          : String.format(Locale.ROOT, "%.1fms", latency.getValueAtPercentile(percentile) / 1000.0);
    }
  }

  /**
   * The shaded Netty inside the gRPC client logs at DEBUG through SLF4J when no logback config
   * is present; as a program the simulator keeps that at WARN (a library caller's own logging
   * config is left alone).
   */
  private static void quietTransportLogs() {
    if (org.slf4j.LoggerFactory.getLogger("io.grpc.netty.shaded") instanceof ch.qos.logback.classic.Logger netty) {
      netty.setLevel(ch.qos.logback.classic.Level.WARN);
    }
  }

  /** Command line: {@code java -cp engine.jar dev.adengine.engine.sim.TrafficSimulator --rate 500}. */
  @Command(name = "adengine-sim", mixinStandardHelpOptions = true,
      description = "Creates a synthetic hotel-ads market in an engine node and drives realistic bid and event traffic at it.")
  static final class Cli implements Callable<Integer> {

    @Option(names = "--target", paramLabel = "HOST:PORT",
        defaultValue = "${env:ADENGINE_GRPC_HOST:-127.0.0.1}:${env:ADENGINE_GRPC_PORT:-8080}",
        description = "engine gRPC endpoint (default: $ADENGINE_GRPC_HOST:$ADENGINE_GRPC_PORT, else ${DEFAULT-VALUE})")
    String target;

    @Option(names = "--rate", defaultValue = "200", description = "bid requests per second (default ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--duration", defaultValue = "0", description = "seconds to send; 0 = until interrupted")
    long durationSeconds;

    @Option(names = "--seed", defaultValue = "1", description = "market and traffic seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--traffic-seed", description = "seed of requests and clicks alone (default: --seed), for"
        + " another traffic stream on the same market")
    Long trafficSeed;

    @Option(names = "--device-mix", split = ",", paramLabel = "MOBILE,DESKTOP,TABLET",
        description = "shares of devices in the requests, summing to 1 (default 0.55,0.40,0.05)")
    double[] deviceMix;

    @Option(names = "--campaigns", defaultValue = "1000", description = "campaigns in the market (default ${DEFAULT-VALUE})")
    int campaigns;

    @Option(names = "--no-setup", description = "do not create the market; it is already in the engine")
    boolean noSetup;

    @Option(names = "--report-every", defaultValue = "5", description = "seconds between report lines (default ${DEFAULT-VALUE})")
    long reportEverySeconds;

    @Option(names = "--debug-share", defaultValue = "0", description = "fraction of requests with debug=true (default ${DEFAULT-VALUE})")
    double debugShare;

    @Option(names = "--tmax-ms", defaultValue = "100", description = "tmax_ms of every request (default ${DEFAULT-VALUE})")
    int tmaxMs;

    @Option(names = "--max-in-flight", defaultValue = "2000", description = "outstanding bid calls at most; more are refused and counted")
    int maxInFlight;

    @Option(names = "--users", defaultValue = "100000", description = "simulated user population (default ${DEFAULT-VALUE})")
    int users;

    private RequestGenerator.Mix mix(double[] shares) {
      if (shares == null) {
        return RequestGenerator.Mix.DEFAULT;
      }
      if (shares.length != 3) {
        throw new CommandLine.ParameterException(new CommandLine(this), "--device-mix takes three shares, got "
            + shares.length);
      }
      try {
        return new RequestGenerator.Mix(shares[0], shares[1], shares[2]);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(new CommandLine(this), "--device-mix: " + e.getMessage());
      }
    }

    @Override
    public Integer call() throws Exception {
      int colon = target.lastIndexOf(':');
      if (colon <= 0 || colon == target.length() - 1) {
        throw new CommandLine.ParameterException(new CommandLine(this), "--target must be host:port, got " + target);
      }
      SimulatorOptions.Builder builder = SimulatorOptions.builder()
          .target(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)))
          .rate(rate)
          .duration(Duration.ofSeconds(durationSeconds))
          .seed(seed)
          .campaigns(campaigns)
          .setup(!noSetup)
          .reportEvery(Duration.ofSeconds(reportEverySeconds))
          .debugShare(debugShare)
          .tmaxMs(tmaxMs)
          .maxInFlight(maxInFlight)
          .users(users)
          .mix(mix(deviceMix));
      if (trafficSeed != null) {
        builder.trafficSeed(trafficSeed);
      }
      SimulatorOptions options = builder.build();
      TrafficSimulator simulator = new TrafficSimulator(options, System.out);
      CountDownLatch finished = new CountDownLatch(1);
      Thread hook = new Thread(() -> {
        simulator.requestStop();
        try {
          finished.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "sim-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        simulator.run();
        return 0;
      } catch (MarketSetup.SetupException e) {
        System.err.println("[sim] setup failed: " + e.getMessage());
        return 1;
      } finally {
        finished.countDown();
      }
    }
  }

  public static void main(String[] args) {
    quietTransportLogs();
    System.exit(new CommandLine(new Cli()).execute(args));
  }
}
