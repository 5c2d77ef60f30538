package dev.adengine.chaos.bench;

import dev.adengine.chaos.NodeProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One server the benchmark measures, running as its own JVM process with the engine's JVM flags
 * and this JVM's class path: a reference server ({@code ReferenceServers}, ready when its port
 * accepts connections) or an engine node ({@link NodeProcess}, ready when {@code /ready} answers).
 * Its output goes to a log file; {@link #close()} stops it with SIGTERM.
 */
public final class ServerUnderTest implements AutoCloseable {
  private static final Duration STOP_GRACE = Duration.ofSeconds(20);
  private final String name;
  private final int port;
  private final Path log;
  private final Process process;
  private final NodeProcess node;

  private ServerUnderTest(String name, int port, Path log, Process process, NodeProcess node) {
    this.name = name;
    this.port = port;
    this.log = log;
    this.process = process;
    this.node = node;
  }

  /** Starts {@code bin/reference-server kind --port port}'s main class and waits until it listens. */
  public static ServerUnderTest reference(String kind, List<String> jvmFlags, Path logDir, Duration maxWait)
      throws IOException, InterruptedException {
    Files.createDirectories(logDir);
    int port = NodeProcess.freePorts().grpc();
    Path log = logDir.resolve(kind + ".log");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmFlags);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
        "dev.adengine.chaos.reference.ReferenceServers", kind, "--port", Integer.toString(port)));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    ServerUnderTest server = new ServerUnderTest(kind, port, log, p, null);
    long deadline = System.nanoTime() + maxWait.toNanos();
    while (!listening(port)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        server.close();
        throw new IllegalStateException(kind + " did not start (see " + log + ")");
      }
      Thread.sleep(200); // the bench's main thread
    }
    return server;
  }

  /** Starts one engine node on keyspace {@code keyspace} and waits for its readiness. */
  public static ServerUnderTest engine(String keyspace, List<String> jvmFlags, Path logDir, Duration maxWait) {
    NodeProcess node = NodeProcess.start("engine", keyspace, NodeProcess.freePorts(), Map.of(), logDir, jvmFlags);
    ServerUnderTest server = new ServerUnderTest("engine", node.grpcPort(), node.log(), null, node);
    try {
      node.awaitReady(maxWait);
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public String name() {
    return name;
  }

  public int port() {
    return port;
  }

  public long pid() {
    return node != null ? node.pid() : process.pid();
  }

  public Path log() {
    return log;
  }

  public boolean alive() {
    return node != null ? node.alive() : process.isAlive();
  }

  @Override
  public void close() {
    if (node != null) {
      node.close();
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
