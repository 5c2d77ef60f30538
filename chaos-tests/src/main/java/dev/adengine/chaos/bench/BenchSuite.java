package dev.adengine.chaos.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.typesafe.config.ConfigFactory;
import dev.adengine.api.v1.AuctionServiceClient;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.chaos.loadgen.LoadGenerator;
import dev.adengine.chaos.loadgen.LoadOptions;
import dev.adengine.chaos.loadgen.LoadResult;
import dev.adengine.engine.sim.MarketGenerator;
import dev.adengine.engine.sim.RequestGenerator;
import dev.adengine.persistence.CassandraSessions;
import dev.adengine.persistence.CassandraSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/bench}: the end-to-end benchmark. Starts, one at a time, the grpc-java reference
 * server, the Pekko gRPC reference server and one engine node (on Cassandra at the engine's
 * configured address, in a fresh keyspace, with the simulator's market created through the load
 * generator), each as its own JVM with the engine's JVM flags, and drives each with the open-loop
 * {@link LoadGenerator} in this JVM at the same stepped fixed rates. Per step it records latency,
 * errors, the server's CPU time and heap allocation per request and this JVM's own CPU per request;
 * then it writes {@code README.md}, {@code bench.json} and {@code latency-vs-rate.png} into the
 * output folder ({@link BenchReport}). Comparing the servers at the same rate in one run on one
 * machine shows what the engine costs above its transport, and its transport above plain grpc-java.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Measure grpc-java, the Pekko gRPC reference and the engine at stepped fixed rates.")
public final class BenchSuite implements Callable<Integer> {
  /** Servers in the order they are measured. */
  static final List<String> ALL_SERVERS = List.of("grpc-java", "pekko-grpc", "engine");
  private static final Duration START_WAIT = Duration.ofSeconds(180);

  @Option(names = "--rates", split = ",", description = "Requests/s, in order (default ${DEFAULT-VALUE}).")
  List<Integer> rates = new ArrayList<>(List.of(500, 1000, 2000, 4000, 8000));

  @Option(names = "--step-seconds", description = "Measured seconds per step (default ${DEFAULT-VALUE}).")
  int stepSeconds = 20;

  @Option(names = "--warmup-seconds", description = "Warm-up seconds before each step (default ${DEFAULT-VALUE}).")
  int warmupSeconds = 5;

  @Option(names = "--settle-rounds", description = "Before its first measured step, each server is driven at its"
      + " first rate in rounds of --settle-seconds until its JIT compilers take at most --settle-jit-share of its"
      + " CPU in a round, at most this many rounds (default ${DEFAULT-VALUE}; 0 = none).")
  int settleRounds = 12;

  @Option(names = "--settle-seconds", description = "Seconds per settling round (default ${DEFAULT-VALUE}).")
  int settleSeconds = 10;

  @Option(names = "--settle-jit-share", description = "JIT compilers' share of the server's CPU in a round below"
      + " which it counts as settled (default ${DEFAULT-VALUE}).")
  double settleJitShare = 0.05;

  @Option(names = "--servers", split = ",", description = "Among grpc-java,pekko-grpc,engine (default all).")
  List<String> servers = new ArrayList<>(ALL_SERVERS);

  @Option(names = "--campaigns", description = "Campaigns in the simulator's market (default ${DEFAULT-VALUE}).")
  int campaigns = MarketGenerator.DEFAULT_CAMPAIGNS;

  @Option(names = "--ratio-rate", description = "Rate the CPU ratios are taken at (default ${DEFAULT-VALUE}).")
  int ratioRate = 1000;

  @Option(names = "--candidate-sample", description = "Answers sampled for mean candidates (default ${DEFAULT-VALUE}).")
  int candidateSample = 200;

  @Option(names = "--keyspace", description = "Engine keyspace (default: $ADENGINE_KEYSPACE, else bench_<time>).")
  String keyspace;

  @Option(names = "--keep-keyspaces", description = "Keep the engine keyspaces this run made (by default they are"
      + " dropped at the end: each run makes a new set, and kept sets pile up in the Cassandra node until its heap"
      + " runs out).")
  boolean keepKeyspaces;

