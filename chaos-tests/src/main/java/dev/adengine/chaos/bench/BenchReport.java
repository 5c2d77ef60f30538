package dev.adengine.chaos.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

/**
 * Writes what one {@link BenchSuite} run measured: {@code README.md} (machine, run settings, a table
 * per server, the highest sustainable rates, the CPU and allocation ratios at one rate),
 * {@code bench.json} (the same with every step's raw load-generator result) and
 * {@code latency-vs-rate.png} ({@link LatencyChart}). Every figure comes from the run; what was not
 * measured says so. The folder's other files, written by other tools, are listed but not touched.
 */
public final class BenchReport {
  /** The folder's files written by other tools: name and one line on what they hold. */
  static final List<String[]> OTHER_FILES = List.of(
      new String[] {"ledger.md", "JMH: the ledger check on the bid path and entity throughput (`bin/bench-micro`, run by `bin/bench` too; raw in `ledger.json`)"},
      new String[] {"ranking.md", "JMH: the scorer, the auction, the bid path's retrieval + ranking + auction, the fan-out (`bin/bench-micro scorer auction bidpath fanout`, run by `bin/bench` too; raw in `ranking.json`)"},
      new String[] {"analysis.md", "the reading of a `bin/bench` run's profiles and ratios, and what would move them (written by hand after the run)"},
      new String[] {"models.md", "pCTR model quality against the simulator's oracle (`bin/train`)"},
      new String[] {"pacing.md", "budget pacing over a simulated day (`PacingSimulation`)"});

  private BenchReport() {}

  /** The machine, as read from /proc, the JVM and git at the start of the run. */
  public record Machine(int cores, String memory, String cpuModel, String jvm, List<String> benchJvmFlags,
      String commit, String treeState, String loadBefore) {

    static Machine capture() {
      return new Machine(Runtime.getRuntime().availableProcessors(), readMemTotal(), readCpuModel(),
          System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
          ManagementFactory.getRuntimeMXBean().getInputArguments(), git("rev-parse", "HEAD"), readTreeState(),
          loadAverage());
    }

    private static String readMemTotal() {
      return procLine("/proc/meminfo", "MemTotal:").replaceAll("\\s+", " ");
    }

    private static String readCpuModel() {
      return procLine("/proc/cpuinfo", "model name").replaceFirst("^\\s*:\\s*", "");
    }

    private static String readTreeState() {
      String status = git("status", "--porcelain");
      return status.isEmpty() ? "clean" : "dirty (" + status.lines().count() + " changed or untracked paths)";
    }
  }

  /** The run's settings and times. */
  public record Run(ZonedDateTime started, Machine machine, List<String> serverJvmFlags, List<Integer> rates,
      int stepSeconds, int warmupSeconds, List<String> servers, int campaigns, String keyspace, String cassandra,
      long ticksPerSecond, int ratioRate, ZonedDateTime finished, String loadAfter) {

    public Run(ZonedDateTime started, Machine machine, List<String> serverJvmFlags, List<Integer> rates,
        int stepSeconds, int warmupSeconds, List<String> servers, int campaigns, String keyspace, String cassandra,
        long ticksPerSecond, int ratioRate) {
      this(started, machine, serverJvmFlags, List.copyOf(rates), stepSeconds, warmupSeconds, List.copyOf(servers),
          campaigns, keyspace, cassandra, ticksPerSecond, ratioRate, null, null);
    }

    Run finished(String load) {
      return new Run(started, machine, serverJvmFlags, rates, stepSeconds, warmupSeconds, servers, campaigns,
          keyspace, cassandra, ticksPerSecond, ratioRate, ZonedDateTime.now(ZoneOffset.UTC), load);
    }
  }

  /** {@code /proc/loadavg}'s 1, 5 and 15 minute averages. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  /**
   * Everything a run measured, filled in as it goes: the main servers' stepped results, the engine
   * run for memory at a larger catalog, the settings tried, memory readings, JFR summaries and the
   * JMH rows.
   */
  public static final class Findings {
    private final Map<String, List<StepResult>> results = new LinkedHashMap<>();
    private final Map<String, String> notes = new LinkedHashMap<>();
    private final Map<String, List<StepResult>> memoryRuns = new LinkedHashMap<>();
    private final Map<ServerVariant, List<StepResult>> variants = new LinkedHashMap<>();
    private final Map<String, JvmProbe.Memory> memory = new LinkedHashMap<>();
    private final Map<String, String> memoryNotes = new LinkedHashMap<>();
    private final Map<String, JfrSummary> profiles = new LinkedHashMap<>();
    private final Map<String, String> profileNotes = new LinkedHashMap<>();
    private final Map<String, StepResult> profileSteps = new LinkedHashMap<>();
    private JmhSummary jmh;

