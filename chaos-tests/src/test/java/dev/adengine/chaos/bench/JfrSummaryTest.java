package dev.adengine.chaos.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.engine.testwork.Churn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link JfrSummary} on a real recording of this JVM running a known workload ({@link Churn}, in
 * {@code dev.adengine.engine.testwork}), and its naming rules on plain strings.
 */
class JfrSummaryTest {
  private static final String CHURN = "dev.adengine.engine.testwork.Churn.run";

  @Test
  void findsTheWorkloadInARecordingOfThisJvm(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("test.jfr");
    AtomicLong checksum = new AtomicLong();
    // this thread allocates 1 GB of byte[] before the recording and 16 MB during it: JFR weighs its
    // first sample in the recording with the 1 GB too (a CI run saw a test thread's earlier
    // allocation outweigh the whole workload), which the summary leaves out
    long kept = 0;
    for (int i = 0; i < 1024; i++) {
      kept += new byte[1 << 20].length;
    }
    try (Recording recording = new Recording(Configuration.getConfiguration("profile"))) {
      recording.start();
      for (int i = 0; i < 16; i++) {
        kept += new byte[1 << 20].length;
        Thread.sleep(5);
      }
      Thread worker = new Thread(() -> checksum.set(new Churn().run(TimeUnit.SECONDS.toNanos(2))),
          "testwork-worker-1");
      worker.start();
      worker.join();
      recording.stop();
      recording.dump(file);
    }
    assertTrue(Files.size(file) > 0);

    JfrSummary s = JfrSummary.read(file);
    String md = s.markdown(8);
    System.out.println(md);
    System.out.println(s.json());

    assertTrue(s.executionSamples() >= 10, "execution samples: " + s.executionSamples());
    assertTrue(s.duration().toMillis() >= 1500, "duration " + s.duration());

    assertEquals("engine: testwork", s.selfByComponent().rows().get(0).name(), md);
    assertTrue(s.selfByComponent().row("engine: testwork").percent() > 50, md);
    assertEquals(CHURN, s.selfByMethod().rows().get(0).name(), md);
    assertTrue(s.inclusiveByPart().row("engine.testwork").percent() > 50, md);
    assertTrue(s.inclusiveByProjectMethod().row(CHURN).percent() > 50, md);
    assertTrue(s.inclusiveByProjectMethod().rows().stream().noneMatch(r -> r.name().contains("0x")), md);
    assertEquals("testwork-worker", s.threads().rows().get(0).name(), md);

    assertTrue(s.allocationSamples() > 0, md);
    assertTrue(s.allocationSamplesLeftOut() >= 1 && s.allocationSamplesLeftOut() < s.allocationSamples(), md);
    assertTrue(s.allocatedBytes() < 1L << 30, "the bytes allocated before the recording are not counted: " + md);
    assertEquals("long[]", s.allocByClass().rows().get(0).name(), md);
    assertTrue(s.allocByClass().row("long[]").percent() > 50, md);
    assertEquals(CHURN, s.allocByMethod().rows().get(0).name(), md);
    assertTrue(s.allocByComponent().row("engine: testwork").percent() > 50, md);
    assertTrue(s.allocByPart().row("engine.testwork").percent() > 50, md);

    // the tables kept whole add up to their totals
    for (JfrSummary.Breakdown t : new JfrSummary.Breakdown[] {s.selfByComponent(), s.inclusiveByPart(),
        s.allocByComponent(), s.allocByPart()}) {
      assertEquals(100.0, t.rows().stream().mapToDouble(JfrSummary.Row::percent).sum(), 0.01, t.toString());
      assertEquals(0, t.rest(), t.toString());
    }
    assertEquals(s.executionSamples() - s.executionSamplesWithoutStack(), s.selfByComponent().total());

    assertTrue(md.contains("| `engine: testwork` |"), md);
    assertTrue(md.contains("| `" + CHURN + "` |"), md);
    assertTrue(md.contains("| `long[]` |"), md);
    assertTrue(md.contains("| `testwork-worker` |"), md);
    String json = s.json();
    assertTrue(json.startsWith("{\"durationSeconds\":") && json.endsWith("}"), json);
    assertTrue(json.contains("{\"name\":\"" + CHURN + "\",\"value\":"), json);
    assertTrue(json.contains("{\"name\":\"long[]\",\"value\":"), json);
    assertTrue(checksum.get() != 0 && kept > 0);
  }