  @Option(names = "--out", description = "Output folder (default ${DEFAULT-VALUE}).")
  Path out = Path.of("docs/benchmarks");

  @Option(names = "--log-dir", description = "Server logs (default ${DEFAULT-VALUE}).")
  Path logDir = Path.of("var/bench");

  @Option(names = "--cassandra", description = "How Cassandra was provided, for the report.")
  String cassandra = "expected at the engine's configured address";

  @Option(names = "--cassandra-pid", description = "Pid of the Cassandra node, to measure its CPU per request in"
      + " each step (0 = not measured; bin/bench passes the node bin/cassandra runs).")
  long cassandraPid;

  @Option(names = "--cassandra-jmx-port", description = "Local JMX port of that node, to count per request the CQL"
      + " requests, table writes and reads, compactions and collections its CPU went to (default: "
      + "$ADENGINE_CASSANDRA_JMX_PORT, else ${DEFAULT-VALUE}; read only when --cassandra-pid is given).",
      defaultValue = "${env:ADENGINE_CASSANDRA_JMX_PORT:-7199}")
  int cassandraJmxPort;

  @Option(names = "--seed", description = "Seed of the market and requests (default ${DEFAULT-VALUE}).")
  long seed = 1;

  @Option(names = "--variants", split = ",", description = "Settings tried besides the main runs, server:name"
      + " among ${COMPLETION-CANDIDATES}; 'none' for none (default ${DEFAULT-VALUE}).",
      completionCandidates = VariantNames.class)
  List<String> variants = new ArrayList<>(ServerVariant.DEFAULTS);

  @Option(names = "--variant-rates", split = ",", description = "Rates the variants run at (default: --ratio-rate).")
  List<Integer> variantRates;

  @Option(names = "--memory-ads", description = "Ads of the engine node measured for memory, in a second engine run"
      + " at --ratio-rate (default ${DEFAULT-VALUE}; 0 = skip).")
  int memoryAds = 10_000;

