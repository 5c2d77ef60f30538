package dev.adengine.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.adengine.api.v1.ClusterStatusRequest;
import dev.adengine.api.v1.ClusterStatusResponse;
import dev.adengine.api.v1.GetSloRequest;
import dev.adengine.api.v1.ReadinessCheckView;
import dev.adengine.api.v1.SliView;
import dev.adengine.api.v1.SloAlertView;
import dev.adengine.api.v1.SloView;
import dev.adengine.api.v1.SloWindowView;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code adsctl health} (management /ready and /alive) and {@code adsctl slo} (burn rates and alerts). */
final class OpsCli {
  private static final ObjectMapper JSON = new ObjectMapper();

  private OpsCli() {}

  @Command(name = "health", mixinStandardHelpOptions = true,
      description = {"Readiness and liveness of nodes through their management endpoints (/ready, /alive), and",
          "the --target node's readiness check by check. Exits 1 when a node is not ready or not alive."})
  static final class Health extends AdsCtl.Leaf {
    @ParentCommand
    AdsCtl root;

    @Option(names = "--node", paramLabel = "HOST:PORT", description = {"a management endpoint to check (repeat"
        + " for several; default: --mgmt)"})
    List<String> nodes;

    /** One node's answers. */
    private record NodeHealth(String mgmt, int readyStatus, String readyBody, int aliveStatus, String aliveBody) {
      boolean ready() {
        return readyStatus == 200;
      }

      boolean alive() {
        return aliveStatus == 200;
      }
    }

    @Override
    public Integer call() throws Exception {
      List<String> targets = nodes == null || nodes.isEmpty() ? List.of(root.mgmt) : nodes;
      List<NodeHealth> all = new ArrayList<>();
      for (String mgmt : targets) {
        root.hostPort(nodes == null || nodes.isEmpty() ? "--mgmt" : "--node", mgmt);
        all.add(probe(mgmt));
      }
      List<ReadinessCheckView> checks = List.of();
      String checksProblem = null;
      try {
        ClusterStatusResponse s = root.call(a -> a.clusterStatus(ClusterStatusRequest.getDefaultInstance()));
        checks = s.getReadinessChecksList();
      } catch (Exception e) {
        checksProblem = AdsCtl.describe(e);
      }
      if (output.json) {
        ObjectNode json = JSON.createObjectNode();
        ArrayNode list = json.putArray("nodes");
        for (NodeHealth h : all) {
          list.addObject().put("mgmt", h.mgmt()).put("ready", h.ready()).put("ready_status", h.readyStatus())
              .put("ready_detail", h.readyBody()).put("alive", h.alive()).put("alive_status", h.aliveStatus())
              .put("alive_detail", h.aliveBody());
        }
        ArrayNode c = json.putArray("checks");
        for (ReadinessCheckView v : checks) {
          c.addObject().put("name", v.getName()).put("ok", v.getOk()).put("detail", v.getDetail());
        }
        json.put("checks_of", root.target);
        if (checksProblem != null) {
          json.put("checks_error", checksProblem);
        }
        out().println(json);
      } else {
        PrintWriter o = out();
        String row = "%-22s %-6s %-6s %s%n";
        o.printf(Locale.ROOT, row, "NODE (MGMT)", "READY", "ALIVE", "DETAIL");
        for (NodeHealth h : all) {
          String detail = h.ready() ? (h.alive() ? "-" : h.aliveBody()) : h.readyBody();
          o.printf(Locale.ROOT, row, h.mgmt(), h.ready() ? "yes" : "NO", h.alive() ? "yes" : "NO", detail);
        }
        o.printf(Locale.ROOT, "checks (gRPC %s):%n", root.target);
        if (checksProblem != null) {
          o.printf(Locale.ROOT, "  unavailable (%s)%n", checksProblem);
        }
        for (ReadinessCheckView v : checks) {
          o.printf(Locale.ROOT, "  %-10s %-4s %s%n", v.getName(), v.getOk() ? "ok" : "FAIL", v.getDetail());
        }
      }
      List<String> bad = all.stream().filter(h -> !h.ready() || !h.alive())
          .map(h -> h.mgmt() + (h.alive() ? " not ready" : " not alive")).toList();
      if (!bad.isEmpty()) {
        spec.commandLine().getErr().println("adsctl: UNAVAILABLE: " + String.join(", ", bad));
        return 1;
      }
      return 0;
    }

