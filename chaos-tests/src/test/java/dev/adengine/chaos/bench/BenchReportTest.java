package dev.adengine.chaos.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report {@code bin/bench} writes, rendered from made-up figures (the benchmark itself is not
 * in CI): every section appears with the figures given, the settings tried are compared with the
 * right baseline, and {@code bench.json} is valid JSON carrying the same numbers.
 */
class BenchReportTest {

  @Test
  void shouldRenderEverySectionWithTheGivenFiguresAndValidJson(@TempDir Path dir) throws Exception {
    // given: two servers at 1,000/s, a variant of one, memory readings, and a JMH group file
    BenchReport.Findings f = new BenchReport.Findings();
    f.results().put("pekko-grpc", List.of(step("pekko-grpc", 1000, 200.0, 20_000.0)));
    f.results().put("engine", List.of(step("engine", 1000, 300.0, 60_000.0, Map.of("cql requests", 1.75,
        "writes served", 1.0, "writes feature_log", 0.5, "writes campaigns", 0.001, "reads messages", 0.25,
        "reads snapshots", 0.05, "compacted KB", 31.5, "gc ms", 0.012), List.of(
            new ThreadUsage.Share("ForkJoinPool.commonPool-worker", 2, 150.0, 30_720.0),
            new ThreadUsage.Share("adengine-pekko.actor.default-dispatcher", 2, 90.0, 10_240.0),
            new ThreadUsage.Share(ProcCpu.JVM_GC, 0, 45.0, 0)))));
    f.memoryRuns().put("engine, 10,000 ads", List.of(step("engine, 10,000 ads", 1000, 320.0, 70_000.0)));
    ServerVariant variant = ServerVariant.KNOWN.get("pekko-grpc:dispatcher-1");
    f.variants().put(variant, List.of(step("pekko-grpc:dispatcher-1", 1000, 150.0, 18_000.0)));
    f.variants().put(ServerVariant.KNOWN.get("engine:no-feature-log"), List.of(step("engine:no-feature-log", 1000,
        280.0, 50_000.0, Map.of("cql requests", 1.25, "writes served", 1.0, "compacted KB", 12.0, "gc ms", 0.01))));
    f.memory().put("engine", new JvmProbe.Memory(150L << 20, 600L << 20, 64L << 20, 130L << 20, 650L << 20, 660L << 20));
    f.memory().put("engine, 10,000 ads", new JvmProbe.Memory(230L << 20, 600L << 20, 70L << 20, 130L << 20,
        640L << 20, 650L << 20));
    Files.writeString(dir.resolve("ranking.json"), """
        [{"benchmark":"dev.adengine.engine.bench.ScorerBench.smile","mode":"avgt","threads":1,"params":{},
          "primaryMetric":{"score":2857.1,"scoreError":110.2,"scoreUnit":"ns/op"},
          "secondaryMetrics":{"gc.alloc.rate.norm":{"score":24.0}}}]""");
    Files.writeString(dir.resolve("ledger.json"), "[]");
    Files.setLastModifiedTime(dir.resolve("ledger.json"), FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));
    f.jmh(JmhSummary.read(dir, List.of("ranking", "ledger"), Instant.now().minusSeconds(60)));
    BenchReport.Run run = new BenchReport.Run(ZonedDateTime.now(ZoneOffset.UTC), BenchReport.Machine.capture(),
        List.of("-Xmx1g"), List.of(1000), 20, 5, List.of("pekko-grpc", "engine"), 1000, "ks", "test", 100, 1000)
        .finished("0.1 0.1 0.1");

    // when
    BenchReport.write(dir, run, f);