  @Option(names = "--profile", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Record JFR in each main server during its --ratio-rate step (default ${DEFAULT-VALUE}).")
  boolean profile;

  @Option(names = "--jmh-since", description = "Epoch seconds bin/bench started its JMH passes; their JSON files"
      + " written since then go into the report (default: none, no JMH section).")
  Long jmhSince;

  @Option(names = "--jmh-groups", split = ",", description = "JMH output groups to include (default ${DEFAULT-VALUE}).")
  List<String> jmhGroups = new ArrayList<>(List.of("ranking", "ledger"));

  /** Completion candidates of --variants. */
  static final class VariantNames extends ArrayList<String> {
    VariantNames() {
      super(ServerVariant.KNOWN.keySet());
    }
  }

  /**
   * One server run: which server, under what label and flags, at which rates, measuring what. With
   * {@code warmStep}, a first step at the first rate is run and discarded: a run of a single step
   * would otherwise measure a JVM still compiling, against main runs whose ratio-rate step follows
   * a 500/s step.
   */
  private record Spec(String label, String kind, List<String> flags, List<Integer> rates, int ads, boolean profile,
      boolean memory, String keyspace, boolean warmStep) {}

  /** What one server run measured. */
  private record Measured(List<StepResult> steps, JvmProbe.Memory memory, String memoryNote, JfrSummary profile,
      String profileNote, StepResult profileStep) {}

  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchSuite()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    for (String s : servers) {
      if (!ALL_SERVERS.contains(s)) {
        throw new CommandLine.ParameterException(new CommandLine(this), "unknown server " + s + ": " + ALL_SERVERS);
      }
    }
    List<ServerVariant> chosen = new ArrayList<>();
    for (String v : variants) {
      if (v.equals("none")) {
        continue;
      }
      ServerVariant known = ServerVariant.KNOWN.get(v);
      if (known == null || !servers.contains(known.server())) {
        throw new CommandLine.ParameterException(new CommandLine(this), "unknown variant " + v + " (or its server"
            + " is not among --servers): " + ServerVariant.KNOWN.keySet());
      }
      chosen.add(known);
    }
    List<Integer> atRates = variantRates == null ? List.of(ratioRate) : variantRates;
    List<String> serverFlags = serverJvmFlags();
    ZonedDateTime started = ZonedDateTime.now(ZoneOffset.UTC);
    String env = System.getenv("ADENGINE_KEYSPACE");
    // Keyspaces named by the user are theirs to drop.
    keepKeyspaces |= keyspace != null || (env != null && !env.isBlank());
    if (keyspace == null) {
      keyspace = env != null && !env.isBlank() ? env
          : "bench_" + started.format(DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss", Locale.ROOT));
    }
    ProcCpu cpu = ProcCpu.fromGetconf();
    LocalDate today = started.toLocalDate();
    PrintStream console = System.out;
    BenchReport.Run run = new BenchReport.Run(started, BenchReport.Machine.capture(), serverFlags, rates,
        stepSeconds, warmupSeconds, servers, campaigns, keyspace, cassandra, cpu.ticksPerSecond(), ratioRate);
    BenchReport.Findings f = new BenchReport.Findings();
    try {
      measureAll(run, f, chosen, atRates, serverFlags, cpu, today, console);
    } finally {
      if (!keepKeyspaces) {
        dropKeyspaces(console);
      }
    }
    return 0;
  }

  /** The engine keyspaces this run made, dropped at the end unless {@link #keepKeyspaces}. */
  private final List<String> made = new ArrayList<>();

  private void measureAll(BenchReport.Run run, BenchReport.Findings f, List<ServerVariant> chosen, List<Integer> atRates,
      List<String> serverFlags, ProcCpu cpu, LocalDate today, PrintStream console) throws Exception {
    for (String name : ALL_SERVERS) {
      if (servers.contains(name)) {
        // The engine's first step follows the market's creation: a discarded step at the first rate
        // lets the set-up's after-effects (grants, snapshots, journal writes for 1,000 campaigns) settle.
        Measured m = measure(new Spec(name, name, serverFlags, rates, 0, profile, true, keyspace,
            name.equals("engine")), cpu, today,
            f.notes(), console);
        f.results().put(name, m.steps());
        record(f, name, m);
      }
    }
    if (memoryAds > 0 && servers.contains("engine")) {
      String label = String.format(Locale.ROOT, "engine, %,d ads", memoryAds);
      Measured m = measure(new Spec(label, "engine", serverFlags, List.of(ratioRate), memoryAds, false, true,
          keyspace + "_ads", true), cpu, today, f.notes(), console);
      f.memoryRuns().put(label, m.steps());
      record(f, label, m);
    }
    for (ServerVariant v : chosen) {
      String label = v.key();
      Measured m = measure(new Spec(label, v.server(), v.flags(serverFlags), atRates, 0, false, false,
          keyspace + "_" + v.name().replace('-', '_'), true), cpu, today, f.notes(), console);
      f.variants().put(v, m.steps());
    }
    if (jmhSince != null) {
      f.jmh(JmhSummary.read(out, jmhGroups, java.time.Instant.ofEpochSecond(jmhSince)));
    }
    BenchReport.write(out, run.finished(BenchReport.loadAverage()), f);
    console.printf("[bench] wrote %s%n", out.resolve("README.md"));
  }

  private void dropKeyspaces(PrintStream console) {
    if (made.isEmpty()) {
      return;
    }
    CassandraSettings settings = CassandraSettings.fromEnv(made.get(0));
    try (CqlSession session = CassandraSessions.connect(settings, Duration.ofSeconds(10))) {
      for (String k : made) {
        session.execute(SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + k).setTimeout(Duration.ofSeconds(60)));
      }
      console.printf("[bench] dropped the keyspaces %s (--keep-keyspaces keeps them)%n", made);
    } catch (RuntimeException e) {
      console.printf("[bench] could not drop the keyspaces %s: %s%n", made, e);
    }
  }

