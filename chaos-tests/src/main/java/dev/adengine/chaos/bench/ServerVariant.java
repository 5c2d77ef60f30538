package dev.adengine.chaos.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A server run with one setting changed from the engine's JVM flags, to record what each setting
 * the engine uses is worth (issue: "record every setting tried, with its figure"). The baseline is
 * the server's main run in the same benchmark.
 *
 * @param server {@code pekko-grpc}, {@code grpc-java} or {@code engine}
 * @param name short name, used on the command line ({@code --variants pekko-grpc:dispatcher-1})
 * @param setting what differs from the baseline, for the report
 * @param remove JVM flags of the baseline left out
 * @param add JVM flags added
 */
public record ServerVariant(String server, String name, String setting, List<String> remove, List<String> add) {

  private static final String FJP = "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2";
  private static final List<String> DISPATCHER_1 = List.of(
      "-Dpekko.actor.default-dispatcher.fork-join-executor.parallelism-min=1",
      "-Dpekko.actor.default-dispatcher.fork-join-executor.parallelism-max=1");

  private static final String GZIP = "answers gzip-compressed for clients that accept it (Pekko gRPC's default;"
      + " the load generator's grpc-java channels accept gzip: `adengine.grpc.compress-responses = on`)";
  private static final String BID_COMMON_POOL = "`Bid` run on the JDK common pool, as Pekko gRPC's generated"
      + " handler runs it (until 2026-12-02), instead of the engine's bid pool: the same hop, but a common-pool worker"
      + " erases its thread locals after each task, so per-thread buffers are made again for about every bid"
      + " (`adengine.grpc.bid-executor = common-pool`)";
  private static final List<String> BID_COMMON_POOL_FLAGS = List.of("-Dadengine.grpc.bid-executor=common-pool");
  private static final List<String> GZIP_ON = List.of("-Dadengine.grpc.compress-responses=on");

  private static final String BASELINE = "none: the main run's flags again, in a fresh JVM measured after the"
      + " variants before it (how far this machine drifted while the run went on: the noise in every row"
      + " of this table, and in the ratios between servers measured minutes apart)";

