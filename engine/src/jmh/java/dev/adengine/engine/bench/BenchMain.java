package dev.adengine.engine.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.util.Statistics;
import org.openjdk.jmh.util.Version;

/**
 * Runs the engine's JMH benchmarks in passes and prints one table per output group; writes each
 * group's table with the machine, commit, JVM and settings to {@code <group>.md}, plus JMH's raw
 * JSON of the group's passes to {@code <group>.json}, in {@code -Dbench.out} (default
 * {@code docs/benchmarks}). Only the groups of the passes run are written.
 *
 * <p>Arguments: the passes to run, default all. Group {@code ledger}: {@code ledger} (LedgerBench,
 * 1 thread), {@code ledger2} (LedgerBench, 2 threads), {@code reservations} (ReservationBench:
 * reserve + expiry, the ReservationBook against the map it replaced), {@code mix} (LedgerMixBench),
 * {@code entity} (EntityBench, in-memory journal), {@code cassandra} (EntityBench on Cassandra;
 * skipped when nothing answers on the CQL port). Group {@code ranking}: {@code scorer}
 * (ScorerBench: Smile's predict against FlatForest), {@code auction} (AuctionBench), {@code bidpath}
 * (BidPathBench), {@code fanout} (FanOutBench). Group {@code lifecycle}: {@code featurelog}
 * (FeatureLogBench). Group {@code observability}: {@code metrics} (MetricsBench). Settings: {@code -Dbench.warmup=3
 * -Dbench.iterations=5 -Dbench.time=1 (s) -Dbench.forks=1}; {@code -Dbench.jvm} for another JVM.
 */
public final class BenchMain {
  /** The engine's JVM flags (bin/lib/common.sh ENGINE_JVM_FLAGS), used for every fork. */
  static final String[] FORK_JVM_ARGS = {
    "-Xms512m", "-Xmx1g", "-XX:+UseParallelGC",
    "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2",
    "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"
  };

  /**
   * The forks' {@code java}: this JVM's unless {@code -Dbench.jvm=/path/to/bin/java} names another
   * (for example a newer JDK, to see what it would change; the report says which ran).
   */
  static final String FORK_JVM = System.getProperty("bench.jvm",
      Path.of(System.getProperty("java.home"), "bin", "java").toString());

  /** A pass runs the benchmarks matching {@code include}; its rows go to {@code group}.md/json. */
  private record Pass(String name, String group, String title, String include, int threads,
      Map<String, String[]> params) {}

  /** What one output file collects: its passes' table rows, notes and raw JMH JSON. */
  private record Group(List<Row> rows, List<String> notes, ArrayNode raw) {}

  private record Row(String pass, String benchmark, String params, int threads, String mode, double score,
      double error, double median, double min, double max, String unit, double allocPerOp) {}

  /** HEAD when the run started, and whether tracked files differed from it then. */
  private static String gitCommit = "";

