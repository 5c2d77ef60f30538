package dev.adengine.chaos.reference;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bin/reference-server}: starts one reference server ({@value PekkoReferenceServer#NAME}
 * or {@value GrpcJavaReferenceServer#NAME}) and serves until the process is stopped.
 */
@Command(name = "reference-server", mixinStandardHelpOptions = true,
    description = "Serve AuctionService.Bid with a fixed answer from memory, to measure the gRPC transport alone.")
public final class ReferenceServers implements Callable<Integer> {
  @Parameters(index = "0", description = "pekko-grpc or grpc-java")
  String kind;

  @Option(names = "--host", description = "Interface to bind (default ${DEFAULT-VALUE}).")
  String host = "127.0.0.1";

  @Option(names = "--port", description = "Port (default ${DEFAULT-VALUE}).")
  int port = 8090;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ReferenceServers()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    AutoCloseable server = switch (kind) {
      case PekkoReferenceServer.NAME -> PekkoReferenceServer.start(host, port);
      case GrpcJavaReferenceServer.NAME -> GrpcJavaReferenceServer.start(host, port);
      default -> throw new CommandLine.ParameterException(new CommandLine(this),
          "unknown server '" + kind + "': pekko-grpc or grpc-java");
    };
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close();
      } catch (Exception e) {
        System.err.println("reference server: close failed: " + e);
      } finally {
        stopped.countDown();
      }
    }));
    System.out.printf("reference server %s serving AuctionService on %s:%d%n", kind, host, port);
    stopped.await(); // the main thread has nothing else to do until the JVM is stopped
    return 0;
  }
}
