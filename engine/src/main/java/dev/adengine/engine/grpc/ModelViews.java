package dev.adengine.engine.grpc;

import dev.adengine.api.v1.ActivationView;
import dev.adengine.api.v1.DriftView;
import dev.adengine.api.v1.FeatureLogView;
import dev.adengine.api.v1.FreshnessView;
import dev.adengine.api.v1.ModelStatusView;
import dev.adengine.api.v1.ModelView;
import dev.adengine.api.v1.PipelineRunView;
import dev.adengine.api.v1.PipelineStepView;
import dev.adengine.engine.lifecycle.FeatureLogWriter;
import dev.adengine.engine.lifecycle.ModelAdmin;
import dev.adengine.persistence.ModelRegistryRepository.Activation;
import dev.adengine.persistence.ModelRegistryRepository.ModelVersion;
import dev.adengine.persistence.PipelineRepository.Run;
import dev.adengine.persistence.PipelineRepository.Step;
import java.time.Instant;
import java.util.List;
import java.util.TreeSet;

/** Proto views of the ML lifecycle's records (the admin service translates, nothing else). */
final class ModelViews {
  private ModelViews() {}

  static ModelView model(ModelVersion v, String active, String shadow) {
    ModelView.Builder b = ModelView.newBuilder()
        .setVersion(v.version())
        .setCreatedAtMs(ms(v.createdAt()))
        .setCreatedBy(nz(v.createdBy()))
        .setPipelineRun(nz(v.pipelineRun()))
        .setParentVersion(nz(v.parentVersion()))
        .setGitCommit(nz(v.gitCommit()))
        .setSchemaHash(nz(v.schemaHash()))
        .setTrainFromMs(v.trainFromMs())
        .setTrainToMs(v.trainToMs())
        .setHoldoutFromMs(v.holdoutFromMs())
        .setHoldoutToMs(v.holdoutToMs())
        .setTrainRows(v.trainRows())
        .setTrainClicks(v.trainClicks())
        .setHoldoutRows(v.holdoutRows())
        .setHoldoutClicks(v.holdoutClicks())
        .putAllHyperParams(v.hyperParams())
        .putAllMetrics(v.metrics())
        .setActive(v.version().equals(active))
        .setShadow(v.version().equals(shadow));
    return b.build();
  }

  static ActivationView activation(Activation a) {
    return ActivationView.newBuilder()
        .setScope(a.scope())
        .setSeq(a.seq())
        .setVersion(nz(a.version()))
        .setPreviousVersion(nz(a.previousVersion()))
        .setAction(nz(a.action()))
        .setActor(nz(a.actor()))
        .setReason(nz(a.reason()))
        .setAtMs(ms(a.at()))
        .build();
  }

  static PipelineRunView run(Run r, List<Step> steps) {
    PipelineRunView.Builder b = PipelineRunView.newBuilder()
        .setRunId(r.runId())
        .setTrigger(nz(r.trigger()))
        .setStartedAtMs(ms(r.startedAt()))
        .setFinishedAtMs(ms(r.finishedAt()))
        .setStatus(nz(r.status()))
        .setStep(nz(r.step()))
        .setCandidateVersion(nz(r.candidateVersion()))
        .setDetail(nz(r.detail()))
        .setNode(nz(r.node()));
    for (Step s : steps) {
      b.addSteps(PipelineStepView.newBuilder()
          .setSeq(s.seq())
          .setStep(nz(s.step()))
          .setStatus(nz(s.status()))
          .setStartedAtMs(ms(s.startedAt()))
          .setFinishedAtMs(ms(s.finishedAt()))
          .setDetail(nz(s.detail())));
    }
    return b.build();
  }

  static ModelStatusView status(ModelAdmin.NodeStatus s) {
    DriftView.Builder d = DriftView.newBuilder()
        .setThreshold(s.drift().threshold())
        .setUnmonitoredRows(s.unmonitoredRows())
        .addAllDrifted(s.drift().drifted());
    if (s.drift().modelVersion() != null) {
      d.setModelVersion(s.drift().modelVersion());
    }
    if (s.drift().report() != null) {
      d.setRows(s.drift().report().rows())
          .putAllFeaturePsi(s.drift().report().featurePsi())
          .setScorePsi(s.drift().report().scorePsi());
    }
    FeatureLogWriter.Stats f = s.featureLog();
    return ModelStatusView.newBuilder()
        .setNodeId(s.nodeId())
        .setActiveVersion(s.activeVersion())
        .setShadowVersion(s.shadowVersion())
        .addAllArmVersions(new TreeSet<>(s.armVersions()))
        .setDrift(d)
        .setFeatureLog(FeatureLogView.newBuilder()
            .setCaptured(f.captured())
            .setWritten(f.written())
            .setDropped(f.dropped())
            .setDroppedQueueFull(f.droppedQueueFull())
            .setFailed(f.failed())
            .setEncodeFailures(f.encodeFailures())
            .setLabelsWritten(f.labelsWritten())
            .setLabelsDropped(f.labelsDropped())
            .setLabelsFailed(f.labelsFailed())
            .setShadowScored(f.shadowScored())
            .setQueued(f.queued())
            .setSampledOut(f.sampledOut())
            .setRateLimited(f.rateLimited()))
        .setFreshness(FreshnessView.newBuilder()
            .setSnapshots(s.freshness().snapshots())
            .setMaxAgeMs(s.freshness().maxAgeMillis())
            .setStale(s.freshness().stale())
            .setSloMs(s.freshnessSloMillis()))
        .build();
  }

  private static long ms(Instant t) {
    return t == null ? 0 : t.toEpochMilli();
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