  public static void main(String[] args) throws Exception {
    Path out = Path.of(System.getProperty("bench.out", "docs/benchmarks"));
    int warmup = Integer.getInteger("bench.warmup", 3);
    int iterations = Integer.getInteger("bench.iterations", 5);
    int seconds = Integer.getInteger("bench.time", 1);
    int forks = Integer.getInteger("bench.forks", 1);

    List<Pass> all = List.of(
        new Pass("ledger", "ledger", "Ledger calls, 1 thread", "\\.LedgerBench\\.", 1, Map.of()),
        new Pass("ledger2", "ledger", "Ledger calls, 2 threads", "\\.LedgerBench\\.", 2, Map.of()),
        new Pass("reservations", "ledger", "CPC reservations: reserve + keeper expiry at a steady open count",
            "\\.ReservationBench\\.", 1, Map.of()),
        new Pass("mix", "ledger", "Check while charging (JMH group: 1 checking + 1 charging thread)",
            "\\.LedgerMixBench\\.", -1, Map.of()),
        new Pass("entity", "ledger", "CampaignEntity SyncNode, in-memory journal", "\\.EntityBench\\.", 1,
            Map.of("journal", new String[] {"inmem"})),
        new Pass("cassandra", "ledger", "CampaignEntity SyncNode, Cassandra journal", "\\.EntityBench\\.", 1,
            Map.of("journal", new String[] {"cassandra"})),
        new Pass("scorer", "ranking", "Click probability per row: Smile predict vs FlatForest vs VectorForest vs RankForest", "\\.ScorerBench\\.",
            1, Map.of()),
        new Pass("auction", "ranking", "GSP / first-price auction over the ranked top K, 5 slots",
            "\\.AuctionBench\\.", 1, Map.of()),
        new Pass("bidpath", "ranking", "Retrieval + two-stage ranking + auction for one request", "\\.BidPathBench\\.",
            1, Map.of()),
        new Pass("fanout", "ranking", "Stage 2 inline vs fanned out to 2 ranking workers", "\\.FanOutBench\\.",
            1, Map.of()),
        new Pass("featurelog", "lifecycle", "Feature log: the bid path's hand-over and the writer's work per request",
            "\\.FeatureLogBench\\.", 1, Map.of()),
        new Pass("metrics", "observability", "What the Kamon bid metrics and the SLO tracker add to each Bid call",
            "\\.MetricsBench\\.", 1, Map.of()));
    Set<String> wanted = args.length == 0 ? null : Set.of(args);
    ObjectMapper json = new ObjectMapper();
    Map<String, Group> groups = new LinkedHashMap<>();
    String loadBefore = read("/proc/loadavg").trim();
    // Before the run: afterwards this run's own output files would count as uncommitted changes.
    gitCommit = git("rev-parse", "HEAD") + (git("status", "--porcelain", "--untracked-files=no").isEmpty() ? ""
        : " (with uncommitted changes)");
    Instant started = Instant.now();

    for (Pass pass : all) {
      if (wanted != null && !wanted.contains(pass.name())) {
        continue;
      }
      Group group = groups.computeIfAbsent(pass.group(),
          g -> new Group(new ArrayList<>(), new ArrayList<>(), json.createArrayNode()));
      if (pass.name().equals("cassandra") && !cqlAnswers()) {
        String note = "cassandra pass skipped: nothing answers on " + cqlHost() + ":" + cqlPort();
        System.out.println(note);
        group.notes().add(note);
        continue;
      }
      Path jsonFile = Files.createTempFile("jmh-" + pass.name(), ".json");
      ChainedOptionsBuilder options = new OptionsBuilder()
          .include(pass.include())
          .warmupIterations(warmup)
          .warmupTime(TimeValue.seconds(seconds))
          .measurementIterations(iterations)
          .measurementTime(TimeValue.seconds(seconds))
          .forks(forks)
          .jvmArgs(FORK_JVM_ARGS)
          .jvm(FORK_JVM)
          .addProfiler(GCProfiler.class)
          .resultFormat(ResultFormatType.JSON)
          .result(jsonFile.toString());
      if (pass.threads() > 0) {
        options.threads(pass.threads());
      }
      pass.params().forEach(options::param);
      System.out.println("== " + pass.title());
      for (RunResult result : new Runner(options.build()).run()) {
        group.rows().addAll(rowsOf(pass, result));
      }
      for (JsonNode n : json.readTree(jsonFile.toFile())) {
        group.raw().add(n);
      }
      Files.delete(jsonFile);
    }

    String loadAfter = read("/proc/loadavg").trim();
    Files.createDirectories(out);
    for (Map.Entry<String, Group> e : groups.entrySet()) {
      String name = e.getKey();
      Group group = e.getValue();
      String table = table(group.rows());
      String speedUp = name.equals("ranking") ? speedUp(group.rows()) : "";
      System.out.println();
      System.out.println(table);
      System.out.print(speedUp);
      json.writerWithDefaultPrettyPrinter().writeValue(out.resolve(name + ".json").toFile(), group.raw());
      String md = markdown(name, table + speedUp, group.notes(), warmup, iterations, seconds, forks, started,
          loadBefore, loadAfter);
      Files.writeString(out.resolve(name + ".md"), md, StandardCharsets.UTF_8);
      System.out.println("wrote " + out.resolve(name + ".md") + " and " + out.resolve(name + ".json"));
    }
  }

  /** How many times fewer ns per row FlatForest takes than Smile, from this run's medians. */
  private static String speedUp(List<Row> rows) {
    Map<String, Double> median = new HashMap<>();
    for (Row r : rows) {
      median.put(r.benchmark(), r.median());
    }
    Double smile = median.get("ScorerBench.smile");
    if (smile == null) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    for (String scorer : List.of("flat", "flatScratch", "vector8", "vector50", "rank8", "rank50", "rank64")) {
      Double t = median.get("ScorerBench." + scorer);
      if (t != null) {
        b.append(String.format(Locale.ROOT, "%nSpeed-up, %s (%s) vs Smile (ratio of the medians above): %.1fx%n",
            scorer.startsWith("vector") ? "VectorForest" : scorer.startsWith("rank") ? "RankForest" : "FlatForest",
            scorer, smile / t));
      }
    }
    return b.toString();
  }

