package dev.adengine.engine.lifecycle;

import com.typesafe.config.Config;
import dev.adengine.models.lifecycle.QualityGates;
import dev.adengine.models.training.CtrTrainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** The {@code adengine.lifecycle} block, read once at start. */
public record LifecycleSettings(FeatureLogWriter.Settings featureLog, ModelDeployer.Settings deploy,
    Duration loadAtStartTimeout, DriftMonitor.Settings drift, Duration schedule, Duration trainWindow,
    Duration holdoutWindow, Duration labelDelay, Duration shadowFor, ModelTraining.Options training,
    QualityGates.Thresholds gates, int parityCandidates, ModelGuardrail.Settings guardrail, String gitCommit) {

  public static LifecycleSettings from(Config root) {
    Config c = root.getConfig("adengine.lifecycle");
    Config log = c.getConfig("feature-log");
    Config deploy = c.getConfig("deploy");
    Config drift = c.getConfig("drift");
    Config p = c.getConfig("pipeline");
    Config g = p.getConfig("gates");
    ModelTraining.Options training = new ModelTraining.Options(
        CtrTrainer.Options.defaults().withTrees(p.getInt("trees")), p.getDouble("calibration-share"), Set.of(),
        p.getInt("min-train-rows"), p.getInt("min-slice-rows"), p.getInt("reference-rows"));
    return new LifecycleSettings(
        new FeatureLogWriter.Settings(log.getBoolean("enabled"), log.getInt("queue-capacity"),
            log.getInt("max-in-flight"), log.getInt("labels-max-in-flight"), log.getDouble("sample-rate"),
            log.getInt("max-rate"),
            FeatureLogWriter.Candidates.valueOf(log.getString("candidates").toUpperCase(Locale.ROOT)),
            log.getDuration("retry-for")),
        new ModelDeployer.Settings(deploy.getDuration("write-timeout"), deploy.getDuration("resync-interval")),
        deploy.getDuration("load-at-start-timeout"),
        new DriftMonitor.Settings(drift.getDuration("window"), drift.getInt("slots"), drift.getLong("min-rows"),
            drift.getDouble("threshold")),
        p.getDuration("schedule"), p.getDuration("train-window"), p.getDuration("holdout-window"),
        p.getDuration("label-delay"), p.getDuration("shadow-for"), training,
        new QualityGates.Thresholds(g.getDouble("min-auc"), g.getDouble("max-normalized-log-loss"),
            g.getDouble("max-calibration-error"), g.getDouble("max-auc-drop"), g.getDouble("max-log-loss-increase"),
            g.getDouble("max-calibration-error-increase")),
        p.getInt("parity-candidates"), guardrail(c.getConfig("guardrail")), gitCommit(c.getString("git-commit")));
  }

  private static ModelGuardrail.Settings guardrail(Config g) {
    return new ModelGuardrail.Settings(g.getBoolean("enabled"), g.getDuration("interval"), g.getDuration("window"),
        g.getDuration("settle"), g.getDuration("sustain"), g.getLong("min-impressions"), g.getLong("min-requests"),
        g.getDouble("min-calibration"), g.getDouble("max-calibration"), g.getDouble("min-ctr"),
        g.getDouble("max-error-rate"));
  }

  /** The configured commit, or for "auto" $ADENGINE_GIT_COMMIT, else {@code git rev-parse}; start-up only. */
  public static String gitCommit(String configured) {
    if (!"auto".equals(configured)) {
      return configured;
    }
    String env = System.getenv("ADENGINE_GIT_COMMIT");
    if (env != null && !env.isBlank()) {
      return env.trim();
    }
    try {
      Process git = new ProcessBuilder("git", "rev-parse", "--short=12", "HEAD").redirectErrorStream(true).start();
      if (!git.waitFor(5, TimeUnit.SECONDS)) { // ok to block: start-up wiring, on the caller's thread
        git.destroyForcibly();
        return "unknown";
      }
      String out = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return git.exitValue() == 0 && out.matches("[0-9a-f]{7,40}") ? out : "unknown";
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }
}
