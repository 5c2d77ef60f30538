package dev.adengine.engine.cli;

import dev.adengine.api.v1.AdminServiceClient;
import dev.adengine.api.v1.ArmAuctionType;
import dev.adengine.api.v1.ArmParamsSpec;
import dev.adengine.api.v1.ArmSpec;
import dev.adengine.api.v1.ArmView;
import dev.adengine.api.v1.CreateExperimentRequest;
import dev.adengine.api.v1.ExperimentConfigView;
import dev.adengine.api.v1.ExperimentReportRequest;
import dev.adengine.api.v1.ExperimentReportView;
import dev.adengine.api.v1.ExperimentView;
import dev.adengine.api.v1.GetExperimentConfigRequest;
import dev.adengine.api.v1.RampExperimentRequest;
import dev.adengine.api.v1.SetHoldoutRequest;
import dev.adengine.api.v1.StartExperimentRequest;
import dev.adengine.api.v1.StopExperimentRequest;
import dev.adengine.engine.sim.TrafficSimulator;
import io.grpc.Status;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code bin/adsctl}: the operator's command line for a running node's admin API. Human tables by
 * default, {@code --json} for scripts; a failure prints one line ({@code adsctl: CODE: message})
 * on stderr and exits 1 (2 for a usage error).
 */
@Command(name = "adsctl", mixinStandardHelpOptions = true, version = "adsctl 0.1.0",
    description = "Operates a running adengine node through its admin API.",
    subcommands = {AdsCtl.ExperimentCommand.class, ModelCli.class, CampaignCli.class, ClusterCli.class,
        OpsCli.Health.class, OpsCli.Slo.class})
public final class AdsCtl implements Runnable {

  @Option(names = "--target", paramLabel = "HOST:PORT",
      defaultValue = "${env:ADENGINE_GRPC_HOST:-127.0.0.1}:${env:ADENGINE_GRPC_PORT:-8080}",
      description = "the node's gRPC address (default ${DEFAULT-VALUE}, from ADENGINE_GRPC_HOST/PORT)")
  String target;

