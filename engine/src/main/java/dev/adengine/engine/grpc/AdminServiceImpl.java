package dev.adengine.engine.grpc;

import dev.adengine.api.v1.CreateExperimentRequest;
import dev.adengine.api.v1.ExperimentConfigView;
import dev.adengine.api.v1.ExperimentReportRequest;
import dev.adengine.api.v1.ExperimentReportView;
import dev.adengine.api.v1.GetExperimentConfigRequest;
import dev.adengine.api.v1.RampExperimentRequest;
import dev.adengine.api.v1.StartExperimentRequest;
import dev.adengine.api.v1.SetHoldoutRequest;
import dev.adengine.api.v1.StopExperimentRequest;
import dev.adengine.api.v1.ActivationView;
import dev.adengine.api.v1.DeployModelRequest;
import dev.adengine.api.v1.GetModelRequest;
import dev.adengine.api.v1.GetModelStatusRequest;
import dev.adengine.api.v1.GetPipelineRunsRequest;
import dev.adengine.api.v1.ListModelsRequest;
import dev.adengine.api.v1.ListModelsResponse;
import dev.adengine.api.v1.ModelStatusView;
import dev.adengine.api.v1.ModelView;
import dev.adengine.api.v1.PipelineRunsResponse;
import dev.adengine.api.v1.RollbackModelRequest;
import dev.adengine.api.v1.ShadowModelRequest;
import dev.adengine.api.v1.TrainModelRequest;
import dev.adengine.api.v1.TrainModelResponse;
import dev.adengine.engine.lifecycle.ModelAdmin;
import dev.adengine.engine.lifecycle.ModelDeployer;
import dev.adengine.engine.lifecycle.RetrainPipeline;
import dev.adengine.engine.experiment.ExperimentAdmin;
import dev.adengine.engine.experiment.ServingExperiments;
import dev.adengine.experiments.ArmDef;
import dev.adengine.experiments.ExperimentConfig;
import dev.adengine.experiments.Holdout;
import dev.adengine.experiments.Layer;
import dev.adengine.experiments.stats.ExperimentReport;
import dev.adengine.persistence.ExperimentRepository.Change;
import java.util.ArrayList;
import java.util.List;
import dev.adengine.api.v1.ClusterShardsRequest;
import dev.adengine.api.v1.ClusterShardsResponse;
import dev.adengine.api.v1.GetSloRequest;
import dev.adengine.api.v1.ListCampaignsRequest;
import dev.adengine.api.v1.ListCampaignsResponse;
import dev.adengine.api.v1.ReadinessCheckView;
import dev.adengine.api.v1.SloView;
import dev.adengine.engine.health.NodeState;
import dev.adengine.engine.slo.SloPublisher;
import dev.adengine.engine.slo.SloReport;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;

import dev.adengine.engine.ranking.RankingMetrics;
import dev.adengine.engine.ranking.RankingPool;
import dev.adengine.api.v1.AdminService;
import dev.adengine.api.v1.AdvertiserView;
import dev.adengine.api.v1.GetAdvertiserRequest;
import dev.adengine.api.v1.PauseAdvertiserRequest;
import dev.adengine.api.v1.ResumeAdvertiserRequest;
import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.ClusterStatusRequest;
import dev.adengine.api.v1.ClusterStatusResponse;
import dev.adengine.api.v1.GetCampaignRequest;
import dev.adengine.api.v1.Member;
import dev.adengine.api.v1.PauseCampaignRequest;
import dev.adengine.api.v1.ResumeCampaignRequest;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertAdvertiserResponse;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.api.v1.UpsertCampaignResponse;
import dev.adengine.engine.campaign.AdvertiserEntity;
import dev.adengine.engine.campaign.CampaignEntity;
import dev.adengine.engine.campaign.CampaignViews;
import dev.adengine.engine.catalog.Catalog;
import dev.adengine.engine.catalog.CatalogSnapshot;
import dev.adengine.engine.features.FeatureStore;
import java.time.Duration;
import java.time.ZoneId;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * Campaign management and cluster status. Not on the bid path: it asks the sharded entities that
 * own the data, with a timeout that maps to UNAVAILABLE.
 */