    private NodeHealth probe(String mgmt) throws Exception {
      AdsCtl.HttpAnswer ready;
      AdsCtl.HttpAnswer alive;
      try {
        ready = root.http(mgmt, "GET", "/ready", null);
        alive = root.http(mgmt, "GET", "/alive", null);
      } catch (AdsCtl.Failure f) {
        return new NodeHealth(mgmt, 0, "no answer", 0, "no answer");
      }
      return new NodeHealth(mgmt, ready.status(), detail(ready), alive.status(), detail(alive));
    }

    private static String detail(AdsCtl.HttpAnswer a) {
      if (a.status() == 200) {
        return "ok";
      }
      String b = a.body().replace('\n', ' ');
      // "Health Check Failed: Check [internal lambda] failed: cassandra: ..." -> "cassandra: ..."
      int at = b.indexOf("] failed: ");
      return at >= 0 ? b.substring(at + "] failed: ".length()) : b.isEmpty() ? "HTTP " + a.status() : b;
    }
  }

  @Command(name = "slo", mixinStandardHelpOptions = true,
      description = {"The bid path's SLOs over the whole cluster: per SLI and window the requests, bad ones, error",
          "ratio, burn rate (error ratio / error budget) and the data's coverage of the window; then each",
          "multi-window burn-rate alert and whether it would fire."})
  static final class Slo extends AdsCtl.Leaf {
    @ParentCommand
    AdsCtl root;

    @Override
    public Integer call() throws Exception {
      SloView v = root.call(a -> a.getSlo(GetSloRequest.getDefaultInstance()));
      if (output.json) {
        out().println(ProtoJson.of(v));
        return 0;
      }
      PrintWriter o = out();
      o.printf(Locale.ROOT, "error budget over %s; nodes: %s%s%n", v.getPeriod(),
          v.getNodesCount() == 0 ? "none reporting" : String.join(", ", v.getNodesList()),
          v.getStaleNodesCount() == 0 ? "" : " (stopped reporting: " + String.join(", ", v.getStaleNodesList()) + ")");
      String row = "%-15s %-10s %-6s %10s %8s %11s %9s %9s%n";
      o.printf(Locale.ROOT, row, "SLI", "OBJECTIVE", "WINDOW", "REQUESTS", "BAD", "ERROR RATIO", "BURN RATE",
          "COVERAGE");
      for (SliView s : v.getSlisList()) {
        String name = s.getName() + (s.getLatencyThresholdMs() > 0 ? " <" + s.getLatencyThresholdMs() + "ms" : "");
        String objective = String.format(Locale.ROOT, "%.3f%%", s.getObjective() * 100);
        for (SloWindowView w : s.getWindowsList()) {
          o.printf(Locale.ROOT, row, name, objective, w.getWindow(),
              // No request in the window: no ratio to show (0 would read as "perfectly healthy").
              w.getTotal(), w.getBad(), w.getTotal() == 0 ? "-" : String.format(Locale.ROOT, "%.4f%%",
                  w.getErrorRatio() * 100),
              w.getTotal() == 0 ? "-" : String.format(Locale.ROOT, "%.2f", w.getBurnRate()),
              String.format(Locale.ROOT, "%.0f%%", w.getCoverage() * 100));
          name = "";
          objective = "";
        }
      }
      o.println();
      String alertRow = "%-8s %-13s %-16s %10s %10s  %s%n";
      o.printf(Locale.ROOT, alertRow, "ALERT", "SLI", "WHEN", "LONG", "SHORT", "STATE");
      for (SloAlertView a : v.getAlertsList()) {
        o.printf(Locale.ROOT, alertRow, a.getSeverity(), a.getSli(),
            String.format(Locale.ROOT, ">=%sx %s&%s", trim(a.getBurnRateThreshold()), a.getLongWindow(),
                a.getShortWindow()),
            String.format(Locale.ROOT, "%.2f", a.getLongBurnRate()),
            String.format(Locale.ROOT, "%.2f", a.getShortBurnRate()), a.getFiring() ? "FIRING" : "ok");
      }
      long firing = v.getAlertsList().stream().filter(SloAlertView::getFiring).count();
      o.println(firing == 0 ? "no alert would fire" : firing + " alert(s) would fire");
      return 0;
    }

    private static String trim(double d) {
      return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
  }
}
