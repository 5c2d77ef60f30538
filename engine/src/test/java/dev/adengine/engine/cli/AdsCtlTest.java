package dev.adengine.engine.cli;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.adengine.engine.EngineNode;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.persistence.testing.CassandraTestNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code adsctl experiment|model ...} against a live node: tables, JSON, one-line errors, exit codes, help. */
class AdsCtlTest {
  private static EngineNode node;
  private static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() {
    node = startNode(CassandraTestNode.uniqueKeyspaceName("adsctl"));
  }

  @AfterAll
  static void stop() {
    EngineTestSupport.stop(node);
  }

  private record Run(int exit, String out, String err) {}

  private static Run adsctl(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = AdsCtl.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of("--target", "127.0.0.1:" + node.grpcPort()));
    all.addAll(List.of(args));
    int exit = cl.execute(all.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void shouldManageAnExperimentFromCreationToReportWhenGivenValidCommands() throws Exception {
    // when an experiment is created, started and ramped through the CLI
    Run created = adsctl("experiment", "create", "cli-exp", "--layer", "cli", "--allocation", "2000",
        "--arm", "control=5000,control", "--arm", "fast=5000,top-k=1,auction=FIRST_PRICE", "--actor", "ops");
    assertEquals(0, created.exit(), created.err());
    assertTrue(created.out().startsWith("experiment cli-exp: DRAFT, 20.00% of layer cli"), created.out());
    Run started = adsctl("experiment", "start", "cli-exp", "--actor", "ops");
    assertEquals(0, started.exit(), started.err());
    assertTrue(started.out().contains("RUNNING"), started.out());
    Run ramped = adsctl("experiment", "ramp", "cli-exp", "--allocation", "3000", "--actor", "ops");
    assertEquals(0, ramped.exit(), ramped.err());
    assertTrue(ramped.out().contains("30.00% of layer cli"), ramped.out());

    // then list shows it as a table, and as JSON with every field
    Run list = adsctl("experiment", "list");
    assertEquals(0, list.exit(), list.err());
    String line = list.out().lines().filter(l -> l.startsWith("cli-exp")).findFirst().orElseThrow();
    assertTrue(line.matches("cli-exp\\s+cli\\s+RUNNING\\s+30\\.00%\\s+control\\* 50\\.00%; fast 50\\.00% "
        + "\\(auction=FIRST_PRICE, top-k=1\\)"), line);
    JsonNode config = JSON.readTree(adsctl("experiment", "list", "--json").out());
    JsonNode exp = config.get("experiments").get(0);
    assertEquals("cli-exp", exp.get("experiment_id").asText());
    assertEquals(3000, exp.get("allocation_basis_points").asInt());
    assertEquals(1, exp.get("arms").get(1).get("params").get("top_k").asInt());
    assertTrue(exp.get("arms").get(0).get("params").get("top_k").isNull(), "unset = engine default");
    assertEquals(config.get("version").asLong(), config.get("node_version").asLong());

    // and the report, as text and as JSON
    Run report = adsctl("experiment", "report", "cli-exp");
    assertEquals(0, report.exit(), report.err());
    assertTrue(report.out().startsWith("experiment cli-exp (control control, 95% intervals)"), report.out());
    JsonNode json = JSON.readTree(adsctl("experiment", "report", "cli-exp", "--json").out());
    assertEquals("control", json.get("control_arm").asText());
    assertEquals(2, json.get("arms").size());
    assertTrue(json.get("arms").get(0).get("ctr").isNull(), "the control has no comparison");

    Run stopped = adsctl("experiment", "stop", "cli-exp", "--reason", "done", "--actor", "ops");
    assertEquals(0, stopped.exit(), stopped.err());
    assertTrue(stopped.out().contains("STOPPED"), stopped.out());
  }

  @Test
  void shouldSetTheGlobalHoldoutAndRefuseAShareOutOfRange() throws Exception {
    try {
      Run set = adsctl("experiment", "holdout", "1000", "--reason", "baseline", "--actor", "ops");
      assertEquals(0, set.exit(), set.err());
      assertTrue(set.out().matches("holdout 10\\.00% of all users \\(config v\\d+\\)\\s*"), set.out());
      assertTrue(adsctl("experiment", "list").out().contains("holdout 10.00%"));
      assertEquals(1000, JSON.readTree(adsctl("experiment", "holdout", "1000", "--json", "--actor", "ops").out())
          .get("holdout_basis_points").asInt());

      Run tooBig = adsctl("experiment", "holdout", "10001", "--actor", "ops");
      assertEquals(1, tooBig.exit());
      assertEquals(1, tooBig.err().lines().count(), tooBig.err());
      assertTrue(tooBig.err().startsWith("adsctl: INVALID_ARGUMENT: basis_points: must be in [0, 10000]"),
          tooBig.err());
      Run notANumber = adsctl("experiment", "holdout", "ten");
      assertEquals(2, notANumber.exit());
      assertTrue(notANumber.err().contains("BP"), notANumber.err());
    } finally {
      assertEquals(0, adsctl("experiment", "holdout", "0", "--actor", "ops").exit());
    }
  }

  @Test
  void shouldPrintOneLineAndFailWhenTheNodeRefusesOrTheCommandIsWrong() {
    // a rule the node enforces: INVALID_ARGUMENT naming the field
    Run tooMuch = adsctl("experiment", "create", "big", "--layer", "x", "--allocation", "20000",
        "--arm", "control=5000,control", "--arm", "t=5000");
    assertEquals(1, tooMuch.exit());
    assertEquals("", tooMuch.out());
    assertEquals(1, tooMuch.err().lines().count(), tooMuch.err());
    assertTrue(tooMuch.err().startsWith("adsctl: INVALID_ARGUMENT: experiments[big].allocationBasisPoints"),
        tooMuch.err());

    // an unknown experiment
    Run unknown = adsctl("experiment", "start", "nope");
    assertEquals(1, unknown.exit());
    assertTrue(unknown.err().startsWith("adsctl: NOT_FOUND: "), unknown.err());

    // a malformed arm is a usage error, caught before calling the node
    Run badArm = adsctl("experiment", "create", "y", "--layer", "x", "--allocation", "100", "--arm", "control");
    assertEquals(2, badArm.exit());
    assertEquals(1, badArm.err().lines().count(), badArm.err());
    assertTrue(badArm.err().startsWith("adsctl: --arm control: expected NAME=BP first"), badArm.err());

    // a missing option
    Run missing = adsctl("experiment", "ramp", "x");
    assertEquals(2, missing.exit());
    assertTrue(missing.err().contains("--allocation"), missing.err());

    // a node that is not there
    StringWriter err = new StringWriter();
    CommandLine cl = AdsCtl.commandLine();
    cl.setErr(new PrintWriter(err, true));
    assertEquals(1, cl.execute("--target", "127.0.0.1:1", "--timeout", "3", "experiment", "list"));
    assertEquals(1, err.toString().lines().count(), err.toString());
    assertTrue(err.toString().startsWith("adsctl: "), err.toString());
  }

  @Test
  void shouldShowTheRegistryAndTheNodesModelsAndRefuseBadModelCommandsInOneLine() throws Exception {
    // a new cluster's registry holds its bootstrapped (configured) model, active
    Run list = adsctl("model", "list");
    assertEquals(0, list.exit(), list.err());
    String active = JSON.readTree(adsctl("model", "list", "--json").out()).get("active_version").asText();
    assertTrue(list.out().startsWith("active " + active + ", shadow none"), list.out());
    assertTrue(list.out().lines().anyMatch(l -> l.matches("\\*\\s+" + active + "\\s.*")), list.out());
    Run show = adsctl("model", "show", active);
    assertEquals(0, show.exit(), show.err());
    assertTrue(show.out().startsWith("version        " + active + " (active)"), show.out());
    assertTrue(show.out().contains("created        ") && show.out().contains("by bootstrap"), show.out());

    // this node's status: active model, feature log, freshness
    Run status = adsctl("model", "status");
    assertEquals(0, status.exit(), status.err());
    assertTrue(status.out().contains("active " + active), status.out());
    assertTrue(status.out().contains("feature log: ") && status.out().contains("freshness: "), status.out());
    JsonNode st = JSON.readTree(adsctl("model", "status", "--json").out());
    assertEquals(active, st.get("active_version").asText());
    assertEquals(node.nodeId(), st.get("node_id").asText());

    // refusals: one line, exit 1, the gRPC code and the field or the reason
    Run unknown = adsctl("model", "show", "no-such-version");
    assertEquals(1, unknown.exit());
    assertEquals("adsctl: NOT_FOUND: no model version no-such-version in the registry", unknown.err().strip());
    Run deploy = adsctl("model", "deploy", "no-such-version", "--actor", "ops");
    assertEquals(1, deploy.exit());
    assertTrue(deploy.err().startsWith("adsctl: NOT_FOUND: no model version no-such-version"), deploy.err());
    Run rollback = adsctl("model", "rollback", "--actor", "ops");
    assertEquals(1, rollback.exit());
    assertEquals(1, rollback.err().lines().count(), rollback.err());
    assertTrue(rollback.err().startsWith("adsctl: NOT_FOUND: no previous version to roll back to"), rollback.err());
    Run train = adsctl("model", "train", "--exclude", "no_such_feature", "--actor", "ops");
    assertEquals(1, train.exit());
    assertTrue(train.err().startsWith("adsctl: INVALID_ARGUMENT: exclude_features[0]"), train.err());
    Run windows = adsctl("model", "train", "--train-from-ms", "10", "--actor", "ops");
    assertEquals(1, windows.exit());
    assertTrue(windows.err().startsWith("adsctl: INVALID_ARGUMENT: train_from_ms: give all four"), windows.err());
    Run shadow = adsctl("model", "shadow");
    assertEquals(2, shadow.exit());
    assertTrue(shadow.err().startsWith("adsctl: give a VERSION or --off"), shadow.err());
    Run runs = adsctl("model", "runs");
    assertEquals(0, runs.exit(), runs.err());
    assertEquals("no pipeline runs", runs.out().strip());
    Run badLast = adsctl("model", "train", "--last", "10 minutes");
    assertEquals(2, badLast.exit());
    assertTrue(badLast.err().startsWith("adsctl: --last: a positive duration"), badLast.err());

    // a run on a window without traffic fails, and its record says why
    Run started = adsctl("model", "train", "--last", "2m", "--actor", "ops");
    assertEquals(0, started.exit(), started.err());
    assertTrue(started.out().startsWith("started pipeline run run-"), started.out());
    String runId = started.out().strip().substring("started pipeline run ".length());
    String shown = awaitValue(java.time.Duration.ofSeconds(20), () -> {
      Run r = adsctl("model", "runs", runId);
      assertEquals(0, r.exit(), r.err());
      assertTrue(r.out().startsWith(runId + "  FAILED    at TRAIN"), r.out());
      return r.out();
    });
    assertTrue(shown.contains("fewer than the 2000 required"), shown);
    assertTrue(shown.lines().anyMatch(l -> l.matches("\\s+\\d+ EXTRACT\\s+SUCCEEDED.*")), shown);
  }

  @Test
  void shouldPrintUsageWhenAskedForHelpAtAnyLevel() {
    for (String[] args : new String[][] {{"--help"}, {"experiment", "--help"}, {"experiment", "list", "--help"},
        {"experiment", "create", "--help"}, {"experiment", "start", "--help"}, {"experiment", "ramp", "--help"},
        {"experiment", "stop", "--help"}, {"experiment", "report", "--help"}, {"experiment", "holdout", "--help"},
        {"model", "--help"}, {"model", "list", "--help"}, {"model", "show", "--help"}, {"model", "train", "--help"},
        {"model", "deploy", "--help"}, {"model", "shadow", "--help"}, {"model", "rollback", "--help"},
        {"model", "runs", "--help"}, {"model", "status", "--help"}}) {
      Run help = adsctl(args);
      assertEquals(0, help.exit(), String.join(" ", args));
      assertTrue(help.out().startsWith("Usage: adsctl"), help.out());
    }
  }
}