  @Test
  void componentsByPackagePrefixFirstRuleWins() {
    assertEquals("models (scoring)", JfrSummary.component("dev.adengine.models.scoring.LogisticScorer"));
    assertEquals("engine: ranking", JfrSummary.component("dev.adengine.engine.ranking.Ranker"));
    assertEquals("engine: auction", JfrSummary.component("dev.adengine.engine.auction.Auction$Bid"));
    assertEquals("engine: grpc", JfrSummary.component("dev.adengine.engine.grpc.BidService$$Lambda"));
    assertEquals("engine (top-level package)", JfrSummary.component("dev.adengine.engine.EngineNode"));
    assertEquals("reference server", JfrSummary.component("dev.adengine.chaos.reference.PekkoGrpcServer"));
    assertEquals("adengine (other)", JfrSummary.component("dev.adengine.persistence.Store"));
    assertEquals("protobuf", JfrSummary.component("com.google.protobuf.CodedOutputStream"));
    assertEquals("Netty", JfrSummary.component("io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoop"));
    assertEquals("grpc-java", JfrSummary.component("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler"));
    assertEquals("grpc-java", JfrSummary.component("io.grpc.internal.ServerImpl"));
    assertEquals("Pekko gRPC", JfrSummary.component("org.apache.pekko.grpc.internal.GrpcProtocolNative"));
    assertEquals("Pekko HTTP", JfrSummary.component("org.apache.pekko.http.impl.engine.http2.Http2"));
    assertEquals("Pekko Streams", JfrSummary.component("org.apache.pekko.stream.impl.fusing.GraphInterpreter"));
    assertEquals("Pekko actors/dispatch", JfrSummary.component("org.apache.pekko.actor.ActorCell"));
    assertEquals("Pekko actors/dispatch", JfrSummary.component("org.apache.pekko.dispatch.Mailbox"));
    assertEquals("Pekko (other)", JfrSummary.component("org.apache.pekko.cluster.sharding.Shard"));
    assertEquals("Cassandra driver", JfrSummary.component("com.datastax.oss.driver.internal.core.Foo"));
    assertEquals("Netty", JfrSummary.component("io.netty.buffer.PooledByteBuf"));
    assertEquals("Kamon", JfrSummary.component("kamon.Kamon$"));
    assertEquals("Kamon", JfrSummary.component("io.kamon.Foo"));
    assertEquals("Scala library", JfrSummary.component("scala.collection.immutable.Vector"));
    assertEquals("JDK", JfrSummary.component("java.util.HashMap"));
    assertEquals("JDK", JfrSummary.component("jdk.internal.misc.Unsafe"));
    assertEquals("JDK", JfrSummary.component("sun.nio.ch.EPoll"));
    assertEquals("JDK", JfrSummary.component("com.sun.crypto.provider.AESCrypt"));
    assertEquals("other", JfrSummary.component("org.HdrHistogram.Histogram"));
    assertEquals("other", JfrSummary.component("javaxx.Foo"));
    assertEquals("other", JfrSummary.component("scalaz.Foo"));
  }

  @Test
  void projectPartIsThePackageCutToTwoNames() {
    assertEquals("engine.ranking", JfrSummary.projectPart("dev.adengine.engine.ranking.Ranker"));
    assertEquals("engine.ranking", JfrSummary.projectPart("dev.adengine.engine.ranking.deep.Inner$1"));
    assertEquals("models.scoring", JfrSummary.projectPart("dev.adengine.models.scoring.LogisticScorer"));
    assertEquals("models", JfrSummary.projectPart("dev.adengine.models.CtrPrior"));
    assertEquals("engine", JfrSummary.projectPart("dev.adengine.engine.EngineNode"));
    assertEquals("(root package)", JfrSummary.projectPart("dev.adengine.Foo"));
    assertNull(JfrSummary.projectPart("io.grpc.internal.ServerImpl"));
    assertNull(JfrSummary.projectPart("dev.adenginex.Foo"));
  }

  @Test
  void hiddenAndGeneratedClassNamesDoNotFragmentTables() {
    assertEquals("dev.adengine.engine.grpc.BidService$$Lambda",
        JfrSummary.normalizeClass("dev.adengine.engine.grpc.BidService$$Lambda$123/0x0000000800c0b040"));
    assertEquals("dev.adengine.chaos.bench.JfrSummaryTest$$Lambda",
        JfrSummary.normalizeClass("dev.adengine.chaos.bench.JfrSummaryTest$$Lambda+0x00007fe92010fdb0.254896875"));
    assertEquals("java.lang.invoke.LambdaForm$MH",
        JfrSummary.normalizeClass("java.lang.invoke.LambdaForm$MH/0x0000000800c10000"));
    assertEquals("jdk.internal.reflect.GeneratedMethodAccessor",
        JfrSummary.normalizeClass("jdk.internal.reflect.GeneratedMethodAccessor17"));
    assertEquals("com.sun.proxy.$Proxy", JfrSummary.normalizeClass("com.sun.proxy.$Proxy42"));
    assertEquals("scala.Function1$$anonfun$1", JfrSummary.normalizeClass("scala.Function1$$anonfun$1"));
    assertEquals("long[]", JfrSummary.normalizeClass("[J"));
    assertEquals("byte[][]", JfrSummary.normalizeClass("[[B"));
    assertEquals("java.lang.String[]", JfrSummary.normalizeClass("[Ljava.lang.String;"));
    assertEquals("java.lang.Object[]", JfrSummary.normalizeClass("java.lang.Object[]"));
  }

  @Test
  void threadGroupsDropTrailingNumbers() {
    assertEquals("adengine-pekko.actor.default-dispatcher",
        JfrSummary.threadGroup("adengine-pekko.actor.default-dispatcher-5"));
    assertEquals("grpc-nio-worker-ELG", JfrSummary.threadGroup("grpc-nio-worker-ELG-1-2"));
    assertEquals("pool-1-thread", JfrSummary.threadGroup("pool-1-thread-3"));
    assertEquals("GC Thread", JfrSummary.threadGroup("GC Thread#0"));
    assertEquals("C2 CompilerThread", JfrSummary.threadGroup("C2 CompilerThread0"));
    assertEquals("main", JfrSummary.threadGroup("main"));
    assertEquals("42", JfrSummary.threadGroup("42"));
  }

  @Test
  void aTableShowsTopRowsAndTheRest() {
    JfrSummary.Breakdown t = new JfrSummary.Breakdown(10, java.util.List.of(
        new JfrSummary.Row("a", 6, 60), new JfrSummary.Row("b", 3, 30)));
    assertEquals(1, t.rest());
    assertNotNull(t.row("b"));
    assertNull(t.row("c"));
  }
}