  /** The server JVM flags: {@code $ADENGINE_SERVER_JVM_FLAGS}, one flag a line (bin/bench sets it). */
  private static List<String> serverJvmFlags() {
    String env = System.getenv("ADENGINE_SERVER_JVM_FLAGS");
    if (env == null || env.isBlank()) {
      throw new IllegalStateException("ADENGINE_SERVER_JVM_FLAGS is not set: run through bin/bench");
    }
    return env.lines().map(String::trim).filter(l -> !l.isEmpty()).toList();
  }

  private static void record(BenchReport.Findings f, String label, Measured m) {
    if (m.memory() != null) {
      f.memory().put(label, m.memory());
    }
    if (m.memoryNote() != null) {
      f.memoryNotes().put(label, m.memoryNote());
    }
    if (m.profile() != null) {
      f.profiles().put(label, m.profile());
    }
    if (m.profileNote() != null) {
      f.profileNotes().put(label, m.profileNote());
    }
    if (m.profileStep() != null) {
      f.profileSteps().put(label, m.profileStep());
    }
  }

  /**
   * Starts one server, steps through the rates, stops it. The step at {@link #ratioRate} may be
   * followed by a memory reading (a full GC, outside any window); after the last step, the server
   * may be profiled with JFR during one more step at the ratio rate, reported apart.
   */
  private Measured measure(Spec spec, ProcCpu cpu, LocalDate today, Map<String, String> notes, PrintStream console)
      throws InterruptedException {
    String name = spec.label();
    boolean engine = spec.kind().equals("engine");
    console.printf("%n[bench] ==== %s ====%n", name);
    List<StepResult> steps = new ArrayList<>();
    ServerUnderTest server;
    try {
      if (engine && !made.contains(spec.keyspace())) {
        made.add(spec.keyspace());
      }
      List<String> flags = spec.profile() ? withRecorderAtStart(spec.flags(), name) : spec.flags();
      server = engine
          ? ServerUnderTest.engine(spec.keyspace(), flags, logDir, START_WAIT)
          : ServerUnderTest.reference(spec.kind(), flags, logDir, START_WAIT);
    } catch (Exception e) {
      notes.put(name, "did not start: " + e.getMessage());
      spec.rates().forEach(r -> steps.add(StepResult.notRun(name, r, "server did not start")));
      return new Measured(steps, null, null, null, null, null);
    }
    JvmProbe.Memory memory = null;
    String memoryNote = null;
    JfrSummary profileSummary = null;
    String profileNote = null;
    StepResult profileStep = null;
    try (server) {
      console.printf("[bench] %s pid %d on port %d (log %s)%n", name, server.pid(), server.port(), server.log());
      JvmProbe probe = null;
      try {
        probe = JvmProbe.attach(server.pid());
      } catch (Exception e) {
        notes.merge(name, "allocation, memory and profile not measured: attach failed: " + e, (a, b) -> a + "; " + b);
      }
      CassandraCounters counters = null;
      if (cassandraPid > 0) {
        try {
          counters = CassandraCounters.connect(cassandraJmxPort);
        } catch (Exception e) {
          notes.merge(name, "Cassandra's counters not read: JMX on port " + cassandraJmxPort + ": " + e,
              (a, b) -> a + "; " + b);
        }
      }
      String stopReason = null;
      boolean marketInPlace = false;
      if (spec.warmStep()) {
        StepResult warm = step(name + " (warm-up step, discarded)", server, spec.rates().get(0), engine, spec.ads(),
            new Window(cpu, server.pid(), cassandraPid, counters, spec.keyspace(), probe, null), cpu, today, console);
        marketInPlace = warm.run();
      }
      if (!spec.kind().equals("engine") || marketInPlace) {
        String settled = settle(name, server, spec.rates().get(0), spec.ads(), cpu, today, console);
        if (settled != null) {
          notes.merge(name, settled, (a, b) -> a + "; " + b);
        }
      }
      for (int i = 0; i < spec.rates().size(); i++) {
        int rate = spec.rates().get(i);
        if (stopReason != null) {
          steps.add(StepResult.notRun(name, rate, stopReason));
          continue;
        }
        boolean setUp = engine && i == 0 && !marketInPlace;
        Window window = new Window(cpu, server.pid(), cassandraPid, counters, spec.keyspace(), probe, null);
        StepResult step = step(name, server, rate, setUp, spec.ads(), window, cpu, today, console);
        steps.add(step);
        if (engine && step.run()) {
          // after every step: the candidates a request meets must not drift between steps
          String sample = sampleCandidates(server.port(), today);
          step = step.withNote(step.note().isEmpty() ? sample : step.note() + "; " + sample);
          steps.set(steps.size() - 1, step);
        }
        if (spec.memory() && rate == ratioRate && step.run() && probe != null) {
          try {
            memory = probe.memory();
            memoryNote = engine ? step.note() : null;
          } catch (Exception e) {
            memoryNote = "memory not measured: " + e;
          }
        }
        if (!step.run()) {
          stopReason = "not run: the step at " + rate + "/s failed";
        } else if (!server.alive()) {
          stopReason = "not run: the server exited";
        } else if (BenchRules.stopsStepping(step)) {
          stopReason = "not run: the step at " + rate + "/s had over 10% errors or p99 over 1 s";
        }
      }
      // Profiling gets a step of its own at the ratio rate, after the measured ones and left out of
      // the tables: starting JFR in a JVM costs it CPU and pauses that would distort a measured step.
      if (spec.profile() && probe != null && server.alive()) {
        Path jfr = logDir.toAbsolutePath().resolve(name.replaceAll("[^A-Za-z0-9_.-]", "_") + ".jfr");
        Window window = new Window(cpu, server.pid(), cassandraPid, counters, spec.keyspace(), probe, jfr);
        profileStep = step(name + " (JFR on)", server, ratioRate, false, spec.ads(), window, cpu, today, console);
        if (window.recorded()) {
          try {
            profileSummary = JfrSummary.read(jfr);
          } catch (Exception e) {
            profileNote = "JFR recording " + jfr + " could not be read: " + e;
          }
        } else {
          profileNote = "not profiled: " + window.note();
        }
      }
      if (probe != null) {
        closeQuietly(probe);
      }
      if (counters != null) {
        closeQuietly(counters);
      }
    }
    return new Measured(steps, memory, memoryNote, profileSummary, profileNote, profileStep);
  }

