package dev.adengine.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.adengine.api.v1.ClusterShardsRequest;
import dev.adengine.api.v1.ClusterShardsResponse;
import dev.adengine.api.v1.ClusterStatusRequest;
import dev.adengine.api.v1.ClusterStatusResponse;
import dev.adengine.api.v1.EntityTypeShardsView;
import dev.adengine.api.v1.Member;
import dev.adengine.api.v1.ReadinessCheckView;
import dev.adengine.api.v1.RegionShardsView;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code adsctl cluster ...}: the cluster as the answering node sees it (admin API), and the
 * operator's two membership actions, leave and down, through Pekko Management's cluster HTTP
 * ({@code PUT /cluster/members/ADDRESS}, {@code --mgmt}).
 */
@Command(name = "cluster", mixinStandardHelpOptions = true,
    description = "The cluster: status, members, shards, leave, down.",
    subcommands = {ClusterCli.Status.class, ClusterCli.Members.class, ClusterCli.Shards.class, ClusterCli.Leave.class,
        ClusterCli.Down.class})
final class ClusterCli extends AdsCtl.Group {
  private static final ObjectMapper JSON = new ObjectMapper();

  abstract static class Sub extends AdsCtl.Leaf {
    @ParentCommand
    ClusterCli parent;

    ClusterStatusResponse status() throws Exception {
      return parent.root.call(a -> a.clusterStatus(ClusterStatusRequest.getDefaultInstance()));
    }

    void members(ClusterStatusResponse s) {
      String row = "%-2s %-40s %-9s %s%n";
      out().printf(Locale.ROOT, row, "", "ADDRESS", "STATUS", "ROLES");
      for (Member m : s.getMembersList()) {
        String mark = (m.getAddress().equals(s.getLeader()) ? "L" : "") + (m.getAddress().equals(s.getSelfAddress())
            ? "*" : "");
        out().printf(Locale.ROOT, row, mark, m.getAddress(), m.getStatus(),
            m.getRolesCount() == 0 ? "-" : String.join(",", m.getRolesList()));
      }
      out().println("(L leader, * the answering node)");
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "The answering node: members and leader, readiness check by check, replica, model, snapshots.")
  static final class Status extends Sub {
    @Override
    public Integer call() throws Exception {
      ClusterStatusResponse s = status();
      if (output.json) {
        out().println(ProtoJson.of(s));
        return 0;
      }
      PrintWriter o = out();
      o.printf(Locale.ROOT, "node           %s (%s)%n", s.getSelfAddress(), s.getNodeId());
      o.printf(Locale.ROOT, "leader         %s%n", s.getLeader().isEmpty() ? "none" : s.getLeader());
      o.printf(Locale.ROOT, "ready          %s%n", s.getReady() ? "yes" : "NO");
      for (ReadinessCheckView c : s.getReadinessChecksList()) {
        o.printf(Locale.ROOT, "  %-12s %-4s %s%n", c.getName(), c.getOk() ? "ok" : "FAIL", c.getDetail());
      }
      o.printf(Locale.ROOT, "replica        %d campaigns, %d ads%n", s.getReplicaCampaigns(), s.getReplicaAds());
      o.printf(Locale.ROOT, "model          %s (%d requests ranked, %d partial answers)%n", s.getModelVersion(),
          s.getRankedRequests(), s.getPartialAnswers());
      o.printf(Locale.ROOT, "snapshots      %d campaigns, oldest %d ms, %d stale%n", s.getSnapshotCampaigns(),
          s.getMaxSnapshotAgeMs(), s.getStaleSnapshots());
      o.printf(Locale.ROOT, "reservations   %d open%n", s.getOpenReservations());
      o.printf(Locale.ROOT, "members        %d%n", s.getMembersCount());
      members(s);
      return 0;
    }
  }

  @Command(name = "members", mixinStandardHelpOptions = true,
      description = "The cluster's members as the answering node sees them.")
  static final class Members extends Sub {
    @Override
    public Integer call() throws Exception {
      ClusterStatusResponse s = status();
      if (output.json) {
        var json = JSON.createObjectNode().put("self_address", s.getSelfAddress()).put("leader", s.getLeader());
        var list = json.putArray("members");
        for (Member m : s.getMembersList()) {
          list.add(JSON.readTree(ProtoJson.of(m)));
        }
        out().println(json);
        return 0;
      }
      members(s);
      return 0;
    }
  }

