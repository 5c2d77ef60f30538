package dev.adengine.chaos;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One engine node running as its own JVM process ({@code dev.adengine.engine.Main}), configured
 * only through the environment variables that {@code bin/engine} documents (with
 * {@code ADENGINE_NODE_GC_LOG} set in the harness's environment, each node also logs its garbage
 * collections to {@code <name>-gc.log} beside its log; with {@code ADENGINE_NODE_JFR}, it records a
 * flight recording, {@code <name>.jfr}, written when it exits). The harness can wait
 * for readiness, stop it gracefully (SIGTERM), kill it (SIGKILL), freeze it (SIGSTOP) and thaw it
 * (SIGCONT).
 */
public final class NodeProcess implements AutoCloseable {
  private final String name;
  private final int grpcPort;
  private final int mgmtPort;
  private final int remotePort;
  private final Path log;
  private final Process process;

  private NodeProcess(String name, int grpcPort, int mgmtPort, int remotePort, Path log, Process process) {
    this.name = name;
    this.grpcPort = grpcPort;
    this.mgmtPort = mgmtPort;
    this.remotePort = remotePort;
    this.log = log;
    this.process = process;
  }

  /** Ports for a node; {@link #freePorts()} picks unused ones. */
  public record Ports(int grpc, int mgmt, int remote) {}

  public static Ports freePorts() {
    return new Ports(freePort(), freePort(), freePort());
  }

  /**
   * Starts a node process with the given keyspace and ports, and extra environment (for example
   * ADENGINE_SEED_NODES). The classpath is this JVM's, which holds the engine and its dependencies.
   */
  public static NodeProcess start(String name, String keyspace, Ports ports, Map<String, String> extraEnv,
      Path logDir) {
    return start(name, keyspace, ports, extraEnv, logDir, TEST_NODE_FLAGS);
  }

  /**
   * The JVM flags of test and chaos nodes. The first metaspace threshold is 256 MB: from the default
   * of about 21 MB, a starting node's classes (Pekko, gRPC, Kamon, the Cassandra driver) crossed it
   * four times in its first 50 s, each a young and a full collection ("Metadata GC Threshold", full
   * pauses of 110-620 ms, in bin/chaos's GC logs with ADENGINE_NODE_GC_LOG); from 128 MB, once,
   * 218 s in (full pauses of 264 and 825 ms).
   */
  public static final List<String> TEST_NODE_FLAGS = List.of("-Xms256m", "-Xmx768m", "-XX:+UseParallelGC",
      "-XX:MetaspaceSize=256m", "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector");

  /**
   * {@link #TEST_NODE_FLAGS} with C2 off ({@code -XX:TieredStopAtLevel=1}): bin/chaos's nodes' JIT
   * by default ({@code --jit c1}). Three co-located nodes compiling with C2 took about 14% of a core
   * each for minutes after every start on the 2-core development machine; at tens of bids a second
   * per node, C1 code is fast enough.
   */
  public static final List<String> C1_NODE_FLAGS =
      Stream.concat(TEST_NODE_FLAGS.stream(), Stream.of("-XX:TieredStopAtLevel=1")).toList();

  /** System property: the node processes' class path instead of this JVM's (bin/chaos: jars only). */
  public static final String CLASS_PATH_PROPERTY = "adengine.node.classpath";
  /**
   * System property: a class-data-sharing archive of the classes a node loads until it is ready, which
   * every node then maps ({@code -XX:SharedArchiveFile}) once it exists ({@link #recordClassArchive}).
   * It needs a class path of jars only ({@link #CLASS_PATH_PROPERTY}) and the very jars it was made
   * from (the JVM checks; with a stale archive it runs without one, as {@code -Xshare:auto} does).
   */
  public static final String CLASS_ARCHIVE_PROPERTY = "adengine.node.class-archive";

  private static String nodeClassPath() {
    String cp = System.getProperty(CLASS_PATH_PROPERTY);
    return cp == null || cp.isBlank() ? System.getProperty("java.class.path") : cp;
  }

  /** The archive named by {@link #CLASS_ARCHIVE_PROPERTY}, or null. */
  public static Path classArchive() {
    String a = System.getProperty(CLASS_ARCHIVE_PROPERTY);
    return a == null || a.isBlank() ? null : Path.of(a);
  }