  /**
   * Drives the server at {@code rate} in rounds of {@link #settleSeconds} until its JIT compilers' share
   * of its CPU in a round is at most {@link #settleJitShare}, at most {@link #settleRounds} rounds: a
   * JVM just started spends much of its CPU compiling, more so on a loaded machine, and a step measured
   * then says more about the compiler than about the server. Returns what it did, for the report's
   * notes, or null when it did nothing.
   */
  private String settle(String name, ServerUnderTest server, int rate, int ads, ProcCpu cpu, LocalDate today,
      PrintStream console) throws InterruptedException {
    if (settleRounds <= 0) {
      return null;
    }
    List<String> shares = new ArrayList<>();
    for (int round = 1; round <= settleRounds; round++) {
      long process;
      long jit;
      try {
        long processStart = cpu.ticks(server.pid());
        long jitStart = cpu.jvmInternalTicks(server.pid()).getOrDefault(ProcCpu.JVM_JIT, 0L);
        LoadOptions options = LoadOptions.builder().target("127.0.0.1", server.port()).rate(rate)
            .durationSeconds(settleSeconds).warmupSeconds(0).seed(seed + round).campaigns(campaigns)
            .setupMarket(false).today(today).loadTestBudgets(true).ads(ads).build();
        new LoadGenerator(options, new PrintStream(java.io.OutputStream.nullOutputStream())).run();
        process = cpu.ticks(server.pid()) - processStart;
        jit = cpu.jvmInternalTicks(server.pid()).getOrDefault(ProcCpu.JVM_JIT, 0L) - jitStart;
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception e) {
        return String.format(Locale.ROOT, "settling at %,d/s stopped after %d round(s): %s", rate, round - 1,
            e.getMessage());
      }
      double share = process <= 0 ? 0 : (double) jit / process;
      shares.add(String.format(Locale.ROOT, "%.0f%%", 100 * share));
      console.printf(Locale.ROOT, "[bench] %s settling at %d/s, round %d: JIT compilers %.1f%% of the server's CPU%n",
          name, rate, round, 100 * share);
      if (share <= settleJitShare) {
        return String.format(Locale.ROOT, "settled before measuring: %d round(s) of %d s at %,d/s until the JIT"
            + " compilers took at most %.0f%% of its CPU (%s)", round, settleSeconds, rate, 100 * settleJitShare,
            String.join(", ", shares));
      }
    }
    return String.format(Locale.ROOT, "not settled before measuring: the JIT compilers still took over %.0f%% of its"
        + " CPU after %d rounds of %d s at %,d/s (%s)", 100 * settleJitShare, settleRounds, settleSeconds, rate,
        String.join(", ", shares));
  }

