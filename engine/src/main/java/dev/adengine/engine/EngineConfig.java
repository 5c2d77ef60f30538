package dev.adengine.engine;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.util.Map;

/**
 * How a node picks its configuration: {@code application.conf} (which includes the concern files
 * of {@code cluster-config/}), with a cluster profile and a transport layered over it, chosen by
 * environment variables:
 *
 * <ul>
 *   <li>{@code ADENGINE_CLUSTER_PROFILE}: empty (a one-node cluster, the default), {@code local1},
 *       {@code local2}, {@code local3} (three nodes on one machine) or {@code production}; the file
 *       {@code <profile>.conf} of {@code cluster-config/}.
 *   <li>{@code ADENGINE_TRANSPORT}: {@code tcp} (the default) or {@code aeron-udp}, which layers
 *       {@code aeron.conf}.
 * </ul>
 *
 * <p>Environment variables named in the files (ports, seeds) still win over a profile's values,
 * and system properties win over everything, as with {@code ConfigFactory.load()}.
 */
public final class EngineConfig {
  public static final String PROFILE_ENV = "ADENGINE_CLUSTER_PROFILE";
  public static final String TRANSPORT_ENV = "ADENGINE_TRANSPORT";

  private EngineConfig() {}

  /** The configuration for this process's environment. */
  public static Config load() {
    return load(System.getenv());
  }

  /** The configuration for the given environment (profile and transport only; see the class doc). */
  public static Config load(Map<String, String> env) {
    Config layered = ConfigFactory.empty();
    String transport = env.getOrDefault(TRANSPORT_ENV, "").trim();
    switch (transport) {
      case "", "tcp" -> { }
      case "aeron-udp" -> layered = layered.withFallback(resource("aeron"));
      default -> throw new IllegalArgumentException(TRANSPORT_ENV + ": tcp or aeron-udp, was " + transport);
    }
    String profile = env.getOrDefault(PROFILE_ENV, "").trim();
    if (!profile.isEmpty()) {
      if (!profile.matches("[a-z0-9-]+")) {
        throw new IllegalArgumentException(PROFILE_ENV + ": a profile name such as local1, was " + profile);
      }
      layered = layered.withFallback(resource(profile));
    }
    ConfigFactory.invalidateCaches();
    return ConfigFactory.load(layered.withFallback(ConfigFactory.parseResources("application.conf")));
  }

  private static Config resource(String name) {
    return ConfigFactory.parseResources(name + ".conf", ConfigParseOptions.defaults().setAllowMissing(false));
  }
}