public final class AdminServiceImpl implements AdminService {
  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Catalog catalog;
  private final Duration timeout;
  private final Supplier<Boolean> ready;
  private final FeatureStore features;
  private final RankingPool ranking;
  private final Duration staleAfter;
  private final IntSupplier openReservations;
  private final ExperimentAdmin experiments;
  private final ServingExperiments serving;
  private final ModelAdmin models;
  private final Ops ops;

  /** What the operations calls (issue 9) need: this node's name and the SLO settings. */
  public record Ops(String nodeId, dev.adengine.engine.slo.SloSettings slo) {}

  public AdminServiceImpl(ActorSystem<?> system, Catalog catalog, FeatureStore features, RankingPool ranking,
      Duration staleAfter, Duration timeout, Supplier<Boolean> ready, IntSupplier openReservations,
      ExperimentAdmin experiments, ServingExperiments serving, ModelAdmin models, Ops ops) {
    this.ops = ops;
    this.models = models;
    this.system = system;
    this.experiments = experiments;
    this.serving = serving;
    this.openReservations = openReservations;
    this.ranking = ranking;
    this.features = features;
    this.staleAfter = staleAfter;
    this.sharding = ClusterSharding.get(system);
    this.catalog = catalog;
    this.timeout = timeout;
    this.ready = ready;
  }

  @Override
  public CompletionStage<UpsertAdvertiserResponse> upsertAdvertiser(UpsertAdvertiserRequest in) {
    return guard(() -> {
      Validation.advertiser(in.getAdvertiser(), in.hasAdvertiser());
      Advertiser a = in.getAdvertiser();
      String zone = a.getTimeZone().isEmpty() ? "UTC" : a.getTimeZone();
      return advertiser(a.getAdvertiserId())
          .<AdvertiserEntity.Summary>askWithStatus(r -> new AdvertiserEntity.Upsert(a.toByteArray(), a.getDailyBudgetMicros(), zone, r), timeout)
          .thenApply(s -> UpsertAdvertiserResponse.newBuilder().setAdvertiser(a).setRevision(s.revision()).build());
    });
  }

  @Override
  public CompletionStage<UpsertCampaignResponse> upsertCampaign(UpsertCampaignRequest in) {
    return guard(() -> {
      Validation.campaign(in.getCampaign(), in.hasCampaign());
      if (in.getExpectedRevision() < 0) {
        throw new InvalidArgument("expected_revision", "must be 0 (any) or a revision, got " + in.getExpectedRevision());
      }
      var c = in.getCampaign();
      return advertiser(c.getAdvertiserId())
          .<AdvertiserEntity.Summary>askWithStatus(AdvertiserEntity.Get::new, timeout)
          .exceptionallyCompose(err -> CompletableFuture.failedFuture(
              err instanceof org.apache.pekko.pattern.StatusReply.ErrorMessage
                  || err.getCause() instanceof org.apache.pekko.pattern.StatusReply.ErrorMessage
                  ? new InvalidArgument("campaign.advertiser_id", "advertiser " + c.getAdvertiserId() + " does not exist")
                  : err))
          .thenCompose(adv -> {
            if (!c.getTimeZone().isEmpty() && !ZoneId.of(c.getTimeZone()).equals(ZoneId.of(adv.zoneId()))) {
              // The advertiser's cap is per advertiser day: its campaigns' budget days must be the same days.
              throw new InvalidArgument("campaign.time_zone",
                  "must be empty or the advertiser's time zone (" + adv.zoneId() + ")");
            }
            String zone = adv.zoneId();
            return campaign(c.getCampaignId()).<CampaignEntity.Summary>askWithStatus(
                r -> new CampaignEntity.Upsert(c.toByteArray(), c.getAdvertiserId(), c.getDailyBudgetMicros(), zone,
                    in.getExpectedRevision(), r),
                timeout);
          })
          .thenApply(s -> UpsertCampaignResponse.newBuilder().setCampaign(c).setRevision(s.revision()).build());
    });
  }

  @Override
  public CompletionStage<CampaignView> getCampaign(GetCampaignRequest in) {
    return guard(() -> {
      Validation.key("campaign_id", in.getCampaignId());
      return campaign(in.getCampaignId()).<CampaignEntity.Summary>askWithStatus(CampaignEntity.Get::new, timeout)
          .thenApply(CampaignViews::toView);
    });
  }