  @Option(names = "--mgmt", paramLabel = "HOST:PORT",
      defaultValue = "${env:ADENGINE_MGMT_HOST:-127.0.0.1}:${env:ADENGINE_MGMT_PORT:-8558}",
      description = "the node's Pekko Management HTTP address, for health and cluster leave/down (default"
          + " ${DEFAULT-VALUE}, from ADENGINE_MGMT_HOST/PORT)")
  String mgmt;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
      description = "how long to wait for the node (default ${DEFAULT-VALUE} s)")
  long timeoutSeconds;

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (experiment, model, campaign, cluster, health, slo)");
  }

  public static void main(String[] args) {
    // the engine's logback.xml logs to stdout: keep the CLI's output (and its --json) clean
    if (org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)
        instanceof ch.qos.logback.classic.Logger root) {
      root.setLevel(ch.qos.logback.classic.Level.ERROR);
    }
    // One writer for every subcommand, flushed before exiting: a bare print() (the report's text)
    // is not auto-flushed and System.exit would drop it.
    CommandLine cl = commandLine();
    PrintWriter out = new PrintWriter(System.out, true);
    cl.setOut(out);
    int code = cl.execute(args);
    out.flush();
    cl.getErr().flush();
    System.exit(code);
  }

  /** The configured command line: one-line errors for usage mistakes and for failed calls. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new AdsCtl());
    cl.setParameterExceptionHandler((ex, args) -> {
      ex.getCommandLine().getErr().println("adsctl: " + ex.getMessage() + " (try --help)");
      return 2;
    });
    cl.setExecutionExceptionHandler((ex, line, parsed) -> {
      line.getErr().println("adsctl: " + describe(ex));
      return 1;
    });
    return cl;
  }

  /** A failure the CLI words itself (a management endpoint's refusal, a node not ready): its message is the line. */
  static final class Failure extends RuntimeException {
    Failure(String message) {
      super(message, null, false, false);
    }
  }

  static String describe(Throwable ex) {
    Throwable t = ex;
    while ((t instanceof java.util.concurrent.ExecutionException
        || t instanceof java.util.concurrent.CompletionException) && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof Failure f) {
      return f.getMessage();
    }
    if (t instanceof java.util.concurrent.TimeoutException) {
      return "DEADLINE_EXCEEDED: no answer from the node in time";
    }
    Status status = Status.fromThrowable(t);
    if (status.getCode() != Status.Code.UNKNOWN) {
      String d = status.getDescription();
      return status.getCode() + (d == null ? "" : ": " + d.replace('\n', ' '));
    }
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m.replace('\n', ' '));
  }

  /** Calls the admin API of the target node on a short-lived local ActorSystem. */
  <T> T call(Function<AdminServiceClient, CompletionStage<T>> request) throws Exception {
    int colon = target.lastIndexOf(':');
    int port;
    try {
      port = Integer.parseInt(target.substring(colon + 1));
    } catch (RuntimeException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--target must be HOST:PORT, got " + target);
    }
    if (colon <= 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--target must be HOST:PORT, got " + target);
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "adsctl", TrafficSimulator.clientSystemConfig());
    try {
      AdminServiceClient client = AdminServiceClient.create(GrpcClientSettings
          .connectToServiceAt(target.substring(0, colon), port, system).withTls(false)
          .withDeadline(Duration.ofSeconds(timeoutSeconds)), system);
      try {
        return request.apply(client).toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS); // ok to block: CLI main thread

      } finally {
        client.close();
      }
    } finally {
      system.terminate();
    }
  }

  /** HOST:PORT as host and port, or a usage error naming {@code option}. */
  java.net.InetSocketAddress hostPort(String option, String value) {
    int colon = value.lastIndexOf(':');
    try {
      int port = Integer.parseInt(value.substring(colon + 1));
      if (colon > 0 && port > 0 && port < 65_536) {
        return java.net.InetSocketAddress.createUnresolved(value.substring(0, colon), port);
      }
    } catch (RuntimeException e) {
      // worded below
    }
    throw new CommandLine.ParameterException(spec.commandLine(), option + " must be HOST:PORT, got " + value);
  }

  /** An HTTP answer of a management endpoint. */
  record HttpAnswer(int status, String body) {}

  /**
   * Calls a node's Pekko Management HTTP endpoint ({@code mgmt}, HOST:PORT) with {@code --timeout};
   * {@code form} (urlencoded) makes it a request with a body. An unreachable endpoint is a {@link Failure}.
   */
  HttpAnswer http(String mgmt, String method, String path, String form) throws Exception {
    java.net.InetSocketAddress at = hostPort("--mgmt", mgmt);
    java.net.URI uri = java.net.URI.create("http://" + at.getHostString() + ":" + at.getPort() + path);
    java.net.http.HttpRequest.Builder req = java.net.http.HttpRequest.newBuilder(uri)
        .timeout(Duration.ofSeconds(timeoutSeconds));
    if (form == null) {
      req.method(method, java.net.http.HttpRequest.BodyPublishers.noBody());
    } else {
      req.header("Content-Type", "application/x-www-form-urlencoded")
          .method(method, java.net.http.HttpRequest.BodyPublishers.ofString(form));
    }
    // HTTP/1.1: the JDK client's default h2c upgrade of a request with a body gets no answer from the
    // node's HTTP server (which has HTTP/2 on for gRPC)
    java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
        .version(java.net.http.HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(timeoutSeconds)).build();
    try {
      java.net.http.HttpResponse<String> r = client.send(req.build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()); // ok to block: CLI main thread
      return new HttpAnswer(r.statusCode(), r.body().strip());
    } catch (java.io.IOException e) {
      throw new Failure("UNAVAILABLE: management endpoint " + mgmt + " did not answer " + method + " " + path
          + " (" + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
    }
  }

  /** {@code --json}, shared by every command that prints something. */
  static final class JsonOption {
    @Option(names = "--json", description = "print JSON instead of a table")
    boolean json;
  }

  @Command(name = "experiment", mixinStandardHelpOptions = true,
      description = "A/B experiments: list, create, start, ramp, stop, report, and the global holdout.",
      subcommands = {List_.class, Create.class, Start.class, Ramp.class, Stop.class, Report.class, Holdout.class})
  static final class ExperimentCommand extends Group {
  }

  /** A command that only groups subcommands: run without one, it is a usage error naming them. */
  abstract static class Group implements Runnable {
    @ParentCommand
    AdsCtl root;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "a subcommand is required (" + String.join(", ", spec.subcommands().keySet()) + ")");
    }
  }

  /** What every leaf command has: its spec, {@code --json}, its output and the default actor. */
  abstract static class Leaf implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    JsonOption output;

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    /** The actor of an audited change: the given one, else the OS user. */
    static String actor(String given) {
      return given != null ? given : System.getProperty("user.name", "");
    }
  }

  /** Common parts of the experiment subcommands. */
  abstract static class Sub extends Leaf {
    @ParentCommand
    ExperimentCommand parent;

    /** Prints the config as JSON, or the one-line outcome of a change for {@code id}. */
    int printChange(ExperimentConfigView c, String id) {
      if (output.json) {
        out().println(ProtoJson.of(c));
        return 0;
      }
      for (ExperimentView e : c.getExperimentsList()) {
        if (e.getExperimentId().equals(id)) {
          out().printf(Locale.ROOT, "experiment %s: %s, %s of layer %s (config v%d)%n", id, e.getState(),
              percent(e.getAllocationBasisPoints()), e.getLayerId(), c.getVersion());
        }
      }
      return 0;
    }

  }

  static String percent(int basisPoints) {
    return String.format(Locale.ROOT, "%.2f%%", basisPoints / 100.0);
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists every experiment of the config.")
  static final class List_ extends Sub {
    @Override
    public Integer call() throws Exception {
      ExperimentConfigView c = parent.root.call(a -> a.getExperimentConfig(GetExperimentConfigRequest.getDefaultInstance()));
      if (output.json) {
        out().println(ProtoJson.of(c));
        return 0;
      }
      out().printf(Locale.ROOT, "config v%d (this node serves v%d), holdout %s%n", c.getVersion(), c.getNodeVersion(),
          percent(c.getHoldoutBasisPoints()));
      if (c.getExperimentsCount() == 0) {
        out().println("no experiments");
        return 0;
      }
      String row = "%-24s %-16s %-8s %9s  %s%n";
      out().printf(Locale.ROOT, row, "EXPERIMENT", "LAYER", "STATE", "TRAFFIC", "ARMS (* control: share, params)");
      for (ExperimentView e : c.getExperimentsList()) {
        List<String> arms = new ArrayList<>();
        for (ArmView a : e.getArmsList()) {
          arms.add(a.getName() + (a.getControl() ? "*" : "") + " " + percent(a.getBasisPoints())
              + params(a.getParams()));
        }
        out().printf(Locale.ROOT, row, e.getExperimentId(), e.getLayerId(), e.getState(),
            percent(e.getAllocationBasisPoints()), String.join("; ", arms));
      }
      return 0;
    }

    private static String params(ArmParamsSpec p) {
      List<String> set = new ArrayList<>();
      if (!p.getModelVersion().isEmpty()) {
        set.add("model=" + p.getModelVersion());
      }
      if (p.getAuctionType() != ArmAuctionType.ARM_AUCTION_TYPE_DEFAULT) {
        set.add("auction=" + (p.getAuctionType() == ArmAuctionType.ARM_AUCTION_GSP ? "GSP" : "FIRST_PRICE"));
      }
      if (p.hasReserveMicros()) {
        set.add("reserve=" + p.getReserveMicros());
      }
      if (p.hasQualityFactor()) {
        set.add("quality=" + p.getQualityFactor());
      }
      if (p.hasTopK()) {
        set.add("top-k=" + p.getTopK());
      }
      if (!p.getShadowModelVersion().isEmpty()) {
        set.add("shadow=" + p.getShadowModelVersion());
      }
      return set.isEmpty() ? "" : " (" + String.join(", ", set) + ")";
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Creates a DRAFT experiment (and its layer if new); it serves no one until started.")
  static final class Create extends Sub {
    @Parameters(paramLabel = "ID", description = "the experiment id")
    String id;

    @Option(names = "--layer", required = true, description = "the layer (created if new)")
    String layer;

    @Option(names = "--allocation", required = true, paramLabel = "BP",
        description = "share of the layer in basis points (10000 = all)")
    int allocation;

    @Option(names = "--arm", required = true, paramLabel = "NAME=BP[,control][,KEY=VALUE...]",
        description = {"an arm and its share of the experiment in basis points (the arms sum to 10000);",
            "exactly one arm is marked control; parameters: model=VERSION, auction=GSP|FIRST_PRICE,",
            "reserve=MICROS, quality=FACTOR, top-k=N, shadow=VERSION (unset = engine default)"})
    List<String> arms;

    @Option(names = "--actor", description = "who makes the change, for the audit log (default: the OS user)")
    String actor;

    @Override
    public Integer call() throws Exception {
      CreateExperimentRequest.Builder b = CreateExperimentRequest.newBuilder().setActor(actor(actor))
          .setExperimentId(id).setLayerId(layer).setAllocationBasisPoints(allocation);
      for (String arm : arms) {
        b.addArms(parseArm(arm));
      }
      return printChange(parent.root.call(a -> a.createExperiment(b.build())), id);
    }

    private ArmSpec parseArm(String spec) {
      String[] parts = spec.split(",");
      int eq = parts[0].indexOf('=');
      if (eq <= 0) {
        throw bad(spec, "expected NAME=BP first");
      }
      ArmSpec.Builder arm = ArmSpec.newBuilder().setName(parts[0].substring(0, eq));
      arm.setBasisPoints(integer(spec, parts[0].substring(eq + 1)));
      ArmParamsSpec.Builder p = ArmParamsSpec.newBuilder();
      for (int i = 1; i < parts.length; i++) {
        String part = parts[i];
        if (part.equals("control")) {
          arm.setControl(true);
          continue;
        }
        int kv = part.indexOf('=');
        if (kv <= 0) {
          throw bad(spec, "'" + part + "' is neither 'control' nor KEY=VALUE");
        }
        String v = part.substring(kv + 1);
        switch (part.substring(0, kv)) {
          case "model" -> p.setModelVersion(v);
          case "auction" -> p.setAuctionType(switch (v) {
            case "GSP" -> ArmAuctionType.ARM_AUCTION_GSP;
            case "FIRST_PRICE" -> ArmAuctionType.ARM_AUCTION_FIRST_PRICE;
            default -> throw bad(spec, "auction is GSP or FIRST_PRICE, got " + v);
          });
          case "reserve" -> p.setReserveMicros(integer(spec, v));
          case "quality" -> {
            try {
              p.setQualityFactor(Double.parseDouble(v));
            } catch (NumberFormatException e) {
              throw bad(spec, "quality is a number, got " + v);
            }
          }
          case "top-k" -> p.setTopK(integer(spec, v));
          case "shadow" -> p.setShadowModelVersion(v);
          default -> throw bad(spec, "unknown parameter '" + part.substring(0, kv) + "'");
        }
      }
      return arm.setParams(p).build();
    }

    private int integer(String spec, String v) {
      try {
        return Integer.parseInt(v);
      } catch (NumberFormatException e) {
        throw bad(spec, "'" + v + "' is not an integer");
      }
    }

    private CommandLine.ParameterException bad(String arm, String problem) {
      return new CommandLine.ParameterException(spec.commandLine(), "--arm " + arm + ": " + problem);
    }
  }

  @Command(name = "start", mixinStandardHelpOptions = true, description = "Starts a DRAFT experiment.")
  static final class Start extends Sub {
    @Parameters(paramLabel = "ID")
    String id;

    @Option(names = "--actor", description = "who makes the change (default: the OS user)")
    String actor;

    @Override
    public Integer call() throws Exception {
      return printChange(parent.root.call(a -> a.startExperiment(StartExperimentRequest.newBuilder()
          .setActor(actor(actor)).setExperimentId(id).build())), id);
    }
  }

  @Command(name = "ramp", mixinStandardHelpOptions = true,
      description = "Changes an experiment's share of its layer; users keep their arm.")
  static final class Ramp extends Sub {
    @Parameters(paramLabel = "ID")
    String id;

    @Option(names = "--allocation", required = true, paramLabel = "BP", description = "the new share in basis points")
    int allocation;

    @Option(names = "--actor", description = "who makes the change (default: the OS user)")
    String actor;

    @Override
    public Integer call() throws Exception {
      return printChange(parent.root.call(a -> a.rampExperiment(RampExperimentRequest.newBuilder()
          .setActor(actor(actor)).setExperimentId(id).setAllocationBasisPoints(allocation).build())), id);
    }
  }

  @Command(name = "stop", mixinStandardHelpOptions = true,
      description = "Stops an experiment: it serves no one; its definition and stats stay for the report.")
  static final class Stop extends Sub {
    @Parameters(paramLabel = "ID")
    String id;

    @Option(names = "--reason", description = "why, for the audit log")
    String reason;

    @Option(names = "--actor", description = "who makes the change (default: the OS user)")
    String actor;

    @Override
    public Integer call() throws Exception {
      StopExperimentRequest.Builder b = StopExperimentRequest.newBuilder().setActor(actor(actor)).setExperimentId(id);
      if (reason != null) {
        b.setReason(reason);
      }
      return printChange(parent.root.call(a -> a.stopExperiment(b.build())), id);
    }
  }

  @Command(name = "holdout", mixinStandardHelpOptions = true,
      description = {"Sets the global holdout: the share of all users no experiment serves.",
          "Raising it keeps every user already held out; lowering it releases users."})
  static final class Holdout extends Sub {
    @Parameters(paramLabel = "BP", description = "the share in basis points, 0 to 10000 (0 = no holdout)")
    int basisPoints;

    @Option(names = "--reason", description = "why, for the audit log")
    String reason;

    @Option(names = "--actor", description = "who makes the change (default: the OS user)")
    String actor;

    @Override
    public Integer call() throws Exception {
      SetHoldoutRequest.Builder b = SetHoldoutRequest.newBuilder().setActor(actor(actor)).setBasisPoints(basisPoints);
      if (reason != null) {
        b.setReason(reason);
      }
      ExperimentConfigView c = parent.root.call(a -> a.setHoldout(b.build()));
      if (output.json) {
        out().println(ProtoJson.of(c));
      } else {
        out().printf(Locale.ROOT, "holdout %s of all users (config v%d)%n", percent(c.getHoldoutBasisPoints()),
            c.getVersion());
      }
      return 0;
    }
  }

  @Command(name = "report", mixinStandardHelpOptions = true,
      description = "Per-arm outcomes over the whole cluster and each arm compared with the control.")
  static final class Report extends Sub {
    @Parameters(paramLabel = "ID")
    String id;

    @Option(names = "--confidence", defaultValue = "0.95", description = "of the intervals (default ${DEFAULT-VALUE})")
    double confidence;

    @Override
    public Integer call() throws Exception {
      ExperimentReportView r = parent.root.call(a -> a.getExperimentReport(ExperimentReportRequest.newBuilder()
          .setExperimentId(id).setConfidence(confidence).build()));
      if (output.json) {
        out().println(ProtoJson.of(r));
      } else {
        out().print(r.getRendered());
      }
      return 0;
    }
  }
}