  /** The variants {@code bin/bench} knows, by {@code server:name}. */
  public static final Map<String, ServerVariant> KNOWN = index(List.of(
      new ServerVariant("grpc-java", "baseline", BASELINE, List.of(), List.of()),
      new ServerVariant("pekko-grpc", "baseline", BASELINE, List.of(), List.of()),
      new ServerVariant("engine", "baseline", BASELINE, List.of(), List.of()),
      new ServerVariant("pekko-grpc", "dispatcher-1", "default dispatcher with 1 thread instead of 2"
          + " (`parallelism-min = parallelism-max = 1`)", List.of(), DISPATCHER_1),
      new ServerVariant("pekko-grpc", "no-fjp-property", "without `" + FJP + "` (the JDK's common pool at its"
          + " default parallelism, 1 on 2 cores; since 2026-12-02 bids run on the bid pool, not on it)", List.of(FJP),
          List.of()),
      new ServerVariant("pekko-grpc", "g1", "G1 instead of the parallel collector", List.of("-XX:+UseParallelGC"),
          List.of("-XX:+UseG1GC")),
      new ServerVariant("pekko-grpc", "h2-streamed", "HTTP/2 request entities streamed, not collected strict"
          + " (`pekko.http.server.http2.min-collect-strict-entity-size = 0`, Pekko HTTP's default), so each bid is"
          + " also decoded through Pekko gRPC's stream instead of in place", List.of(),
          List.of("-Dpekko.http.server.http2.min-collect-strict-entity-size=0")),
      new ServerVariant("pekko-grpc", "bid-calling-thread", "`Bid` run on the connection's stream actor instead of"
          + " a hop to the bid pool (`adengine.grpc.bid-executor = calling-thread`)", List.of(),
          List.of("-Dadengine.grpc.bid-executor=calling-thread")),
      new ServerVariant("pekko-grpc", "bid-common-pool", BID_COMMON_POOL, List.of(), BID_COMMON_POOL_FLAGS),
      new ServerVariant("pekko-grpc", "gzip-responses", GZIP, List.of(), GZIP_ON),
      new ServerVariant("engine", "gzip-responses", GZIP, List.of(), GZIP_ON),
      new ServerVariant("engine", "dispatcher-1", "default dispatcher with 1 thread instead of 2", List.of(),
          DISPATCHER_1),
      new ServerVariant("engine", "serve-late-bids", "bids that waited for a thread past their caller's gRPC"
          + " deadline served anyway instead of answered `DEADLINE_EXCEEDED` unserved"
          + " (`adengine.grpc.drop-late-bids = off`)", List.of(), List.of("-Dadengine.grpc.drop-late-bids=off")),
      new ServerVariant("engine", "bid-calling-thread", "`Bid` run on the connection's stream actor instead of a"
          + " hop to the bid pool (`adengine.grpc.bid-executor = calling-thread`)", List.of(),
          List.of("-Dadengine.grpc.bid-executor=calling-thread")),
      new ServerVariant("engine", "bid-common-pool", BID_COMMON_POOL, List.of(), BID_COMMON_POOL_FLAGS),
      new ServerVariant("engine", "scalar-stage2", "stage 2 on the scalar `FlatForest` with a top K of 50 instead"
          + " of the generated vector code (`RankForest`) with 64 (`adengine.ranking.vector-stage2 = off`)", List.of(),
          List.of("-Dadengine.ranking.vector-stage2=off", "-Dadengine.ranking.top-k=50",
              "-Dadengine.ranking.batch-size=16")),
      new ServerVariant("engine", "report-1s", "each campaign's spend reported to its entity every 1 s instead of every"
          + " 5 s (`adengine.budget.report-interval = 1s`, the default until 2026-11-30): one sync, one journal"
          + " write, per active campaign and interval", List.of(), List.of("-Dadengine.budget.report-interval=1s")),
      new ServerVariant("engine", "g1", "G1 instead of the parallel collector", List.of("-XX:+UseParallelGC"),
          List.of("-XX:+UseG1GC")),
      new ServerVariant("engine", "zgc", "ZGC (concurrent, sub-millisecond pauses) instead of the parallel collector",
          List.of("-XX:+UseParallelGC"), List.of("-XX:+UseZGC")),
      new ServerVariant("engine", "no-kamon-agent", "Kamon without its instrumentation agent (no Pekko actor and"
          + " dispatcher metrics; every adengine_* metric kept: `kamon.init.attach-instrumentation = no`)",
          List.of(), List.of("-Dkamon.init.attach-instrumentation=no")),
      new ServerVariant("engine", "served-unbatched", "each answered bid's served records and CPM charges written"
          + " to Cassandra in one request of its own (until 2026-12-02: one for the records and one per charge)"
          + " instead of with other bids' in batches of up to 10 statements held at most 5 ms"
          + " (`adengine.served.write-linger = 0s`)", List.of(),
          List.of("-Dadengine.served.write-linger=0s")),
      new ServerVariant("engine", "no-feature-log", "the feature log off (no capture, no writer thread, no"
          + " Cassandra write of a few KB per logged request: `adengine.lifecycle.feature-log.enabled = off`)",
          List.of(), List.of("-Dadengine.lifecycle.feature-log.enabled=off"))));

  /** What {@code bin/bench} runs unless told otherwise. */
  public static final List<String> DEFAULTS = List.of("pekko-grpc:dispatcher-1", "pekko-grpc:no-fjp-property",
      "pekko-grpc:g1", "pekko-grpc:h2-streamed", "pekko-grpc:bid-calling-thread", "pekko-grpc:gzip-responses",
      "grpc-java:baseline", "pekko-grpc:baseline", "engine:dispatcher-1", "engine:bid-common-pool",
      "engine:bid-calling-thread", "engine:scalar-stage2", "engine:no-kamon-agent", "engine:no-feature-log",
      "engine:gzip-responses", "engine:served-unbatched", "engine:baseline");

  /** {@code server:name}. */
  public String key() {
    return server + ":" + name;
  }

  /** {@code base} without {@link #remove} and with {@link #add}. */
  public List<String> flags(List<String> base) {
    List<String> out = new ArrayList<>(base);
    for (String r : remove) {
      if (!out.remove(r)) {
        throw new IllegalArgumentException(key() + ": the base flags have no " + r + " to remove: " + base);
      }
    }
    out.addAll(add);
    return out;
  }

  private static Map<String, ServerVariant> index(List<ServerVariant> all) {
    Map<String, ServerVariant> m = new java.util.LinkedHashMap<>();
    all.forEach(v -> m.put(v.key(), v));
    return java.util.Collections.unmodifiableMap(m);
  }
}