  @Override
  public CompletionStage<CampaignView> pauseCampaign(PauseCampaignRequest in) {
    return guard(() -> {
      Validation.key("campaign_id", in.getCampaignId());
      return campaign(in.getCampaignId()).<CampaignEntity.Summary>askWithStatus(CampaignEntity.Pause::new, timeout)
          .thenApply(CampaignViews::toView);
    });
  }

  @Override
  public CompletionStage<CampaignView> resumeCampaign(ResumeCampaignRequest in) {
    return guard(() -> {
      Validation.key("campaign_id", in.getCampaignId());
      return campaign(in.getCampaignId()).<CampaignEntity.Summary>askWithStatus(CampaignEntity.Resume::new, timeout)
          .thenApply(CampaignViews::toView);
    });
  }

  @Override
  public CompletionStage<AdvertiserView> getAdvertiser(GetAdvertiserRequest in) {
    return advertiserCommand(in.getAdvertiserId(), AdvertiserEntity.Get::new);
  }

  @Override
  public CompletionStage<AdvertiserView> pauseAdvertiser(PauseAdvertiserRequest in) {
    return advertiserCommand(in.getAdvertiserId(), AdvertiserEntity.Pause::new);
  }

  @Override
  public CompletionStage<AdvertiserView> resumeAdvertiser(ResumeAdvertiserRequest in) {
    return advertiserCommand(in.getAdvertiserId(), AdvertiserEntity.Resume::new);
  }

  private CompletionStage<AdvertiserView> advertiserCommand(String id,
      java.util.function.Function<ActorRef<StatusReply<AdvertiserEntity.Summary>>, AdvertiserEntity.Command> command) {
    return guard(() -> {
      Validation.key("advertiser_id", id);
      return advertiser(id).<AdvertiserEntity.Summary>askWithStatus(command::apply, timeout)
          .thenApply(AdvertiserEntity::view);
    });
  }

  @Override
  public CompletionStage<ClusterStatusResponse> clusterStatus(ClusterStatusRequest in) {
    return guard(() -> {
      Cluster cluster = Cluster.get(system);
      var state = cluster.state();
      CatalogSnapshot snapshot = catalog.current();
      ClusterStatusResponse.Builder b = ClusterStatusResponse.newBuilder()
          .setSelfAddress(cluster.selfMember().address().toString())
          .setLeader(state.getLeader() == null ? "" : state.getLeader().toString())
          .setReplicaCampaigns(snapshot.campaignCount())
          .setReplicaAds(snapshot.adCount())
          .setReady(ready.get())
          .setNodeId(ops.nodeId());
      for (NodeState.Result r : NodeState.get(system).results()) {
        b.addReadinessChecks(ReadinessCheckView.newBuilder().setName(r.name()).setOk(r.ok()).setDetail(r.detail()));
      }
      FeatureStore.Freshness f = features.freshness(System.currentTimeMillis(), staleAfter.toMillis());
      b.setSnapshotCampaigns(f.snapshots()).setMaxSnapshotAgeMs(f.maxAgeMillis()).setStaleSnapshots(f.stale());
      RankingMetrics rm = ranking.metrics();
      b.setModelVersion(ranking.models().current().version()).setRankedRequests(rm.requests())
          .setPartialAnswers(rm.partialAnswers()).setLateBatches(rm.lateBatches())
          .setFailedBatches(rm.failedBatches());
      b.setOpenReservations(openReservations.getAsInt());
      for (org.apache.pekko.cluster.Member m : state.getMembers()) {
        b.addMembers(Member.newBuilder()
            .setAddress(m.address().toString())
            .setStatus(m.status().toString())
            .addAllRoles(m.getRoles()));
      }
      return CompletableFuture.completedFuture(b.build());
    });
  }

  // ---- experiments ----

  @Override
  public CompletionStage<ExperimentConfigView> createExperiment(CreateExperimentRequest in) {
    return guard(() -> {
      String actor = actor(in.getActor());
      Validation.key("experiment_id", in.getExperimentId());
      Validation.key("layer_id", in.getLayerId());
      String id = in.getExperimentId();
      List<ArmDef> arms = ExperimentViews.arms(id, in.getArmsList());
      return change(new ExperimentAdmin.Edit(
          current -> {
            ExperimentConfig base = current;
            if (current.layer(in.getLayerId()).isEmpty()) {
              // the new layer is part of the same version as the experiment that needs it
              List<Layer> layers = new ArrayList<>(current.layers());
              layers.add(Layer.of(in.getLayerId()));
              base = new ExperimentConfig(current.version(), current.holdout(), layers, current.experiments());
            }
            return base.create(id, in.getLayerId(), in.getAllocationBasisPoints(), arms);
          },
          current -> Change.created(actor, id, in.getAllocationBasisPoints())
              .withDetail(current.layer(in.getLayerId()).isEmpty() ? "layer " + in.getLayerId() + " added" : null)));
    });
  }

