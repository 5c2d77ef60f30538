package dev.adengine.engine;

import com.typesafe.config.ConfigFactory;

/** Starts one engine node with the configuration on the classpath and environment overrides. */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    EngineNode node = EngineNode.start(ConfigFactory.load());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> node.system().terminate(), "adengine-shutdown"));
  }
}