  /**
   * {@code flags} with a one-second JFR recording at the JVM's start, for a server that is profiled
   * later. The first recording in a JVM adds JVMTI capabilities, and HotSpot then throws away the
   * compiled code that depends on them ("Jvmti state change invalidated dependencies"): a server whose
   * first recording starts in the middle of a run is recompiled during its profile, and the engine's
   * compiled stage 2 came back without its vector intrinsics each time (its guard then swapped the
   * scalar path in, so the profile showed the Vector API's fallback). Recording at start, before any
   * of the server's code is compiled, moves that to where it costs nothing.
   */
  private List<String> withRecorderAtStart(List<String> flags, String name) {
    List<String> out = new ArrayList<>(flags);
    out.add("-XX:StartFlightRecording=duration=1s,settings=default,filename="
        + logDir.toAbsolutePath().resolve(name.replaceAll("[^A-Za-z0-9_.-]", "_") + "-start.jfr"));
    return out;
  }

  /** One load-generator run at {@code rate}, with counters read around its measured window. */
  private StepResult step(String name, ServerUnderTest server, int rate, boolean setUpMarket, int ads, Window window,
      ProcCpu cpu, LocalDate today, PrintStream console) throws InterruptedException {
    LoadOptions options = LoadOptions.builder().target("127.0.0.1", server.port()).rate(rate)
        .durationSeconds(stepSeconds).warmupSeconds(warmupSeconds).seed(seed).campaigns(campaigns)
        .setupMarket(setUpMarket).today(today).loadTestBudgets(true).ads(ads).build();
    LoadResult result;
    try {
      result = new LoadGenerator(options, console).onMeasuredStart(window::begin).run();
    } catch (Exception e) {
      if (e instanceof InterruptedException ie) {
        throw ie;
      }
      console.printf("[bench] %s at %d/s failed: %s%n", name, rate, e);
      return StepResult.notRun(name, rate, "failed: " + e.getMessage());
    }
    window.end();
    LoadResult.Totals t = result.totals();
    LoadResult.Percentiles p = t.latency();
    long sent = t.sent();
    StepResult step = new StepResult(name, rate, true, window.note(), t.seconds(), sent, t.ok(), t.errors(),
        p.p50Micros(), p.p99Micros(), p.p999Micros(), p.maxMicros(),
        perRequest(window.serverTicks() == null ? null : cpu.millis(window.serverTicks()) * 1000, sent),
        perRequest(window.allocatedBytes() == null ? null : window.allocatedBytes().doubleValue(), sent),
        perRequest(window.benchTicks() == null ? null : cpu.millis(window.benchTicks()) * 1000, sent),
        perRequest(window.cassandraTicks() == null ? null : cpu.millis(window.cassandraTicks()) * 1000, sent),
        window.cassandraPerRequest(sent), window.threads(sent), result.toJson());
    console.printf(Locale.ROOT, "[bench] %s %d/s: server CPU %s us/req, alloc %s B/req, bench CPU %s us/req,"
        + " Cassandra CPU %s us/req%n", name, rate, fmt(step.serverCpuMicrosPerRequest()),
        fmt(step.serverAllocBytesPerRequest()), fmt(step.benchCpuMicrosPerRequest()),
        fmt(step.cassandraCpuMicrosPerRequest()));
    return step;
  }