  @Override
  public CompletionStage<ExperimentConfigView> startExperiment(StartExperimentRequest in) {
    return editExisting(in.getActor(), in.getExperimentId(), current -> current.start(in.getExperimentId()),
        (actor, current) -> Change.started(actor, in.getExperimentId()));
  }

  @Override
  public CompletionStage<ExperimentConfigView> rampExperiment(RampExperimentRequest in) {
    String id = in.getExperimentId();
    return editExisting(in.getActor(), id, current -> current.ramp(id, in.getAllocationBasisPoints()),
        (actor, current) -> Change.ramped(actor, id, ExperimentAdmin.require(current, id).allocationBasisPoints(),
            in.getAllocationBasisPoints()));
  }

  @Override
  public CompletionStage<ExperimentConfigView> stopExperiment(StopExperimentRequest in) {
    return editExisting(in.getActor(), in.getExperimentId(), current -> current.stop(in.getExperimentId()),
        (actor, current) -> Change.stopped(actor, in.getExperimentId(), in.getReason().isEmpty() ? null
            : in.getReason()));
  }

  @Override
  public CompletionStage<ExperimentConfigView> setHoldout(SetHoldoutRequest in) {
    return guard(() -> {
      String actor = actor(in.getActor());
      int bp = in.getBasisPoints();
      if (bp < 0 || bp > 10_000) {
        throw new InvalidArgument("basis_points", "must be in [0, 10000], got " + bp);
      }
      if (in.getReason().length() > 512) {
        throw new InvalidArgument("reason", "at most 512 characters");
      }
      String reason = in.getReason().isEmpty() ? null : in.getReason();
      return change(new ExperimentAdmin.Edit(
          current -> current.withHoldout(new Holdout(bp, current.holdout().salt())),
          current -> Change.holdoutSet(actor, current.holdout().basisPoints(), bp, reason)));
    });
  }

  /**
   * A change to an experiment that must already exist: the actor and id validated, the change
   * applied to the latest config and audited as {@code audit} (given the actor and that config).
   */
  private CompletionStage<ExperimentConfigView> editExisting(String rawActor, String id,
      java.util.function.UnaryOperator<ExperimentConfig> apply,
      java.util.function.BiFunction<String, ExperimentConfig, Change> audit) {
    return guard(() -> {
      String actor = actor(rawActor);
      Validation.key("experiment_id", id);
      return change(new ExperimentAdmin.Edit(
          current -> {
            ExperimentAdmin.require(current, id);
            return apply.apply(current);
          },
          current -> audit.apply(actor, current)));
    });
  }

  @Override
  public CompletionStage<ExperimentConfigView> getExperimentConfig(GetExperimentConfigRequest in) {
    return guard(() -> experiments.latest().thenApply(c -> ExperimentViews.config(c, serving.version())));
  }

  @Override
  public CompletionStage<ExperimentReportView> getExperimentReport(ExperimentReportRequest in) {
    return guard(() -> {
      Validation.key("experiment_id", in.getExperimentId());
      double confidence = in.getConfidence() == 0 ? ExperimentReport.DEFAULT_CONFIDENCE : in.getConfidence();
      if (!(confidence > 0 && confidence < 1)) {
        throw new InvalidArgument("confidence", "must be in (0, 1), got " + confidence);
      }
      return experiments.report(in.getExperimentId(), confidence).thenApply(ExperimentViews::report);
    });
  }

  private CompletionStage<ExperimentConfigView> change(ExperimentAdmin.Edit edit) {
    return experiments.change(edit).thenApply(c -> ExperimentViews.config(c, serving.version()));
  }

  private static String actor(String actor) {
    if (actor.isBlank()) {
      throw new InvalidArgument("actor", "is required: who makes the change (audit log)");
    }
    if (actor.length() > 128) {
      throw new InvalidArgument("actor", "at most 128 characters");
    }
    return actor;
  }

