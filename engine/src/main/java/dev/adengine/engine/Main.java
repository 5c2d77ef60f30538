package dev.adengine.engine;

/**
 * Starts one engine node with the configuration on the classpath, the cluster profile and transport
 * chosen by the environment ({@link EngineConfig}) and environment overrides.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    EngineNode node = EngineNode.start(EngineConfig.load());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> node.system().terminate(), "adengine-shutdown"));
  }
}
