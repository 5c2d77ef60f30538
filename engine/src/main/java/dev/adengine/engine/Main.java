package dev.adengine.engine;

import org.slf4j.LoggerFactory;

/**
 * Starts one engine node with the configuration on the classpath, the cluster profile and transport
 * chosen by the environment ({@link EngineConfig}) and environment overrides.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    EngineNode node;
    try {
      node = EngineNode.start(EngineConfig.load());
    } catch (Throwable t) {
      // A node that failed half-way (its gRPC or management port taken, say) must not live on: its
      // actor system would stay a cluster member hosting shards while it never becomes ready. The
      // exit runs the actor system's coordinated shutdown, which leaves the cluster.
      LoggerFactory.getLogger(Main.class).error("adengine node failed to start; exiting", t);
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> node.system().terminate(), "adengine-shutdown"));
  }
}
