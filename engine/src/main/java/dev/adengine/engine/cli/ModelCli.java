package dev.adengine.engine.cli;

import dev.adengine.api.v1.ActivationView;
import dev.adengine.api.v1.DeployModelRequest;
import dev.adengine.api.v1.GetModelRequest;
import dev.adengine.api.v1.GetModelStatusRequest;
import dev.adengine.api.v1.GetPipelineRunsRequest;
import dev.adengine.api.v1.ListModelsRequest;
import dev.adengine.api.v1.ListModelsResponse;
import dev.adengine.api.v1.ModelStatusView;
import dev.adengine.api.v1.ModelView;
import dev.adengine.api.v1.PipelineRunView;
import dev.adengine.api.v1.PipelineRunsResponse;
import dev.adengine.api.v1.PipelineStepView;
import dev.adengine.api.v1.RollbackModelRequest;
import dev.adengine.api.v1.ShadowModelRequest;
import dev.adengine.api.v1.TrainModelRequest;
import dev.adengine.api.v1.TrainModelResponse;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code adsctl model ...}: the model registry, deploys, shadow, rollback, retraining runs, node status. */
@Command(name = "model", mixinStandardHelpOptions = true,
    description = "pCTR models: list, show, train, deploy, shadow, rollback, runs, status.",
    subcommands = {ModelCli.ListModels.class, ModelCli.Show.class, ModelCli.Train.class, ModelCli.Deploy.class,
        ModelCli.Shadow.class, ModelCli.Rollback.class, ModelCli.Runs.class, ModelCli.Status.class})
final class ModelCli extends AdsCtl.Group {
  abstract static class Sub extends AdsCtl.Leaf {
    @ParentCommand
    ModelCli parent;

    int activation(ActivationView a) {
      if (output.json) {
        out().println(ProtoJson.of(a));
      } else {
        out().printf(Locale.ROOT, "%s %s: %s (activation %d, was %s)%n", a.getScope(), a.getAction(),
            a.getVersion(), a.getSeq(), a.getPreviousVersion().isEmpty() ? "-" : a.getPreviousVersion());
      }
      return 0;
    }
  }