    /** Main servers (grpc-java, pekko-grpc, engine) by name: their steps in rate order. */
    public Map<String, List<StepResult>> results() {
      return results;
    }

    /** Per server label: what went wrong or is worth knowing about the run as a whole. */
    public Map<String, String> notes() {
      return notes;
    }

    /** Engine runs made for memory at another catalog size, by label. */
    public Map<String, List<StepResult>> memoryRuns() {
      return memoryRuns;
    }

    public Map<ServerVariant, List<StepResult>> variants() {
      return variants;
    }

    public Map<String, JvmProbe.Memory> memory() {
      return memory;
    }

    public Map<String, String> memoryNotes() {
      return memoryNotes;
    }

    public Map<String, JfrSummary> profiles() {
      return profiles;
    }

    public Map<String, String> profileNotes() {
      return profileNotes;
    }

    /** The extra step each profiled server ran with JFR on, apart from the measured ones. */
    public Map<String, StepResult> profileSteps() {
      return profileSteps;
    }

    public JmhSummary jmh() {
      return jmh;
    }

    public void jmh(JmhSummary v) {
      jmh = v;
    }
  }

  public static void write(Path dir, Run run, Findings f) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("README.md"), markdown(run, f), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("bench.json"), json(run, f) + "\n", StandardCharsets.UTF_8);
    LatencyChart.write(dir.resolve("latency-vs-rate.png"), f.results());
  }

  static String markdown(Run run, Findings f) {
    Map<String, List<StepResult>> results = f.results();
    Map<String, String> notes = f.notes();
    Machine m = run.machine();
    StringBuilder b = new StringBuilder();
    b.append("# End-to-end benchmark: grpc-java, the Pekko gRPC reference and the engine\n\n");
    b.append("Written by `bin/bench` (`dev.adengine.chaos.bench.BenchSuite`, chaos-tests) on ")
        .append(run.started()).append("; rerun it rather than editing this file. One run on one machine: ")
        .append("compare rows of this run with each other, not with other runs.\n\n");
    b.append(String.format(Locale.ROOT, "This run: `bin/bench --rates %s --step-seconds %d --warmup-seconds %d "
            + "--servers %s` (defaults: 500,1000,2000,4000,8000, 20 s, 5 s, all three)%s.%n%n",
        join(run.rates()), run.stepSeconds(), run.warmupSeconds(), String.join(",", run.servers()),
        run.stepSeconds() != 20 || run.warmupSeconds() != 5 ? ": shorter steps than the defaults" : ""));

    b.append("## Machine and run\n\n");
    b.append("| | |\n| --- | --- |\n");
    row(b, "date (UTC)", run.started() + " to " + run.finished());
    row(b, "git commit", "`" + m.commit() + "`, tree " + m.treeState());
    row(b, "cores (nproc)", Integer.toString(m.cores()));
    row(b, "memory", m.memory());
    row(b, "CPU", m.cpuModel());
    row(b, "JVM", m.jvm());
    row(b, "server JVM flags (all three)", "`" + String.join(" ", run.serverJvmFlags()) + "`");
    row(b, "bench JVM flags", "`" + String.join(" ", m.benchJvmFlags()) + "`");
    row(b, "load average (1/5/15 min) before", m.loadBefore());
    row(b, "load average after", run.loadAfter());
    row(b, "Cassandra", run.cassandra());
    row(b, "engine", "one node, keyspace `" + run.keyspace() + "` (fresh), the simulator's market of "
        + run.campaigns() + " campaigns created through the load generator before its first step, with every"
        + " budget x1,000 and ASAP pacing (so no campaign runs dry during the run and the time of day does not"
        + " matter); each step's note gives the mean candidates of a sample of answers taken after it"
        + (notes.containsKey("engine") ? "; " + notes.get("engine") : ""));
    b.append('\n');
    b.append(String.format(Locale.ROOT, """
        How: each server runs as its own JVM, started and measured alone, then stopped. The load \
        generator (`dev.adengine.chaos.loadgen`, open loop: latency counts from each request's intended \
        send time) runs inside the bench JVM on the same machine, one fresh run per step: %d s of \
        warm-up, then %d s measured. Per step, over the measured window only: requests sent, OK \
        answers, errors by gRPC status, latency percentiles of the OK answers; the server's CPU \
        (utime + stime from `/proc/<pid>/stat`, %d ticks/s, read as the window opens and after the \
        last answer) per request sent; the server's heap allocation per request \
        (`TotalThreadAllocatedBytes` of `java.lang:type=Threading`, read through JMX after attaching \
        to the server JVM); the bench JVM's own CPU per request (`/proc/self/stat`), i.e. what the \
        generator takes from the same %d cores; and the Cassandra node's CPU per request (its \
        `/proc/<pid>/stat`, when bin/bench started it), i.e. what the engine's writes cost it on the \
        same cores (the references write nothing: what they show is the node's idle cost). A server's stepping stops after a step with over 10%% \
        errors or a p99 over 1 s; the remaining steps are marked not run. The engine's main run starts \
        with one discarded step at its first rate, right after the market is created: creating 1,000 \
        campaigns at once keeps a node and Cassandra busy for 20-30 s on 2 cores (allowance grants, \
        snapshots, journal writes), which is set-up, not serving. Then, before its first measured step, \
        each server is driven at its first rate in rounds (`--settle-rounds`, `--settle-seconds`) until its \
        JIT compilers take at most `--settle-jit-share` of its CPU in a round: a JVM just started spends \
        much of its CPU compiling, the longer the busier the machine, and a step measured then measures \
        the compiler; each server's note says how many rounds it took.%n%n""",
        run.warmupSeconds(), run.stepSeconds(), run.ticksPerSecond(), m.cores()));

    b.append("## Results\n\n");
    for (Map.Entry<String, List<StepResult>> e : results.entrySet()) {
      b.append("### ").append(e.getKey()).append("\n\n");
      String note = notes.get(e.getKey());
      if (note != null && !e.getKey().equals("engine")) {
        b.append(note).append("\n\n");
      }
      stepTable(b, e.getValue());
    }

    b.append("## Highest sustainable rate\n\n");
    b.append("The highest rate tried at which p99 <= 50 ms and no request failed, among the rates of this run "
        + "(a lower rate may still have missed the bar: see the tables).\n\n");
    b.append("| server | rate/s |\n| --- | ---: |\n");
    results.forEach((name, steps) -> {
      OptionalInt max = BenchRules.maxSustainableRate(steps);
      row(b, name, max.isPresent() ? String.format(Locale.ROOT, "%,d", max.getAsInt()) : "none of the rates tried");
    });
    b.append('\n');

    b.append(String.format(Locale.ROOT, "## Ratios at %,d requests/s (same run, same rate)%n%n", run.ratioRate()));
    b.append("| ratio | CPU per request | allocation per request |\n| --- | ---: | ---: |\n");
    ratioRow(b, "Pekko gRPC reference / grpc-java", results, "pekko-grpc", "grpc-java", run.ratioRate());
    ratioRow(b, "engine / Pekko gRPC reference", results, "engine", "pekko-grpc", run.ratioRate());
    b.append('\n');

    Map<String, List<StepResult>> withVariants = new java.util.LinkedHashMap<>(results);
    f.variants().forEach((v, steps) -> withVariants.put(v.key(), steps));
    threadSection(b, run, withVariants);
    cassandraSection(b, withVariants);

    b.append("## Latency against rate\n\n![p50 and p99 latency against rate](latency-vs-rate.png)\n\n");
    b.append("p99 (solid) and p50 (dashed) of the OK answers, log scales; steps not run are left out. "
        + "Raw figures, with every second of every step and its latency histogram: [`bench.json`](bench.json).\n\n");

    memorySection(b, run, f);
    variantSection(b, f);
    profileSection(b, run, f);
    b.append("## Micro-benchmarks (JMH)\n\n");
    if (f.jmh() == null) {
      b.append("Not part of this run (`--no-jmh` without `--jmh-since`); `bin/bench-micro` runs them.\n\n");
    } else {
      b.append("The JMH results `bin/bench-micro` wrote since `--jmh-since` (`bin/bench` runs it first and passes "
          + "its start; a run with `--no-jmh --jmh-since T` reuses results written since T); each file linked "
          + "has the full table with medians and min..max, the JMH settings, the commit and the fork flags.\n\n");
      b.append(f.jmh().markdown()).append('\n');
    }

    b.append("## Other benchmark files in this folder\n\n");
    b.append("Written by other tools, or by hand:\n\n");
    for (String[] file : OTHER_FILES) {
      b.append("- [`").append(file[0]).append("`](").append(file[0]).append("): ").append(file[1]).append('\n');
    }
    return b.toString();
  }

  private static void stepTable(StringBuilder b, List<StepResult> steps) {
    b.append("| rate/s | sent | OK | errors | p50 | p99 | p99.9 | max | server CPU/req | server alloc/req "
        + "| bench CPU/req | Cassandra CPU/req | note |\n");
    b.append("| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (StepResult s : steps) {
      if (!s.run()) {
        b.append(String.format(Locale.ROOT, "| %,d | not run | | | | | | | | | | | %s |%n", s.rate(), s.note()));
        continue;
      }
      b.append(String.format(Locale.ROOT, "| %,d | %,d | %,d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
          s.rate(), s.sent(), s.ok(), s.errors().isEmpty() ? "0" : s.errors().toString(),
          ms(s.ok(), s.p50Micros()), ms(s.ok(), s.p99Micros()), ms(s.ok(), s.p999Micros()),
          ms(s.ok(), s.maxMicros()), micros(s.serverCpuMicrosPerRequest()),
          kilobytes(s.serverAllocBytesPerRequest()), micros(s.benchCpuMicrosPerRequest()),
          micros(s.cassandraCpuMicrosPerRequest()), s.note()));
    }
    b.append('\n');
  }

  /**
   * Per step, what Cassandra did per request ({@link CassandraCounters}), beside its CPU per request:
   * which writes its CPU went to. Only for servers and variants whose steps have the counters (the
   * engine's; the references write nothing).
   */
  private static void cassandraSection(StringBuilder b, Map<String, List<StepResult>> results) {
    Map<String, List<StepResult>> measured = new java.util.LinkedHashMap<>();
    java.util.SortedSet<String> tables = new java.util.TreeSet<>();
    results.forEach((name, steps) -> {
      List<StepResult> with = steps.stream()
          .filter(s -> s.run() && s.cassandraPerRequest().keySet().stream().anyMatch(k -> k.startsWith("writes ")))
          .toList();
      if (!with.isEmpty()) {
        measured.put(name, with);
        with.forEach(s -> s.cassandraPerRequest().forEach((k, v) -> {
          if (k.startsWith("writes ") && v >= 0.01) {
            tables.add(k.substring("writes ".length()));
          }
        }));
      }
    });
    if (measured.isEmpty()) {
      return;
    }
    b.append("## What the engine's requests cost Cassandra\n\n");
    b.append("Cassandra's own counters over each measured window, per request sent, read through its local JMX "
        + "(`org.apache.cassandra.metrics`): CQL requests it served (the native transport's completed tasks), "
        + "writes per table of the engine's keyspace (a batch within one partition counts once), reads of the "
        + "keyspace (point and range), kilobytes compacted, and milliseconds its collector ran per 1,000 "
        + "requests. Tables written less than once per 100 requests are left out.\n\n");
    StringBuilder head = new StringBuilder("| server | rate/s | Cassandra CPU/req | CQL requests/req |");
    StringBuilder rule = new StringBuilder("| --- | ---: | ---: | ---: |");
    for (String t : tables) {
      head.append(" writes `").append(t).append("` |");
      rule.append(" ---: |");
    }
    head.append(" reads/req | compacted/req | GC ms per 1,000 req |");
    rule.append(" ---: | ---: | ---: |");
    b.append(head).append('\n').append(rule).append('\n');
    measured.forEach((name, steps) -> {
      for (StepResult s : steps) {
        Map<String, Double> c = s.cassandraPerRequest();
        b.append(String.format(Locale.ROOT, "| %s | %,d | %s | %s |", name, s.rate(),
            micros(s.cassandraCpuMicrosPerRequest()), count(c.get("cql requests"))));
        for (String t : tables) {
          b.append(' ').append(count(c.get("writes " + t))).append(" |");
        }
        double reads = c.entrySet().stream().filter(e -> e.getKey().startsWith("reads "))
            .mapToDouble(Map.Entry::getValue).sum();
        Double compacted = c.get("compacted KB");
        Double gc = c.get("gc ms");
        b.append(String.format(Locale.ROOT, " %s | %s | %s |%n", count(reads),
            compacted == null ? "0" : String.format(Locale.ROOT, "%.1f KB", compacted),
            gc == null ? "0" : String.format(Locale.ROOT, "%.1f", gc * 1000)));
      }
    });
    b.append('\n');
  }

  /** How many pools a server's table shows before "other pools". */
  static final int THREAD_ROWS = 12;

  /**
   * The server's CPU and allocation per request by thread pool, at the ratio rate, for every server and
   * setting tried that measured it: exact per-thread counters, so it says which pool the ratios'
   * difference is in.
   */
  private static void threadSection(StringBuilder b, Run run, Map<String, List<StepResult>> servers) {
    b.append(String.format(Locale.ROOT, "## CPU and allocation by thread pool at %,d requests/s%n%n",
        run.ratioRate()));
    b.append("Each live thread's CPU time and heap allocation (`ThreadMXBean.getThreadCpuTime` and "
        + "`getThreadAllocatedBytes`, read through JMX at both ends of the measured window), summed by thread "
        + "name without its numbers, per request sent: exact counters, not samples. The JVM's own threads "
        + "(garbage collectors, JIT compilers, the VM thread), which have no such counters, are read from "
        + "`/proc/<pid>/task/*/stat` by their names, at 100 ticks a second. The last row is the process's CPU "
        + "(`/proc/<pid>/stat`) and allocation less all of these: threads that ended in the window and the "
        + "time between the reads.\n\n");
    boolean any = false;
    for (Map.Entry<String, List<StepResult>> e : servers.entrySet()) {
      StepResult s = e.getValue().stream().filter(x -> x.rate() == run.ratioRate() && x.run()
          && !x.threads().isEmpty()).findFirst().orElse(null);
      if (s == null) {
        continue;
      }
      any = true;
      b.append("### ").append(e.getKey()).append("\n\n");
      b.append(String.format(Locale.ROOT, "%,d of %,d OK, p99 %s; server CPU %s and allocation %s per request.%n%n",
          s.ok(), s.sent(), ms(s.ok(), s.p99Micros()), micros(s.serverCpuMicrosPerRequest()),
          kilobytes(s.serverAllocBytesPerRequest())));
      b.append("| thread pool (numbers removed) | threads | CPU/req | CPU share | alloc/req | alloc share |\n");
      b.append("| --- | ---: | ---: | ---: | ---: | ---: |\n");
      Double cpu = s.serverCpuMicrosPerRequest();
      Double alloc = s.serverAllocBytesPerRequest();
      List<ThreadUsage.Share> shares = s.threads();
      for (int i = 0; i < Math.min(THREAD_ROWS, shares.size()); i++) {
        threadRow(b, shares.get(i), cpu, alloc);
      }
      if (shares.size() > THREAD_ROWS) {
        List<ThreadUsage.Share> rest = shares.subList(THREAD_ROWS, shares.size());
        threadRow(b, new ThreadUsage.Share("other pools (" + rest.size() + ")",
            rest.stream().mapToInt(ThreadUsage.Share::threads).sum(),
            rest.stream().mapToDouble(ThreadUsage.Share::cpuMicrosPerRequest).sum(),
            rest.stream().mapToDouble(ThreadUsage.Share::allocBytesPerRequest).sum()), cpu, alloc);
      }
      ThreadUsage.Share rest = ThreadUsage.rest(shares, cpu, alloc);
      threadRow(b, rest, cpu, alloc);
      b.append('\n');
    }
    if (!any) {
      b.append("Not measured in this run.\n\n");
    }
  }

  private static void threadRow(StringBuilder b, ThreadUsage.Share s, Double cpu, Double alloc) {
    b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s |%n",
        s.group().equals(ThreadUsage.REST) || s.group().startsWith("JVM: ") || s.group().startsWith("other pools")
            ? s.group() : "`" + s.group() + "`",
        s.threads() == 0 ? "" : Integer.toString(s.threads()),
        Double.isNaN(s.cpuMicrosPerRequest()) ? "-" : String.format(Locale.ROOT, "%.1f us", s.cpuMicrosPerRequest()),
        share(s.cpuMicrosPerRequest(), cpu),
        Double.isNaN(s.allocBytesPerRequest()) ? "-" : kilobytes(s.allocBytesPerRequest()),
        share(s.allocBytesPerRequest(), alloc)));
  }

  private static String share(double part, Double whole) {
    return whole == null || whole <= 0 || Double.isNaN(part) ? "-"
        : String.format(Locale.ROOT, "%.1f%%", 100 * part / whole);
  }

  private static String count(Double v) {
    return v == null ? "0" : String.format(Locale.ROOT, "%.2f", v);
  }

  private static void memorySection(StringBuilder b, Run run, Findings f) {
    b.append("## Memory\n\n");
    for (Map.Entry<String, List<StepResult>> e : f.memoryRuns().entrySet()) {
      b.append("### ").append(e.getKey()).append("\n\n");
      b.append("A second engine node (fresh keyspace) with the same 1,000 campaigns grown to this many ads by "
          + "room-type variants of their hotels (`Market.withAds`), set up through the load generator and run at "
          + "the ratio rate: it has more candidates per request than the main run (each variant is a listing "
          + "in its hotel's destination).\n\n");
      if (f.notes().containsKey(e.getKey())) {
        b.append(f.notes().get(e.getKey())).append("\n\n");
      }
      stepTable(b, e.getValue());
    }
    if (f.memory().isEmpty()) {
      b.append("Not measured in this run.\n\n");
      return;
    }
    b.append(String.format(Locale.ROOT, "Read right after each server's %,d requests/s step (after warm-up and "
        + "%d s of load): heap in use as found and after a full GC (`MemoryMXBean.gc()` through JMX: what "
        + "the server retains), non-heap in use (metaspace, code cache), and the process's resident set "
        + "(`VmRSS`, and its peak `VmHWM`, from `/proc/<pid>/status`; the heap is sized `-Xms512m -Xmx1g`, so "
        + "RSS includes heap pages touched whether live or not). Allocation is the step's per request "
        + "figure times the rate.%n%n", run.ratioRate(), run.stepSeconds()));
    b.append("| server | heap used | heap after full GC | heap committed | non-heap used | RSS | RSS peak "
        + "| alloc/req | alloc rate | note |\n");
    b.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (Map.Entry<String, JvmProbe.Memory> e : f.memory().entrySet()) {
      JvmProbe.Memory mem = e.getValue();
      List<StepResult> steps = f.results().containsKey(e.getKey()) ? f.results().get(e.getKey())
          : f.memoryRuns().get(e.getKey());
      StepResult at = steps == null ? null
          : steps.stream().filter(s -> s.rate() == run.ratioRate() && s.run()).findFirst().orElse(null);
      Double perReq = at == null ? null : at.serverAllocBytesPerRequest();
      b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", e.getKey(),
          mib(mem.heapUsed()), mib(mem.heapUsedAfterGc()), mib(mem.heapCommitted()), mib(mem.nonHeapUsed()),
          mib(mem.rss()), mib(mem.rssPeak()), kilobytes(perReq),
          perReq == null ? "-" : String.format(Locale.ROOT, "%.0f MB/s", perReq * run.ratioRate() / 1e6),
          f.memoryNotes().getOrDefault(e.getKey(), "")));
    }
    b.append('\n');
  }

  private static void variantSection(StringBuilder b, Findings f) {
    b.append("## Settings tried\n\n");
    if (f.variants().isEmpty()) {
      b.append("None in this run (`--variants none`).\n\n");
      return;
    }
    b.append("Each row is the server started again with one setting changed from the flags above (the "
        + "baseline is its main run in this report, at the same rate), measured after a discarded warm-up "
        + "step at the same rate; `bin/bench --variants` picks them. The settings the engine uses, and why: "
        + "`cluster-config/` and `bin/lib/common.sh`.\n\n");
    b.append("| server | setting changed | rate/s | OK / sent | p50 | p99 | server CPU/req | vs baseline "
        + "| server alloc/req | vs baseline |\n");
    b.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (Map.Entry<ServerVariant, List<StepResult>> e : f.variants().entrySet()) {
      ServerVariant v = e.getKey();
      for (StepResult s : e.getValue()) {
        if (!s.run()) {
          b.append(String.format(Locale.ROOT, "| %s | %s | %,d | not run: %s | | | | | | |%n", v.server(),
              v.setting(), s.rate(), s.note()));
          continue;
        }
        StepResult base = at(f.results(), v.server(), s.rate());
        b.append(String.format(Locale.ROOT, "| %s | %s | %,d | %,d / %,d | %s | %s | %s | %s | %s | %s |%n",
            v.server(), v.setting(), s.rate(), s.ok(), s.sent(), ms(s.ok(), s.p50Micros()),
            ms(s.ok(), s.p99Micros()), micros(s.serverCpuMicrosPerRequest()),
            factor(s.serverCpuMicrosPerRequest(), base == null ? null : base.serverCpuMicrosPerRequest()),
            kilobytes(s.serverAllocBytesPerRequest()),
            factor(s.serverAllocBytesPerRequest(), base == null ? null : base.serverAllocBytesPerRequest())));
      }
    }
    b.append('\n');
  }

  private static void profileSection(StringBuilder b, Run run, Findings f) {
    b.append("## Where the time goes (JFR)\n\n");
    if (f.profiles().isEmpty() && f.profileNotes().isEmpty()) {
      b.append("Not profiled in this run (`--no-profile`).\n\n");
      return;
    }
    b.append(String.format(Locale.ROOT, "A JFR recording (JDK settings \"profile\") of each main server during "
        + "one more step at %,d requests/s after its measured steps, left out of the tables above (starting "
        + "JFR costs a JVM CPU and pauses: in a run that profiled a measured step, every server's figures at "
        + "that rate were several times worse). The raw recordings are in the bench's log folder "
        + "(`var/bench/*.jfr`, open with JDK Mission Control or `jfr print`). The reading of these tables, and "
        + "what would move each ratio: [`analysis.md`](analysis.md).%n%n", run.ratioRate()));
    for (String label : f.results().keySet()) {
      b.append("### ").append(label).append("\n\n");
      if (f.profileNotes().containsKey(label)) {
        b.append(f.profileNotes().get(label)).append("\n\n");
      }
      StepResult ps = f.profileSteps().get(label);
      if (ps != null && ps.run()) {
        b.append(String.format(Locale.ROOT, "The profiled step: %,d sent, %,d OK, p99 %s, server CPU %s and "
                + "allocation %s per request with JFR on.%n%n", ps.sent(), ps.ok(), ms(ps.ok(), ps.p99Micros()),
            micros(ps.serverCpuMicrosPerRequest()), kilobytes(ps.serverAllocBytesPerRequest())));
      }
      JfrSummary p = f.profiles().get(label);
      if (p != null) {
        b.append(p.markdown(12)).append('\n');
      }
    }
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.0f MiB", bytes / (1024.0 * 1024));
  }

  private static String factor(Double v, Double base) {
    return v == null || base == null || base == 0 ? "-" : String.format(Locale.ROOT, "%.2fx", v / base);
  }

  private static void ratioRow(StringBuilder b, String label, Map<String, List<StepResult>> results, String num,
      String den, int rate) {
    StepResult n = at(results, num, rate);
    StepResult d = at(results, den, rate);
    String cpu = ratio(n == null ? null : n.serverCpuMicrosPerRequest(), d == null ? null : d.serverCpuMicrosPerRequest());
    String alloc = ratio(n == null ? null : n.serverAllocBytesPerRequest(),
        d == null ? null : d.serverAllocBytesPerRequest());
    row(b, label, cpu + " | " + alloc);
  }

  static StepResult at(Map<String, List<StepResult>> results, String server, int rate) {
    List<StepResult> steps = results.get(server);
    if (steps == null) {
      return null;
    }
    return steps.stream().filter(s -> s.rate() == rate && s.run()).findFirst().orElse(null);
  }

  private static String ratio(Double num, Double den) {
    if (num == null || den == null || den == 0) {
      return "not measured";
    }
    return String.format(Locale.ROOT, "%.2f (%.1f / %.1f)", num / den, num, den);
  }

  private static void row(StringBuilder b, String k, String v) {
    b.append("| ").append(k).append(" | ").append(v).append(" |\n");
  }

  private static String ms(long ok, long micros) {
    if (ok == 0) {
      return "-";
    }
    return String.format(Locale.ROOT, micros < 10_000 ? "%.2f ms" : "%.1f ms", micros / 1000.0);
  }

  private static String micros(Double v) {
    return v == null ? "not measured" : String.format(Locale.ROOT, "%.0f us", v);
  }

  private static String kilobytes(Double v) {
    return v == null ? "not measured" : String.format(Locale.ROOT, "%.1f KB", v / 1024);
  }

  private static String join(List<Integer> rates) {
    StringJoiner j = new StringJoiner(",");
    rates.forEach(r -> j.add(Integer.toString(r)));
    return j.toString();
  }

  static String json(Run run, Findings f) {
    Map<String, String> notes = f.notes();
    Machine m = run.machine();
    StringJoiner machine = new StringJoiner(",", "{", "}")
        .add(kv("cores", m.cores())).add(kv("memory", m.memory())).add(kv("cpuModel", m.cpuModel()))
        .add(kv("jvm", m.jvm())).add("\"benchJvmFlags\":" + strings(m.benchJvmFlags()))
        .add(kv("commit", m.commit())).add(kv("tree", m.treeState()));
    StringJoiner r = new StringJoiner(",", "{", "}")
        .add(kv("started", run.started().toString())).add(kv("finished", String.valueOf(run.finished())))
        .add("\"rates\":" + run.rates()).add(kv("stepSeconds", run.stepSeconds()))
        .add(kv("warmupSeconds", run.warmupSeconds())).add("\"servers\":" + strings(run.servers()))
        .add(kv("campaigns", run.campaigns())).add(kv("keyspace", run.keyspace()))
        .add(kv("cassandra", run.cassandra())).add(kv("clockTicksPerSecond", run.ticksPerSecond()))
        .add("\"serverJvmFlags\":" + strings(run.serverJvmFlags()))
        .add(kv("loadAverageBefore", m.loadBefore())).add(kv("loadAverageAfter", run.loadAfter()))
        .add(kv("ratioRate", run.ratioRate()));
    StringJoiner servers = new StringJoiner(",", "{", "}");
    f.results().forEach((name, steps) -> servers.add(quote(name) + ":" + serverJson(steps, notes.get(name))));
    StringJoiner memoryRuns = new StringJoiner(",", "{", "}");
    f.memoryRuns().forEach((name, steps) -> memoryRuns.add(quote(name) + ":" + serverJson(steps, notes.get(name))));
    StringJoiner variants = new StringJoiner(",", "[", "]");
    f.variants().forEach((v, steps) -> variants.add(new StringJoiner(",", "{", "}")
        .add(kv("server", v.server())).add(kv("variant", v.name())).add(kv("setting", v.setting()))
        .add("\"removed\":" + strings(v.remove())).add("\"added\":" + strings(v.add()))
        .add("\"run\":" + serverJson(steps, notes.get(v.key()))).toString()));
    StringJoiner memory = new StringJoiner(",", "{", "}");
    f.memory().forEach((name, mem) -> memory.add(quote(name) + ":" + new StringJoiner(",", "{", "}")
        .add(kv("heapUsedBytes", mem.heapUsed())).add(kv("heapUsedAfterGcBytes", mem.heapUsedAfterGc()))
        .add(kv("heapCommittedBytes", mem.heapCommitted())).add(kv("nonHeapUsedBytes", mem.nonHeapUsed()))
        .add(kv("rssBytes", mem.rss())).add(kv("rssPeakBytes", mem.rssPeak()))
        .add(kv("note", f.memoryNotes().getOrDefault(name, "")))));
    StringJoiner profiles = new StringJoiner(",", "{", "}");
    f.profiles().forEach((name, p) -> profiles.add(quote(name) + ":" + p.json()));
    return new StringJoiner(",", "{", "}").add("\"machine\":" + machine).add("\"run\":" + r)
        .add("\"servers\":" + servers).add("\"memoryRuns\":" + memoryRuns).add("\"variants\":" + variants)
        .add("\"memory\":" + memory).add("\"profiles\":" + profiles)
        .add("\"jmh\":" + (f.jmh() == null ? "null" : f.jmh().json())).toString();
  }

  private static String serverJson(List<StepResult> steps, String note) {
    {
      StringJoiner rows = new StringJoiner(",", "[", "]");
      for (StepResult s : steps) {
        StringJoiner errors = new StringJoiner(",", "{", "}");
        s.errors().forEach((k, v) -> errors.add(quote(k) + ":" + v));
        rows.add(new StringJoiner(",", "{", "}")
            .add(kv("rate", s.rate())).add("\"run\":" + s.run()).add(kv("note", s.note()))
            .add(kv("seconds", s.seconds())).add(kv("sent", s.sent())).add(kv("ok", s.ok()))
            .add("\"errors\":" + errors).add(kv("p50Micros", s.p50Micros())).add(kv("p99Micros", s.p99Micros()))
            .add(kv("p999Micros", s.p999Micros())).add(kv("maxMicros", s.maxMicros()))
            .add("\"serverCpuMicrosPerRequest\":" + s.serverCpuMicrosPerRequest())
            .add("\"serverAllocBytesPerRequest\":" + s.serverAllocBytesPerRequest())
            .add("\"benchCpuMicrosPerRequest\":" + s.benchCpuMicrosPerRequest())
            .add("\"cassandraCpuMicrosPerRequest\":" + s.cassandraCpuMicrosPerRequest())
            .add("\"cassandraPerRequest\":" + doubles(s.cassandraPerRequest()))
            .add("\"threads\":" + ThreadUsage.json(s.threads()))
            .add("\"sustainable\":" + BenchRules.sustainable(s))
            .add("\"load\":" + s.loadJson())
            .toString());
      }
      OptionalInt max = BenchRules.maxSustainableRate(steps);
      return new StringJoiner(",", "{", "}")
          .add("\"maxSustainableRate\":" + (max.isPresent() ? Integer.toString(max.getAsInt()) : "null"))
          .add(kv("note", note == null ? "" : note))
          .add("\"steps\":" + rows).toString();
    }
  }

  private static String doubles(Map<String, Double> values) {
    StringJoiner j = new StringJoiner(",", "{", "}");
    values.forEach((k, v) -> j.add(quote(k) + ":" + v));
    return j.toString();
  }

  private static String kv(String k, Object v) {
    return quote(k) + ":" + (v instanceof Number ? v.toString() : quote(String.valueOf(v)));
  }

  private static String strings(List<String> list) {
    StringJoiner j = new StringJoiner(",", "[", "]");
    list.forEach(s -> j.add(quote(s)));
    return j.toString();
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  private static String procLine(String file, String prefix) {
    try {
      return Files.readAllLines(Path.of(file)).stream().filter(l -> l.startsWith(prefix)).findFirst()
          .map(l -> l.substring(prefix.length()).trim()).orElse("unknown");
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  private static String git(String... args) {
    try {
      String[] cmd = new String[args.length + 1];
      cmd[0] = "git";
      System.arraycopy(args, 0, cmd, 1, args.length);
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return "unknown (git " + String.join(" ", args) + " failed)";
      }
      return out;
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown (interrupted)";
    }
  }
}