  private static Double perRequest(Double total, long sent) {
    return total == null || sent == 0 ? null : total / sent;
  }

  private static String fmt(Double v) {
    return v == null ? "-" : String.format(Locale.ROOT, "%.1f", v);
  }

  /**
   * Sends {@link #candidateSample} requests of the simulator's mix one after the other to the engine
   * and returns the mean of their {@code candidates}: evidence that the market is in place and how
   * much work a request is.
   */
  private String sampleCandidates(int port, LocalDate today) {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bench-sample", ConfigFactory.parseString(
        "pekko.actor.provider = local\npekko.loglevel = WARNING\npekko.stdout-loglevel = WARNING")
        .withFallback(ConfigFactory.defaultReference()));
    try {
      AuctionServiceClient client = AuctionServiceClient.create(
          GrpcClientSettings.connectToServiceAt("127.0.0.1", port, system).withTls(false), system);
      RequestGenerator requests = new RequestGenerator(new MarketGenerator(seed, campaigns, today).generate()
          .destinations(), seed + 1, today, "bench-sample");
      long answers = 0;
      long candidates = 0;
      int failed = 0;
      for (int i = 0; i < candidateSample; i++) {
        try {
          BidResponse r = client.bid(requests.next().request()).toCompletableFuture().get(5, TimeUnit.SECONDS);
          answers++;
          candidates += r.getCandidates();
        } catch (Exception e) {
          failed++;
        }
      }
      String note = answers == 0 ? "candidate sample: no answer out of " + candidateSample
          : String.format(Locale.ROOT, "mean candidates %.1f over a sample of %d answers (%d failed)",
              (double) candidates / answers, answers, failed);
      System.out.println("[bench] engine: " + note);
      return note;
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join(); // the bench's main thread
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      System.err.println("[bench] close failed: " + e);
    }
  }

  /**
   * Counters read at the start of a step's measured window (on the load generator's report thread)
   * and after the run (on the main thread): server, bench and Cassandra CPU ticks, server allocated
   * bytes, Cassandra's own counters.
   */
  private static final class Window {
    private final ProcCpu cpu;
    private final long pid;
    /** The Cassandra node's pid, 0 when not measured. */
    private final long cassandraPid;
    private volatile Long cassandraStart;
    private Long cassandraTicks;
    private final CassandraCounters counters;
    private final String keyspace;
    private volatile Map<String, Long> countersStart;
    private Map<String, Long> countersEnd;
    private final JvmProbe probe;
    private final Path jfr;
    private volatile Long recording;
    private boolean recorded;
    private volatile long serverStart;
    private volatile long benchStart;
    private volatile Long allocStart;
    private volatile Map<Long, ThreadUsage.Sample> threadsStart;
    private Map<Long, ThreadUsage.Sample> threadsEnd;
    private volatile Map<String, Long> jvmTicksStart;
    private Map<String, Long> jvmTicksEnd;
    private volatile boolean begun;
    private volatile String note = "";
    private Long serverTicks;
    private Long benchTicks;
    private Long allocated;

    Window(ProcCpu cpu, long pid, long cassandraPid, CassandraCounters counters, String keyspace, JvmProbe probe,
        Path jfr) {
      this.cpu = cpu;
      this.pid = pid;
      this.cassandraPid = cassandraPid;
      this.counters = counters;
      this.keyspace = keyspace;
      this.probe = probe;
      this.jfr = jfr;
    }

    void begin() {
      if (jfr != null) {
        try {
          recording = probe.startRecording();
        } catch (RuntimeException e) {
          note = "JFR did not start: " + e;
        }
      }
      serverStart = cpu.ticks(pid);
      benchStart = cpu.selfTicks();
      cassandraStart = cassandraTicksNow();
      countersStart = readCounters();
      allocStart = readAllocation();
      threadsStart = readThreads();
      jvmTicksStart = readJvmTicks();
      begun = true;
    }

    void end() {
      if (!begun) {
        note = "the measured window never began";
        return;
      }
      benchTicks = cpu.selfTicks() - benchStart;
      Long cassandraEnd = cassandraTicksNow();
      cassandraTicks = cassandraStart == null || cassandraEnd == null ? null : cassandraEnd - cassandraStart;
      countersEnd = readCounters();
      try {
        serverTicks = cpu.ticks(pid) - serverStart;
      } catch (java.io.UncheckedIOException e) {
        note = "server CPU not measured: " + e.getMessage();
        return;
      }
      threadsEnd = readThreads();
      jvmTicksEnd = readJvmTicks();
      Long allocEnd = readAllocation();
      allocated = allocStart == null || allocEnd == null ? null : allocEnd - allocStart;
      // after the counters: writing the recording out costs the server CPU and allocation
      if (recording != null) {
        try {
          probe.stopRecording(recording, jfr);
          recorded = true;
        } catch (Exception e) {
          note = "JFR recording not saved: " + e;
        }
      }
    }

    /** The Cassandra node's CPU ticks so far; null when no pid was given or it cannot be read (it stopped). */
    private Long cassandraTicksNow() {
      if (cassandraPid <= 0) {
        return null;
      }
      try {
        return cpu.ticks(cassandraPid);
      } catch (java.io.UncheckedIOException e) {
        return null;
      }
    }

    /** Cassandra's counters now; null when not connected or they cannot be read (the node stopped). */
    private Map<String, Long> readCounters() {
      if (counters == null) {
        return null;
      }
      try {
        return counters.read(keyspace);
      } catch (Exception e) {
        return null;
      }
    }

    /** What Cassandra did per request over the window; empty when its counters were not read at both ends. */
    Map<String, Double> cassandraPerRequest(long requests) {
      return countersStart == null || countersEnd == null ? Map.of()
          : CassandraCounters.perRequest(countersStart, countersEnd, requests);
    }

    private Long readAllocation() {
      if (probe == null) {
        return null;
      }
      try {
        return probe.allocatedBytes();
      } catch (Exception e) {
        note = "allocation not measured: " + e;
        return null;
      }
    }

    /** The server's threads' own figures, read at both ends of the window; null when not read. */
    private Map<Long, ThreadUsage.Sample> readThreads() {
      if (probe == null) {
        return null;
      }
      try {
        return probe.threads();
      } catch (Exception e) {
        note = "CPU and allocation by thread not measured: " + e;
        return null;
      }
    }

    /** The server JVM's own threads' CPU ticks by class; null when they cannot be read (it exited). */
    private Map<String, Long> readJvmTicks() {
      try {
        return cpu.jvmInternalTicks(pid);
      } catch (java.io.UncheckedIOException e) {
        return null;
      }
    }

    /**
     * CPU and allocation per request by thread pool over the window, the JVM's own threads included
     * when read at both ends; empty when the Java threads were not read at both ends.
     */
    List<ThreadUsage.Share> threads(long requests) {
      if (threadsStart == null || threadsEnd == null) {
        return List.of();
      }
      List<ThreadUsage.Share> shares = ThreadUsage.between(threadsStart, threadsEnd, requests);
      return jvmTicksStart == null || jvmTicksEnd == null ? shares
          : ThreadUsage.withJvmInternal(shares, jvmTicksStart, jvmTicksEnd, cpu.millis(1), requests);
    }

    Long serverTicks() {
      return serverTicks;
    }

    Long benchTicks() {
      return benchTicks;
    }

    Long cassandraTicks() {
      return cassandraTicks;
    }

    Long allocatedBytes() {
      return allocated;
    }

    String note() {
      return note;
    }

    boolean recorded() {
      return recorded;
    }
  }
}
