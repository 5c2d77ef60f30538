package dev.adengine.engine.slo;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code adengine.slo} block (cluster-config's slo.conf), read once at start: the objectives,
 * the burn-rate windows and alert policies, and how the node-local tracker buckets and publishes.
 */
public record SloSettings(double availabilityObjective, double latencyObjective, Duration latencyThreshold,
    Duration period, List<Duration> windows, List<Alert> alerts, Duration bucket, Duration publishInterval,
    Duration nodeStaleAfter, Duration pruneAfter) {

  /** Fires when the burn rate is at least {@code burnRate} over both windows. */
  public record Alert(String severity, double burnRate, Duration longWindow, Duration shortWindow) {}

  public SloSettings {
    check(availabilityObjective, "availability-objective");
    check(latencyObjective, "latency-objective");
    windows = List.copyOf(windows);
    alerts = List.copyOf(alerts);
    if (windows.isEmpty()) {
      throw new IllegalArgumentException("adengine.slo.windows: at least one window");
    }
    for (Duration w : windows) {
      if (w.isNegative() || w.isZero() || w.toMillis() % bucket.toMillis() != 0) {
        throw new IllegalArgumentException("adengine.slo.windows: " + w + " is not a positive multiple of the "
            + bucket + " bucket");
      }
    }
    for (Alert a : alerts) {
      if (!windows.contains(a.longWindow()) || !windows.contains(a.shortWindow())) {
        throw new IllegalArgumentException("adengine.slo.alerts: the windows of " + a + " must be in "
            + "adengine.slo.windows");
      }
    }
  }

  private static void check(double objective, String name) {
    if (!(objective > 0 && objective < 1)) {
      throw new IllegalArgumentException("adengine.slo." + name + " must be in (0, 1), got " + objective);
    }
  }

  public static SloSettings from(Config root) {
    Config c = root.getConfig("adengine.slo");
    List<Alert> alerts = new ArrayList<>();
    for (Config a : c.getConfigList("alerts")) {
      alerts.add(new Alert(a.getString("severity"), a.getDouble("burn-rate"), a.getDuration("long-window"),
          a.getDuration("short-window")));
    }
    Config t = c.getConfig("tracker");
    return new SloSettings(c.getDouble("availability-objective"), c.getDouble("latency-objective"),
        c.getDuration("latency-threshold"), c.getDuration("period"), c.getDurationList("windows"), alerts,
        t.getDuration("bucket"), t.getDuration("publish-interval"), t.getDuration("node-stale-after"),
        t.getDuration("prune-after"));
  }

  /** The longest window: how much history the tracker keeps. */
  public Duration longestWindow() {
    return windows.stream().max(Duration::compareTo).orElseThrow();
  }

  /** A window as written in the config and shown by adsctl: 5m, 1h, 3d. */
  public static String label(Duration d) {
    long s = d.toSeconds();
    if (s % 86_400 == 0) {
      return s / 86_400 + "d";
    }
    if (s % 3_600 == 0) {
      return s / 3_600 + "h";
    }
    if (s % 60 == 0) {
      return s / 60 + "m";
    }
    return s + "s";
  }
}