  private EntityRef<CampaignEntity.Command> campaign(String id) {
    return sharding.entityRefFor(CampaignEntity.ENTITY_KEY, id);
  }

  private EntityRef<AdvertiserEntity.Command> advertiser(String id) {
    return sharding.entityRefFor(AdvertiserEntity.ENTITY_KEY, id);
  }

  /** Runs the call, mapping synchronous and asynchronous failures through one convertError. */
  // ---- ML lifecycle ----

  @Override
  public CompletionStage<ListModelsResponse> listModels(ListModelsRequest in) {
    return guard(() -> {
      var registry = models.registry();
      var active = registry.active(ModelDeployer.ACTIVE_SCOPE);
      var shadow = registry.active(ModelDeployer.SHADOW_SCOPE);
      var history = registry.history(ModelDeployer.ACTIVE_SCOPE, 20);
      return registry.list().thenCompose(list -> active.thenCompose(a -> shadow.thenCompose(sh ->
          history.thenApply(h -> {
            String activeVersion = a.map(x -> x.version()).orElse(ranking.models().current().version());
            String shadowVersion = sh.map(x -> x.version()).filter(v -> !"-".equals(v)).orElse("");
            ListModelsResponse.Builder b = ListModelsResponse.newBuilder()
                .setActiveVersion(activeVersion)
                .setShadowVersion(shadowVersion);
            for (var v : list) {
              b.addModels(ModelViews.model(v, activeVersion, shadowVersion));
            }
            for (var x : h) {
              b.addHistory(ModelViews.activation(x));
            }
            return b.build();
          }))));
    });
  }

  @Override
  public CompletionStage<ModelView> getModel(GetModelRequest in) {
    return guard(() -> {
      Validation.key("version", in.getVersion());
      var registry = models.registry();
      var active = registry.active(ModelDeployer.ACTIVE_SCOPE);
      var shadow = registry.active(ModelDeployer.SHADOW_SCOPE);
      return registry.find(in.getVersion()).thenCompose(found -> active.thenCompose(a -> shadow.thenApply(sh ->
          ModelViews.model(found.orElseThrow(() -> new java.util.NoSuchElementException("no model version "
              + in.getVersion() + " in the registry")), a.map(x -> x.version()).orElse(""),
              sh.map(x -> x.version()).orElse("")))));
    });
  }

  @Override
  public CompletionStage<TrainModelResponse> trainModel(TrainModelRequest in) {
    return guard(() -> {
      String actor = actor(in.getActor());
      for (int i = 0; i < in.getExcludeFeaturesCount(); i++) {
        if (!dev.adengine.models.features.FeatureExtractor.NAMES.contains(in.getExcludeFeatures(i))) {
          throw new InvalidArgument("exclude_features[" + i + "]", "unknown feature " + in.getExcludeFeatures(i));
        }
      }
      if (in.getTrees() < 0 || in.getTrees() > 2_000) {
        throw new InvalidArgument("trees", "must be in [0, 2000] (0 = configured)");
      }
      long[] w = {in.getTrainFromMs(), in.getTrainToMs(), in.getHoldoutFromMs(), in.getHoldoutToMs()};
      boolean any = false;
      boolean all = true;
      for (long x : w) {
        if (x < 0) {
          throw new InvalidArgument("train_from_ms", "windows are epoch milliseconds >= 0");
        }
        any |= x != 0;
        all &= x != 0;
      }
      if (any && !all) {
        throw new InvalidArgument("train_from_ms", "give all four window bounds or none");
      }
      if (all && !(w[0] < w[1] && w[1] <= w[2] && w[2] < w[3])) {
        throw new InvalidArgument("holdout_from_ms", "need train_from < train_to <= holdout_from < holdout_to");
      }
      RetrainPipeline.Request request = new RetrainPipeline.Request(actor, "on demand", all ? w[0] : null,
          all ? w[1] : null, all ? w[2] : null, all ? w[3] : null, java.util.Set.copyOf(in.getExcludeFeaturesList()),
          in.getTrees() == 0 ? null : in.getTrees(), !in.getNoPromote());
      return models.train(request).thenApply(id -> TrainModelResponse.newBuilder().setRunId(id).build());
    });
  }