  /**
   * Makes the {@link #CLASS_ARCHIVE_PROPERTY} archive unless it exists: starts one node with
   * {@code -XX:ArchiveClassesAtExit}, waits until it is ready, stops it (the JVM writes the archive
   * as it exits) and moves the archive into place. On this 2-core machine a C1-only node mapping it
   * was ready after 9.7-11.2 CPU-seconds (8.1-9.4 s) instead of 15.1-16.6 (12.7-13.7 s), alternated
   * runs of 2026-12-02: class loading and verification are a third of a node's start, and a node
   * that starts while the others serve takes that CPU from them. Returns whether an archive is there.
   */
  public static boolean recordClassArchive(String keyspace, Map<String, String> extraEnv, Path logDir,
      List<String> jvmFlags) {
    Path archive = classArchive();
    if (archive == null) {
      return false;
    }
    if (Files.isRegularFile(archive)) {
      return true;
    }
    Path partial = archive.resolveSibling(archive.getFileName() + ".partial");
    try {
      Files.createDirectories(archive.toAbsolutePath().getParent());
      Files.deleteIfExists(partial);
      List<String> flags = new ArrayList<>(jvmFlags);
      flags.add("-XX:ArchiveClassesAtExit=" + partial);
      try (NodeProcess n = start("class-archive", keyspace, freePorts(), extraEnv, logDir, flags)) {
        n.awaitReady(Duration.ofMinutes(3));
        n.stop(Duration.ofSeconds(60));
      }
      if (!Files.isRegularFile(partial)) {
        return false;
      }
      Files.move(partial, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException("could not record the class archive " + archive, e);
    }
  }

  /** As {@link #start(String, String, Ports, Map, Path)}, with the given JVM flags instead of the tests' own. */
  public static NodeProcess start(String name, String keyspace, Ports ports, Map<String, String> extraEnv,
      Path logDir, List<String> jvmFlags) {
    try {
      Files.createDirectories(logDir);
      Path log = logDir.resolve(name + ".log");
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(jvmFlags);
      if (System.getenv("ADENGINE_NODE_GC_LOG") != null) {
        // diagnostics: each collection with its pause, beside the node's log
        cmd.add("-Xlog:gc:file=" + logDir.resolve(name + "-gc.log") + ":time,uptime");
      }
      if (System.getenv("ADENGINE_NODE_JFR") != null) {
        // diagnostics: a flight recording of the node's whole life (JFR's profile settings), written
        // beside its log when it exits (not when it is killed)
        cmd.add("-XX:StartFlightRecording=settings=profile,dumponexit=true,filename="
            + logDir.toAbsolutePath().resolve(name + ".jfr"));
      }
      Path archive = classArchive();
      if (archive != null && Files.isRegularFile(archive)) {
        cmd.add("-XX:SharedArchiveFile=" + archive);
      }
      cmd.addAll(List.of("-cp", nodeClassPath(), "dev.adengine.engine.Main"));
      ProcessBuilder pb = new ProcessBuilder(cmd);
      Map<String, String> env = pb.environment();
      env.put("ADENGINE_KEYSPACE", keyspace);
      env.put("ADENGINE_GRPC_PORT", Integer.toString(ports.grpc()));
      env.put("ADENGINE_MGMT_PORT", Integer.toString(ports.mgmt()));
      env.put("ADENGINE_REMOTE_PORT", Integer.toString(ports.remote()));
      env.put("ADENGINE_NODE_ID", name);
      // The compiled stage 2's classes, kept beside the logs: a restarted node skips javac (its
      // CPU would be taken from the nodes serving meanwhile), as a node restarted by bin/engine does.
      env.put("ADENGINE_STAGE2_CLASS_CACHE", logDir.toAbsolutePath().getParent().resolve("stage2-classes").toString());
      env.putAll(extraEnv);
      pb.redirectErrorStream(true);
      pb.redirectOutput(log.toFile());
      return new NodeProcess(name, ports.grpc(), ports.mgmt(), ports.remote(), log, pb.start());
    } catch (IOException e) {
      throw new UncheckedIOException("could not start node " + name, e);
    }
  }

  /** Polls the node's readiness endpoint until it answers 200; fails with the log's tail otherwise. */
  public void awaitReady(Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("node " + name + " exited with " + process.exitValue() + ":\n" + headlines(30));
      }
      if (ready()) {
        return;
      }
      pause(Duration.ofMillis(200));
    }
    throw new IllegalStateException("node " + name + " not ready after " + max + "; /ready: " + readyBody()
        + "\nits log without stack frames:\n" + headlines(30));
  }

  /** What /ready answers now (which check fails and why), or why it could not be asked. */
  private String readyBody() {
    try {
      return askReady(true);
    } catch (IOException e) {
      return "no answer (" + e + ")";
    }
  }

  /** One GET /ready: its status code, and with {@code withBody} its body after a space. */
  private String askReady(boolean withBody) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + mgmtPort + "/ready").toURL()
        .openConnection();
    c.setConnectTimeout(500);
    c.setReadTimeout(withBody ? 2000 : 1000);
    try {
      int code = c.getResponseCode();
      if (!withBody) {
        return Integer.toString(code);
      }
      var in = code >= 400 ? c.getErrorStream() : c.getInputStream();
      return code + " " + (in == null ? "" : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
          .strip());
    } finally {
      c.disconnect();
    }
  }

  /**
   * The log's last {@code lines} lines leaving out stack frames, so that an exception's message and
   * its causes show rather than the bottom of its trace.
   */
  public String headlines(int lines) {
    try {
      List<String> all = Files.readAllLines(log).stream()
          .filter(l -> !l.startsWith("\tat ") && !l.startsWith("\t... ")).toList();
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** True when /ready answers 200 now. */
  public boolean ready() {
    try {
      return askReady(false).equals("200");
    } catch (IOException e) {
      return false;
    }
  }

  /** SIGTERM and wait for the node to leave and exit; returns its exit code. */
  public int stop(Duration max) {
    process.destroy();
    try {
      if (!process.waitFor(max.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return process.exitValue();
  }

  /** SIGKILL: the node dies with no chance to leave the cluster. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public void freeze() {
    signal("STOP");
  }

  public void thaw() {
    signal("CONT");
  }

  private void signal(String sig) {
    try {
      Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).start();
      p.waitFor();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The node's operating-system process id. */
  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  public String name() {
    return name;
  }

  public int grpcPort() {
    return grpcPort;
  }

  public int mgmtPort() {
    return mgmtPort;
  }

  public int remotePort() {
    return remotePort;
  }

  public Path log() {
    return log;
  }

  public String tail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      stop(Duration.ofSeconds(20));
    }
  }

  /** Ports this JVM has handed out: never handed out twice, though a node may not have bound them yet. */
  private static final java.util.Set<Integer> ISSUED = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A port that is free now and outside the kernel's ephemeral range. A port from the ephemeral
   * range ({@code new ServerSocket(0)}'s) can be taken, between the harness choosing it and the node
   * binding it, as the local end of any outgoing connection, such as another starting node's to
   * Cassandra: in CI a restarted node's gRPC bind failed so, and the node never became ready.
   */
  static int freePort() {
    int high = ephemeralLow() - 1;
    int low = Math.max(10_000, high - 12_000);
    if (high - low < 1_000) { // an unusual range: take what the kernel gives
      try (ServerSocket s = new ServerSocket(0)) {
        return s.getLocalPort();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    var random = java.util.concurrent.ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = random.nextInt(low, high + 1);
      if (ISSUED.contains(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new java.net.InetSocketAddress("0.0.0.0", port));
      } catch (IOException taken) {
        continue;
      }
      if (ISSUED.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port in " + low + ".." + high);
  }

  /**
   * The lowest port of the kernel's ephemeral range (Linux's file), or its default when unreadable.
   * Read line by line: {@code Files.readString} of this procfs file (size 0) returned only "3".
   */
  static int ephemeralLow() {
    try {
      return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim()
          .split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32768;
    }
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Where a test's node logs go: under the module's target folder. */
  public static Path logDir(String testName) {
    return new File("target/node-logs/" + testName).toPath();
  }
}