  private static List<Row> rowsOf(Pass pass, RunResult result) {
    var params = result.getParams();
    String name = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.', params.getBenchmark()
        .lastIndexOf('.') - 1) + 1);
    Map<String, String> p = new TreeMap<>();
    for (String key : params.getParamsKeys()) {
      p.put(key, params.getParam(key));
    }
    String paramText = p.isEmpty() ? "" : p.toString().replaceAll("[{}]", "");
    var aggregated = result.getAggregatedResult();
    Map<String, Result> secondary = aggregated.getSecondaryResults();
    Result alloc = secondary.get("gc.alloc.rate.norm");
    double allocPerOp = alloc == null ? Double.NaN : alloc.getScore();
    List<Row> rows = new ArrayList<>();
    if (pass.threads() < 0) {
      // A group: one row per method, from JMH's per-method secondary results.
      for (Map.Entry<String, Result> e : secondary.entrySet()) {
        if (e.getKey().startsWith("gc.") || e.getKey().startsWith("·")) {
          continue;
        }
        rows.add(row(pass, name + ":" + e.getKey(), paramText, 1, params.getMode().shortLabel(), e.getValue(),
            Double.NaN));
      }
      rows.add(row(pass, name + " (both, gc per op of the group)", paramText, params.getThreads(),
          params.getMode().shortLabel(), aggregated.getPrimaryResult(), allocPerOp));
    } else {
      rows.add(row(pass, name, paramText, params.getThreads(), params.getMode().shortLabel(),
          aggregated.getPrimaryResult(), allocPerOp));
    }
    return rows;
  }

  private static Row row(Pass pass, String name, String params, int threads, String mode, Result r,
      double allocPerOp) {
    Statistics s = r.getStatistics();
    return new Row(pass.name(), name, params, threads, mode, r.getScore(), r.getScoreError(), s.getPercentile(50),
        s.getMin(), s.getMax(), r.getScoreUnit(), allocPerOp);
  }

  private static String table(List<Row> rows) {
    StringBuilder b = new StringBuilder();
    b.append("| pass | benchmark | params | threads | mode | median | mean ± error (99.9%) | min .. max | unit"
        + " | alloc B/op | median vs 1 thread |\n");
    b.append("| --- | --- | --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: |\n");
    Map<String, Double> oneThread = new LinkedHashMap<>();
    for (Row r : rows) {
      if (r.pass().equals("ledger")) {
        oneThread.put(r.benchmark() + "|" + r.params(), r.median());
      }
    }
    for (Row r : rows) {
      Double base = r.pass().equals("ledger2") ? oneThread.get(r.benchmark() + "|" + r.params()) : null;
      b.append("| ").append(r.pass())
          .append(" | ").append(r.benchmark())
          .append(" | ").append(r.params())
          .append(" | ").append(r.threads())
          .append(" | ").append(r.mode())
          .append(" | ").append(num(r.median()))
          .append(" | ").append(num(r.score())).append(" ± ").append(num(r.error()))
          .append(" | ").append(num(r.min())).append(" .. ").append(num(r.max()))
          .append(" | ").append(r.unit())
          .append(" | ").append(Double.isNaN(r.allocPerOp()) ? "" : num(r.allocPerOp()))
          .append(" | ").append(base == null ? "" : String.format(Locale.ROOT, "%.2fx", r.median() / base))
          .append(" |\n");
    }
    return b.toString();
  }

  private static String num(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    double a = Math.abs(v);
    return String.format(Locale.ROOT, a >= 1000 ? "%,.0f" : a >= 10 ? "%.1f" : "%.2f", v);
  }

  private static String markdown(String group, String table, List<String> notes, int warmup, int iterations,
      int seconds, int forks, Instant started, String loadBefore, String loadAfter) throws IOException {
    StringBuilder b = new StringBuilder();
    b.append(group.equals("ranking") ? "# Ranking micro-benchmarks\n\n" : group.equals("lifecycle")
        ? "# ML lifecycle micro-benchmarks\n\n" : "# Engine micro-benchmarks\n\n");
    b.append("Written by `dev.adengine.engine.bench.BenchMain` (engine/src/jmh/java); run with `bin/bench-micro`."
        + " Figures from one run on a shared machine: compare rows of the same run, not runs with each other.\n\n");
    b.append("## Run\n\n");
    b.append("- machine: ").append(cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
        .append(" processors (nproc), ").append(memTotal()).append(" memory\n");
    b.append("- load average (1/5/15 min) before: ").append(loadBefore).append("; after: ").append(loadAfter)
        .append("\n");
    b.append("- started: ").append(started.truncatedTo(ChronoUnit.SECONDS)).append(", finished: ")
        .append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append("\n");
    b.append("- git commit: ").append(gitCommit).append("\n");
    b.append("- JVM: ").append(System.getProperty("java.vm.name")).append(" ")
        .append(System.getProperty("java.runtime.version")).append(" (").append(System.getProperty("java.vendor"))
        .append(")\n");
    b.append("- JMH: ").append(Version.getPlainVersion()).append("; ").append(warmup).append(" warm-up + ")
        .append(iterations).append(" measurement iterations of ").append(seconds).append(" s, ").append(forks)
        .append(forks == 1 ? " fork" : " forks").append(", GC profiler on\n");
    b.append("- fork JVM: `").append(FORK_JVM).append("`").append(System.getProperty("bench.jvm") == null
        ? " (this JVM's)" : " (-Dbench.jvm: not the JVM above)").append("\n");
    b.append("- fork JVM flags: `").append(String.join(" ", FORK_JVM_ARGS)).append("`\n");
    for (String note : notes) {
      b.append("- note: ").append(note).append("\n");
    }
    b.append("\n## Results\n\n");
    b.append("`avgt` rows are ns per operation as each thread sees it (with 2 threads, the pair does about"
        + " 2 / t operations per ns); `thrpt` rows are operations per second. The error is JMH's 99.9%"
        + " confidence half-width over the measurement iterations; median, min and max are over the same"
        + " iterations. `alloc B/op` is `gc.alloc.rate.norm`. `median vs 1 thread` divides a 2-thread"
        + " median by the 1-thread median of the same benchmark and params (same run).\n\n");
    b.append(table);
    b.append("\n## What each benchmark measures\n\n");
    b.append(group.equals("ranking") ? RANKING_BENCHMARKS : group.equals("lifecycle") ? LIFECYCLE_BENCHMARKS
        : LEDGER_BENCHMARKS);
    return b.toString();
  }

  private static final String LIFECYCLE_BENCHMARKS = """
      - `FeatureLogBench.handOver`: what the bid path adds per answered request for the feature log:
        the logged context, the capture (references to what the request computed, nothing copied)
        and one `ArrayBlockingQueue.offer`; a drain thread empties the queue meanwhile, as the
        writer thread does.
      - `FeatureLogBench.encode`: the writer thread's work per request, off the bid path: each
        candidate's feature row (the serving extractor), the drift monitor's window update, each
        winner's click probability at its slot (for the guardrail), the shadow model's scores
        (`shadow=on`) and the binary record. Not included: the Cassandra write itself. Requests of
        the simulator's market as in `BidPathBench` (about 200 candidate ads, top K 50).
      """;

  private static final String RANKING_BENCHMARKS = """
      - `ScorerBench.smile`: `GradientTreeBoost.predict(Tuple, double[])`, Smile's own click
        probability for one row, on a forest trained like the shipped stage-2 model (same
        `CtrTrainer.Options`) on the simulator's click logs (`ScorerFixture`). The 4,096 rows are
        held-out simulator impressions, taken in turn; their tuples are built beforehand over one
        shared schema, Smile's fastest case.
      - `ScorerBench.flat`: `FlatForest.probability(double[])` on the same rows, compiled from the
        same model; the fixture checks both agree within 1e-9 on every row before measuring.
      - `ScorerBench.flatScratch`: `FlatForest.probability(double[], double[])`, the same
        probability (bit for bit) computed in two phases with a per-thread scratch array of
        `scratchSize()` doubles.
      - `ScorerBench.vector8` / `vector50`: `VectorForest.probabilities(rows, from, n, out, scratch)`
        on consecutive rows of the same set, `n` = 8 (one 512-bit batch) or 50 (a ranking's top K),
        per row (`@OperationsPerInvocation`); includes transposing the rows into columns. The same
        probabilities bit for bit (the fixture checks every row); the fork adds
        `--add-modules jdk.incubator.vector` and the fixture fails if the vector path is not active.
      - `ScorerBench.rank8` / `rank50` / `rank64`: `RankForest.probabilities(rows, from, n, out, scratch)`
        on the same consecutive rows, `n` = 8, 50 or 64 (one 512-bit vector of byte lanes, and the
        top K that suits it), per row; includes ranking every feature of every row among the forest's
        thresholds. Within 1e-9 of Smile on every row (the fixture checks, and prints the largest
        difference); the fixture fails if the vector path is not active.
      - `AuctionBench.run`: `Auction.run` alone, GSP or first price for 5 slots over `candidates`
        CPC candidates (10, 64 = the default top K, or 200 = every candidate of a typical request)
        handed over unsorted, about one in ten under the reserve: the ranking sort plus the price walk.
      - `BidPathBench.retrieveRankAuction`: `BidHandler.plan` for one request on one thread:
        retrieval from a catalog snapshot of the simulator's 1,000-campaign market, stage 1 (features
        + logistic regression) for every ad, best ad per campaign, stage 2 (the shipped model's trees
        and blend) for the top K (64, one batch of the compiled stage 2) inline, and the GSP auction.
        `stage2=scalar` scores the trees on the scalar `FlatForest` (what a node serves with
        `vector-stage2 = off`), `compiled` on the generated `RankForest` (what it serves by default,
        once built). Requests from the simulator's
        generator: `candidates=200` keeps those with 150 to 250 candidate ads, `all` keeps every request
        (the setup prints the mean). Budget reservation and the served record are not included (see
        `ledger.md`). `caches=warm` runs the requests back to back, so what they read stays in the
        CPU's caches; `caches=cold` reads 64 MiB of other memory before each request (not timed), so
        the request finds the market, the model and its code in main memory, as on a node whose
        cores are shared with Cassandra and the transport: the difference is what the layout of
        what a request reads costs it.
      - `FanOutBench.rank`: 200 campaigns (one ad each), stage 2 for the top `topK` either inline
        (`mode=inline`) or in batches of 16 over 2 `RankingWorker` actors (`mode=workers`); the
        score is the caller's wall time per request (it waits for the answer).
      """;

  private static final String LEDGER_BENCHMARKS = """
        - `LedgerBench.check`: `BudgetLedger.get(campaignId)` + `CampaignLedger.free() >= maxCharge`, the
          eligibility check `BidHandler` makes per candidate.
        - `LedgerBench.chargeCpm`: `get` + `CampaignLedger.tryCharge(ceilDiv(price, 1000))`, a CPM win.
        - `LedgerBench.reserveAndConvertCpc`: `BudgetLedger.reserveClick(...)` (a CPC win) followed by
          `convertClick(...)` (its click): one operation is both calls.
        - `campaigns=same`: every thread uses one campaign; `distinct`: each thread cycles over its own
          contiguous block of the 1,000 funded campaigns (allowance 10^15 micros, checked after every
          iteration, so no charge fails).
        - `LedgerMixBench`: one thread runs `check` while another runs `chargeCpm`, on the same or on
          different campaigns.
        - `EntityBench.sync`: a real `CampaignEntity` (spawned directly, no sharding) answering
          `SyncNode` asks; every command persists one `NodeSynced` event (verified after each
          iteration) and is answered after the write. `window` asks are kept outstanding. With
          `journal=inmem` it is Pekko's in-memory `PersistenceTestKitPlugin` (events still
          serialized with Jackson CBOR): the entity's own processing, **not** a database's write
          throughput. `journal=cassandra` is pekko-persistence-cassandra with the project's
          persistence.conf against the local Cassandra node, which shares this machine's cores.
        """;

  private static boolean cqlAnswers() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(cqlHost(), cqlPort()), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static String cqlHost() {
    return System.getenv().getOrDefault("ADENGINE_CASSANDRA_HOST", "127.0.0.1");
  }

  private static int cqlPort() {
    return Integer.parseInt(System.getenv().getOrDefault("ADENGINE_CASSANDRA_PORT", "9042"));
  }

  private static String cpuModel() throws IOException {
    return read("/proc/cpuinfo").lines().filter(l -> l.startsWith("model name"))
        .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown CPU");
  }

  private static String memTotal() throws IOException {
    return read("/proc/meminfo").lines().filter(l -> l.startsWith("MemTotal:"))
        .map(l -> String.format(Locale.ROOT, "%.1f GiB",
            Long.parseLong(l.replaceAll("\\D", "")) / 1024.0 / 1024.0))
        .findFirst().orElse("unknown");
  }

  private static String read(String file) throws IOException {
    return Files.readString(Path.of(file));
  }

  private static String git(String... args) {
    List<String> command = new ArrayList<>(List.of("git"));
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? text : "unknown";
    } catch (IOException | InterruptedException e) {
      return "unknown";
    }
  }

  private BenchMain() {}
}
