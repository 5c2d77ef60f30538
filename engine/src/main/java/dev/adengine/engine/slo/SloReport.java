package dev.adengine.engine.slo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cluster's SLO status from every node's published counts: per SLI and window the summed
 * total and bad requests, the error ratio, the burn rate (error ratio / (1 - objective): 1 spends
 * exactly the error budget over the period) and how much of the window the data covers; then each
 * multi-window alert (fires when the burn rate is at least its factor over both of its windows).
 * Only nodes that published within {@code node-stale-after} count.
 */
public record SloReport(long atMillis, List<String> nodes, List<String> staleNodes, List<Sli> slis,
    List<AlertState> alerts) {

  public static final String AVAILABILITY = "availability";
  public static final String LATENCY = "latency";

  public record Window(Duration window, long total, long bad, long excluded, double errorRatio, double burnRate,
      double coverage) {}

  public record Sli(String name, double objective, List<Window> windows) {
    public Window window(Duration d) {
      return windows.stream().filter(w -> w.window().equals(d)).findFirst().orElseThrow();
    }
  }

  public record AlertState(String sli, SloSettings.Alert alert, double longBurnRate, double shortBurnRate,
      boolean firing) {}

  public static SloReport of(SloSettings settings, Map<String, NodeSlo> entries, long nowMillis) {
    Map<String, NodeSlo> fresh = new TreeMap<>();
    List<String> stale = new ArrayList<>();
    for (Map.Entry<String, NodeSlo> e : new TreeMap<>(entries).entrySet()) {
      if (nowMillis - e.getValue().publishedAtMillis() <= settings.nodeStaleAfter().toMillis()) {
        fresh.put(e.getKey(), e.getValue());
      } else {
        stale.add(e.getKey());
      }
    }
    List<Sli> slis = List.of(
        sli(AVAILABILITY, settings.availabilityObjective(), settings.windows(), fresh, true),
        sli(LATENCY, settings.latencyObjective(), settings.windows(), fresh, false));
    List<AlertState> alerts = new ArrayList<>();
    for (Sli s : slis) {
      for (SloSettings.Alert a : settings.alerts()) {
        double longBurn = s.window(a.longWindow()).burnRate();
        double shortBurn = s.window(a.shortWindow()).burnRate();
        alerts.add(new AlertState(s.name(), a, longBurn, shortBurn,
            longBurn >= a.burnRate() && shortBurn >= a.burnRate()));
      }
    }
    return new SloReport(nowMillis, List.copyOf(fresh.keySet()), stale, slis, alerts);
  }

  private static Sli sli(String name, double objective, List<Duration> windows, Map<String, NodeSlo> nodes,
      boolean availability) {
    List<Window> out = new ArrayList<>();
    for (Duration w : windows) {
      long total = 0;
      long bad = 0;
      long excluded = 0;
      double coverage = 0;
      for (NodeSlo n : nodes.values()) {
        int i = n.indexOf(w.toMillis());
        if (i < 0) {
          continue;
        }
        total += n.total()[i];
        bad += availability ? n.availabilityBad()[i] : n.latencyBad()[i];
        excluded += n.excluded()[i];
        coverage = Math.max(coverage, n.coverage()[i]);
      }
      double ratio = total == 0 ? 0 : bad / (double) total;
      out.add(new Window(w, total, bad, excluded, ratio, ratio / (1 - objective), coverage));
    }
    return new Sli(name, objective, out);
  }
}