  @Override
  public CompletionStage<ActivationView> deployModel(DeployModelRequest in) {
    return guard(() -> {
      String actor = actor(in.getActor());
      Validation.key("version", in.getVersion());
      return models.deploy(actor, in.getVersion(), in.getReason()).thenApply(ModelViews::activation);
    });
  }

  @Override
  public CompletionStage<ActivationView> shadowModel(ShadowModelRequest in) {
    return guard(() -> {
      String actor = actor(in.getActor());
      if (!in.getVersion().isEmpty()) {
        Validation.key("version", in.getVersion());
      }
      return models.shadow(actor, in.getVersion(), in.getReason()).thenApply(ModelViews::activation);
    });
  }

  @Override
  public CompletionStage<ActivationView> rollbackModel(RollbackModelRequest in) {
    return guard(() -> {
      String actor = actor(in.getActor());
      return models.rollback(actor, in.getReason()).thenApply(ModelViews::activation);
    });
  }

  @Override
  public CompletionStage<PipelineRunsResponse> getPipelineRuns(GetPipelineRunsRequest in) {
    return guard(() -> {
      if (in.getLimit() < 0 || in.getLimit() > 1_000) {
        throw new InvalidArgument("limit", "must be in [0, 1000] (0 = 20)");
      }
      var runs = models.runs();
      if (!in.getRunId().isEmpty()) {
        return runs.run(RetrainPipeline.NAME, in.getRunId()).thenCompose(r -> {
          var run = r.orElseThrow(() -> new java.util.NoSuchElementException("no pipeline run " + in.getRunId()));
          return runs.steps(run.runId()).thenApply(steps -> PipelineRunsResponse.newBuilder()
              .addRuns(ModelViews.run(run, steps)).build());
        });
      }
      return runs.runs(RetrainPipeline.NAME, in.getLimit() == 0 ? 20 : in.getLimit()).thenApply(list -> {
        PipelineRunsResponse.Builder b = PipelineRunsResponse.newBuilder();
        list.forEach(r -> b.addRuns(ModelViews.run(r, java.util.List.of())));
        return b.build();
      });
    });
  }

  @Override
  public CompletionStage<ModelStatusView> getModelStatus(GetModelStatusRequest in) {
    return guard(() -> CompletableFuture.completedFuture(ModelViews.status(models.status())));
  }

  // ---- operations ----

  @Override
  public CompletionStage<ListCampaignsResponse> listCampaigns(ListCampaignsRequest in) {
    return guard(() -> {
      OpsViews.validate(in);
      return CompletableFuture.completedFuture(OpsViews.campaigns(catalog.current(), in));
    });
  }

  @Override
  public CompletionStage<ClusterShardsResponse> clusterShards(ClusterShardsRequest in) {
    return guard(() -> {
      var campaigns = shardStats(CampaignEntity.ENTITY_KEY);
      var advertisers = shardStats(AdvertiserEntity.ENTITY_KEY);
      return campaigns.thenCombine(advertisers, (c, a) -> ClusterShardsResponse.newBuilder()
          .addEntityTypes(OpsViews.shards(CampaignEntity.ENTITY_KEY.name(), c))
          .addEntityTypes(OpsViews.shards(AdvertiserEntity.ENTITY_KEY.name(), a)).build());
    });
  }

  private CompletionStage<org.apache.pekko.cluster.sharding.ShardRegion.ClusterShardingStats> shardStats(
      org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey<?> key) {
    // the regions answer within the given timeout (a region that does not is listed as failed);
    // the ask waits a little longer for that answer
    return AskPattern.ask(sharding.shardState(),
        replyTo -> new GetClusterShardingStats(key, timeout, replyTo), timeout.plusSeconds(1), system.scheduler());
  }

  @Override
  public CompletionStage<SloView> getSlo(GetSloRequest in) {
    return guard(() -> SloPublisher.entries(system, timeout).thenApply(entries ->
        OpsViews.slo(ops.slo(), SloReport.of(ops.slo(), entries, System.currentTimeMillis()))));
  }

  private static <T> CompletionStage<T> guard(Supplier<CompletionStage<T>> call) {
    try {
      return call.get().exceptionallyCompose(t -> CompletableFuture.failedFuture(GrpcErrors.convertError(t)));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(GrpcErrors.convertError(e));
    }
  }
}