    // then: the markdown has every section, with the figures
    String md = Files.readString(dir.resolve("README.md"));
    for (String heading : List.of("## Results", "## Highest sustainable rate", "## Ratios at 1,000 requests/s",
        "## Memory", "### engine, 10,000 ads", "## Settings tried", "## Where the time goes (JFR)",
        "## Micro-benchmarks (JMH)", "## What the engine's requests cost Cassandra",
        "## CPU and allocation by thread pool at 1,000 requests/s")) {
      assertTrue(md.contains(heading), heading);
    }
    assertTrue(md.contains("| engine / Pekko gRPC reference | 1.50 (300.0 / 200.0)"), "CPU ratio");
    assertTrue(md.contains("| 1,000 | 20,000 | 20,000 | 0 | 0.50 ms | 5.00 ms | 9.00 ms | 12.0 ms | 300 us | 58.6 KB | 100 us"
        + " | 75 us |  |"), "engine step row, with Cassandra's CPU per request");
    assertTrue(md.contains("| engine | 150 MiB | 64 MiB | 600 MiB | 130 MiB | 650 MiB | 660 MiB | 58.6 KB | 60 MB/s"),
        "memory row");
    assertTrue(md.contains("| server | rate/s | Cassandra CPU/req | CQL requests/req | writes `feature_log` |"
        + " writes `served` | reads/req | compacted/req | GC ms per 1,000 req |"), "Cassandra table's columns, rare tables left out");
    assertTrue(md.contains("| engine | 1,000 | 75 us | 1.75 | 0.50 | 1.00 | 0.30 | 31.5 KB | 12.0 |"),
        "Cassandra row of the engine");
    assertTrue(md.contains("| engine:no-feature-log | 1,000 | 70 us | 1.25 | 0 | 1.00 | 0.00 | 12.0 KB | 10.0 |"),
        "Cassandra row of an engine variant");
    assertFalse(md.contains("| pekko-grpc | 1,000 | 50 us |"), "no Cassandra row for a server without counters");
    assertTrue(md.contains("| 150 us | 0.75x | 17.6 KB | 0.90x |"), "variant against its server's main run");
    assertTrue(md.contains("| `ForkJoinPool.commonPool-worker` | 2 | 150.0 us | 50.0% | 30.0 KB | 51.2% |"),
        "a pool's row, with its shares of the process's CPU and allocation");
    assertTrue(md.contains("| JVM: garbage collector |  | 45.0 us | 15.0% | 0.0 KB | 0.0% |"),
        "the JVM's own threads, not quoted as a Java thread name");
    assertTrue(md.contains("| (rest: threads ended in the window, time between the reads) |  | 15.0 us | 5.0% | 18.6 KB"
        + " | 31.7% |"), "what the pools do not account for");
    assertFalse(md.contains("### pekko-grpc\n\n20,000 of"), "no table for a server without thread figures");
    assertTrue(md.contains("| ScorerBench.smile |  | 1 | avgt | 2,857 ± 110 | ns/op | 24.0 |"), "JMH row");
    assertTrue(md.contains("`ledger.json` was written at 2020-01-01T00:00:00Z, before this run: not included"));
    // and the JSON parses and carries the same numbers
    JsonNode json = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
    assertEquals(300.0, json.at("/servers/engine/steps/0/serverCpuMicrosPerRequest").asDouble());
    assertEquals(75.0, json.at("/servers/engine/steps/0/cassandraCpuMicrosPerRequest").asDouble());
    assertEquals(1.0, json.at("/servers/engine/steps/0/cassandraPerRequest/writes served").asDouble());
    assertEquals("ForkJoinPool.commonPool-worker", json.at("/servers/engine/steps/0/threads/0/group").asText());
    assertEquals(150.0, json.at("/servers/engine/steps/0/threads/0/cpuMicrosPerRequest").asDouble());
    assertEquals(64L << 20, json.at("/memory/engine/heapUsedAfterGcBytes").asLong());
    assertEquals("dispatcher-1", json.at("/variants/0/variant").asText());
    assertEquals(2857.1, json.at("/jmh/0/score").asDouble());
    assertTrue(Files.size(dir.resolve("latency-vs-rate.png")) > 0);
  }

  private static StepResult step(String server, int rate, double cpuMicros, double allocBytes) {
    return step(server, rate, cpuMicros, allocBytes, Map.of());
  }

  private static StepResult step(String server, int rate, double cpuMicros, double allocBytes,
      Map<String, Double> cassandra) {
    return step(server, rate, cpuMicros, allocBytes, cassandra, List.of());
  }

  private static StepResult step(String server, int rate, double cpuMicros, double allocBytes,
      Map<String, Double> cassandra, List<ThreadUsage.Share> threads) {
    return new StepResult(server, rate, true, "", 20, 20_000, 20_000, Map.of(), 500, 5_000, 9_000, 12_000,
        cpuMicros, allocBytes, 100.0, cpuMicros / 4, cassandra, threads, null);
  }
}