  static String time(long ms) {
    return ms == 0 ? "-" : Instant.ofEpochMilli(ms).toString();
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the registry's model versions.")
  static final class ListModels extends Sub {
    @Override
    public Integer call() throws Exception {
      ListModelsResponse r = parent.root.call(a -> a.listModels(ListModelsRequest.getDefaultInstance()));
      if (output.json) {
        out().println(ProtoJson.of(r));
        return 0;
      }
      out().printf(Locale.ROOT, "active %s, shadow %s%n", r.getActiveVersion(),
          r.getShadowVersion().isEmpty() ? "none" : r.getShadowVersion());
      if (r.getModelsCount() == 0) {
        out().println("no versions in the registry (nodes serve their configured model)");
        return 0;
      }
      String row = "%-2s %-30s %-20s %8s %8s %10s  %s%n";
      out().printf(Locale.ROOT, row, "", "VERSION", "CREATED", "AUC", "LOG LOSS", "TRAIN ROWS", "PARENT");
      for (ModelView m : r.getModelsList()) {
        out().printf(Locale.ROOT, row, m.getActive() ? "*" : m.getShadow() ? "s" : "", m.getVersion(),
            time(m.getCreatedAtMs()).replaceAll("\\.\\d+Z$", "Z"),
            metric(m, "auc", "%.4f"), metric(m, "log_loss", "%.5f"), m.getTrainRows(),
            m.getParentVersion().isEmpty() ? "-" : m.getParentVersion());
      }
      return 0;
    }
  }

  /** A registered metric, or "-" (a bootstrapped model was not evaluated on the feature log). */
  static String metric(ModelView m, String name, String format) {
    return m.containsMetrics(name) ? String.format(Locale.ROOT, format, m.getMetricsOrThrow(name)) : "-";
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one version with its lineage.")
  static final class Show extends Sub {
    @Parameters(index = "0", paramLabel = "VERSION")
    String version;

    @Override
    public Integer call() throws Exception {
      ModelView m = parent.root.call(a -> a.getModel(GetModelRequest.newBuilder().setVersion(version).build()));
      if (output.json) {
        out().println(ProtoJson.of(m));
        return 0;
      }
      PrintWriter o = out();
      o.printf(Locale.ROOT, "version        %s%s%n", m.getVersion(), m.getActive() ? " (active)" : m.getShadow()
          ? " (shadow)" : "");
      o.printf(Locale.ROOT, "created        %s by %s, pipeline run %s%n", time(m.getCreatedAtMs()), m.getCreatedBy(),
          m.getPipelineRun().isEmpty() ? "-" : m.getPipelineRun());
      o.printf(Locale.ROOT, "parent         %s%n", m.getParentVersion().isEmpty() ? "-" : m.getParentVersion());
      o.printf(Locale.ROOT, "code           %s, feature schema %s%n", m.getGitCommit(), m.getSchemaHash());
      o.printf(Locale.ROOT, "training       %s .. %s: %d rows, %d clicks%n", time(m.getTrainFromMs()),
          time(m.getTrainToMs()), m.getTrainRows(), m.getTrainClicks());
      o.printf(Locale.ROOT, "hold-out       %s .. %s: %d rows, %d clicks%n", time(m.getHoldoutFromMs()),
          time(m.getHoldoutToMs()), m.getHoldoutRows(), m.getHoldoutClicks());
      o.printf(Locale.ROOT, "hyper-params   %s%n", new TreeMap<>(m.getHyperParamsMap()));
      o.println("metrics");
      for (Map.Entry<String, Double> e : new TreeMap<>(m.getMetricsMap()).entrySet()) {
        o.printf(Locale.ROOT, "  %-40s %.5f%n", e.getKey(), e.getValue());
      }
      return 0;
    }
  }

  @Command(name = "train", mixinStandardHelpOptions = true,
      description = "Starts a retraining run (extract, train, validate, register, shadow, promote) on the cluster's"
          + " pipeline; prints its run id (follow it with 'adsctl model runs RUN_ID').")
  static final class Train extends Sub {
    @Option(names = "--actor", description = "who asks (default: the OS user)")
    String actor;

    @Option(names = "--train-from-ms", description = "training window start (epoch ms; give all four bounds or none)")
    long trainFrom;
    @Option(names = "--train-to-ms") long trainTo;
    @Option(names = "--holdout-from-ms") long holdoutFrom;
    @Option(names = "--holdout-to-ms") long holdoutTo;

    @Option(names = "--last", paramLabel = "DURATION",
        description = "train on the traffic of the last DURATION (e.g. 10m, 90s) ending 5 s ago: its first three"
            + " quarters for training, the last quarter as the hold-out (instead of the four bounds)")
    String last;

    @Option(names = "--exclude", split = ",", paramLabel = "FEATURE",
        description = "features the candidate may not use (an ablation)")
    List<String> exclude = List.of();

    @Option(names = "--trees", description = "boosted trees (default: configured)")
    int trees;

    @Option(names = "--no-promote", description = "stop after registering the candidate")
    boolean noPromote;

    @Override
    public Integer call() throws Exception {
      if (last != null) {
        if (trainFrom != 0 || trainTo != 0 || holdoutFrom != 0 || holdoutTo != 0) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--last or the four window bounds, not both");
        }
        long span = duration(spec.commandLine(), last);
        holdoutTo = System.currentTimeMillis() - 5_000; // clicks of the newest requests are still arriving
        trainFrom = holdoutTo - span;
        trainTo = trainFrom + span * 3 / 4;
        holdoutFrom = trainTo;
      }
      TrainModelRequest req = TrainModelRequest.newBuilder().setActor(actor(actor)).setTrainFromMs(trainFrom)
          .setTrainToMs(trainTo).setHoldoutFromMs(holdoutFrom).setHoldoutToMs(holdoutTo)
          .addAllExcludeFeatures(exclude).setTrees(trees).setNoPromote(noPromote).build();
      TrainModelResponse r = parent.root.call(a -> a.trainModel(req));
      if (output.json) {
        out().println(ProtoJson.of(r));
      } else {
        out().println("started pipeline run " + r.getRunId());
      }
      return 0;
    }
  }

  /** {@code 90s}, {@code 10m}, {@code 2h} in milliseconds. */
  static long duration(CommandLine line, String s) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9})(s|m|h)").matcher(s.trim());
    if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
      throw new CommandLine.ParameterException(line, "--last: a positive duration"
          + " such as 90s, 10m or 2h, got " + s);
    }
    long n = Long.parseLong(m.group(1));
    return n * switch (m.group(2)) {
      case "s" -> 1_000L;
      case "m" -> 60_000L;
      default -> 3_600_000L;
    };
  }

  @Command(name = "deploy", mixinStandardHelpOptions = true,
      description = "Makes VERSION the cluster's active model (every node loads it in the background).")
  static final class Deploy extends Sub {
    @Parameters(index = "0", paramLabel = "VERSION")
    String version;

    @Option(names = "--actor") String actor;
    @Option(names = "--reason") String reason = "";

    @Override
    public Integer call() throws Exception {
      return activation(parent.root.call(a -> a.deployModel(DeployModelRequest.newBuilder().setActor(actor(actor))
          .setVersion(version).setReason(reason).build())));
    }
  }

  @Command(name = "shadow", mixinStandardHelpOptions = true,
      description = "Scores VERSION beside the live model on every node (logged only); --off clears it.")
  static final class Shadow extends Sub {
    @Parameters(index = "0", paramLabel = "VERSION", arity = "0..1")
    String version;

    @Option(names = "--off", description = "clear the shadow model") boolean off;
    @Option(names = "--actor") String actor;
    @Option(names = "--reason") String reason = "";

    @Override
    public Integer call() throws Exception {
      if ((version == null) == !off) {
        throw new CommandLine.ParameterException(spec.commandLine(), "give a VERSION or --off");
      }
      String v = off ? "" : version;
      return activation(parent.root.call(a -> a.shadowModel(ShadowModelRequest.newBuilder().setActor(actor(actor))
          .setVersion(v).setReason(reason).build())));
    }
  }

  @Command(name = "rollback", mixinStandardHelpOptions = true,
      description = "Activates the version the latest activation replaced.")
  static final class Rollback extends Sub {
    @Option(names = "--actor") String actor;
    @Option(names = "--reason") String reason = "";

    @Override
    public Integer call() throws Exception {
      return activation(parent.root.call(a -> a.rollbackModel(RollbackModelRequest.newBuilder()
          .setActor(actor(actor)).setReason(reason).build())));
    }
  }

  @Command(name = "runs", mixinStandardHelpOptions = true,
      description = "Lists retraining runs, or shows one run's steps.")
  static final class Runs extends Sub {
    @Parameters(index = "0", paramLabel = "RUN_ID", arity = "0..1")
    String runId;

    @Option(names = "--limit", defaultValue = "20") int limit;

    @Override
    public Integer call() throws Exception {
      PipelineRunsResponse r = parent.root.call(a -> a.getPipelineRuns(GetPipelineRunsRequest.newBuilder()
          .setLimit(limit).setRunId(runId == null ? "" : runId).build()));
      if (output.json) {
        out().println(ProtoJson.of(r));
        return 0;
      }
      if (r.getRunsCount() == 0) {
        out().println("no pipeline runs");
        return 0;
      }
      for (PipelineRunView run : r.getRunsList()) {
        out().printf(Locale.ROOT, "%s  %-9s at %-8s %s  %s%n", run.getRunId(), run.getStatus(), run.getStep(),
            run.getCandidateVersion().isEmpty() ? "-" : run.getCandidateVersion(), run.getDetail());
        for (PipelineStepView s : run.getStepsList()) {
          long ms = s.getFinishedAtMs() == 0 ? 0 : s.getFinishedAtMs() - s.getStartedAtMs();
          out().printf(Locale.ROOT, "  %2d %-9s %-9s %7d ms  %s%n", s.getSeq(), s.getStep(), s.getStatus(), ms,
              s.getDetail());
        }
      }
      return 0;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "This node's models, drift (PSI against the active model's reference), feature log and freshness.")
  static final class Status extends Sub {
    @Override
    public Integer call() throws Exception {
      ModelStatusView s = parent.root.call(a -> a.getModelStatus(GetModelStatusRequest.getDefaultInstance()));
      if (output.json) {
        out().println(ProtoJson.of(s));
        return 0;
      }
      PrintWriter o = out();
      o.printf(Locale.ROOT, "node %s: active %s, shadow %s, arm models %s%n", s.getNodeId(), s.getActiveVersion(),
          s.getShadowVersion().isEmpty() ? "none" : s.getShadowVersion(), s.getArmVersionsList());
      var d = s.getDrift();
      if (d.getModelVersion().isEmpty()) {
        o.printf(Locale.ROOT, "drift: not monitored (the active model has no reference; %d rows)%n",
            d.getUnmonitoredRows());
      } else {
        o.printf(Locale.ROOT, "drift of %s over %d rows: score PSI %.4f, drifted %s (threshold %.2f)%n",
            d.getModelVersion(), d.getRows(), d.getScorePsi(), d.getDriftedList(), d.getThreshold());
        for (Map.Entry<String, Double> e : d.getFeaturePsiMap().entrySet()) {
          o.printf(Locale.ROOT, "  %-28s %.4f%n", e.getKey(), e.getValue());
        }
      }
      var f = s.getFeatureLog();
      o.printf(Locale.ROOT, "feature log: %d captured, %d written, %d dropped (queue full %d, failed %d), %d over"
              + " the rate cap, %d sampled out, labels %d written / %d dropped, %d shadow scores%n", f.getCaptured(),
          f.getWritten(), f.getDropped(), f.getDroppedQueueFull(), f.getFailed(), f.getRateLimited(),
          f.getSampledOut(), f.getLabelsWritten(),
          f.getLabelsDropped(), f.getShadowScored());
      var fr = s.getFreshness();
      o.printf(Locale.ROOT, "freshness: %d campaign snapshots, oldest %d ms, %d older than the %d ms SLO%n",
          fr.getSnapshots(), fr.getMaxAgeMs(), fr.getStale(), fr.getSloMs());
      return 0;
    }
  }
}