  @Command(name = "shards", mixinStandardHelpOptions = true,
      description = "Shards and entities per member, for each sharded entity type (Campaign, Advertiser).")
  static final class Shards extends Sub {
    @Override
    public Integer call() throws Exception {
      ClusterShardsResponse r = parent.root.call(a -> a.clusterShards(ClusterShardsRequest.getDefaultInstance()));
      if (output.json) {
        out().println(ProtoJson.of(r));
        return 0;
      }
      String row = "%-12s %-40s %7s %9s%n";
      out().printf(Locale.ROOT, row, "ENTITY TYPE", "MEMBER", "SHARDS", "ENTITIES");
      for (EntityTypeShardsView t : r.getEntityTypesList()) {
        if (t.getRegionsCount() == 0) {
          out().printf(Locale.ROOT, row, t.getEntityType(), "-", 0, 0);
        }
        for (RegionShardsView g : t.getRegionsList()) {
          out().printf(Locale.ROOT, row, t.getEntityType(), g.getAddress(), g.getShards(), g.getEntities());
        }
        for (String f : t.getFailedList()) {
          out().printf(Locale.ROOT, "%-12s %s%n", t.getEntityType(), "no answer: " + f);
        }
      }
      return 0;
    }
  }

  /** {@code leave} and {@code down}: a membership operation on one member through the management endpoint. */
  abstract static class Operation extends Sub {
    @Parameters(paramLabel = "NODE", description = {"the member: its address (pekko://adengine@host:port),",
        "adengine@host:port, or host:port"})
    String node;

    abstract String operation();

    @Override
    public Integer call() throws Exception {
      AdsCtl root = parent.root;
      AdsCtl.HttpAnswer members = root.http(root.mgmt, "GET", "/cluster/members", null);
      if (members.status() != 200) {
        throw new AdsCtl.Failure("UNAVAILABLE: " + root.mgmt + " /cluster/members answered " + members.status()
            + ": " + oneLine(members.body()));
      }
      String address = resolve(JSON.readTree(members.body()), node);
      AdsCtl.HttpAnswer r = root.http(root.mgmt, "PUT", "/cluster/members/" + address,
          "operation=" + operation());
      if (r.status() != 200) {
        throw new AdsCtl.Failure((r.status() == 404 ? "NOT_FOUND: " : "FAILED_PRECONDITION: ") + operation()
            + " " + address + " refused (" + r.status() + "): " + oneLine(message(r.body())));
      }
      if (output.json) {
        out().println(JSON.createObjectNode().put("member", address).put("operation", operation())
            .put("message", message(r.body())));
      } else {
        out().println(message(r.body()));
      }
      return 0;
    }

    /** The full address of the member that {@code node} names, or NOT_FOUND listing the members. */
    private String resolve(JsonNode members, String node) {
      List<String> all = new ArrayList<>();
      for (JsonNode m : members.path("members")) {
        String a = m.path("node").asText();
        all.add(a);
        String hostPort = a.substring(a.indexOf('@') + 1);
        if (a.equals(node) || a.endsWith("://" + node) || hostPort.equals(node)) {
          return a;
        }
      }
      throw new AdsCtl.Failure("NOT_FOUND: no member " + node + " (members: " + String.join(", ", all) + ")");
    }

    private static String message(String body) {
      try {
        JsonNode j = JSON.readTree(body);
        return j.has("message") ? j.get("message").asText() : body;
      } catch (Exception e) {
        return body;
      }
    }

    private static String oneLine(String s) {
      return s.replace('\n', ' ');
    }
  }

  @Command(name = "leave", mixinStandardHelpOptions = true,
      description = "Asks a member to leave the cluster gracefully (its shards hand over first).")
  static final class Leave extends Operation {
    @Override
    String operation() {
      return "Leave";
    }
  }

  @Command(name = "down", mixinStandardHelpOptions = true,
      description = "Marks an unreachable member down (removed at once; only for a node that is really gone).")
  static final class Down extends Operation {
    @Override
    String operation() {
      return "Down";
    }
  }
}
