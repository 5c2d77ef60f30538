package dev.adengine.engine.grpc;

import dev.adengine.api.v1.CreateExperimentRequest;
import dev.adengine.api.v1.ExperimentConfigView;
import dev.adengine.api.v1.ExperimentReportRequest;
import dev.adengine.api.v1.ExperimentReportView;
import dev.adengine.api.v1.GetExperimentConfigRequest;
import dev.adengine.api.v1.RampExperimentRequest;
import dev.adengine.api.v1.StartExperimentRequest;
import dev.adengine.api.v1.StopExperimentRequest;
import dev.adengine.engine.experiment.ExperimentAdmin;
import dev.adengine.engine.experiment.ServingExperiments;
import dev.adengine.experiments.ArmDef;
import dev.adengine.experiments.ExperimentConfig;
import dev.adengine.experiments.Layer;
import dev.adengine.experiments.stats.ExperimentReport;
import dev.adengine.persistence.ExperimentRepository.Change;
import java.util.ArrayList;
import java.util.List;

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

  public AdminServiceImpl(ActorSystem<?> system, Catalog catalog, FeatureStore features, RankingPool ranking,
      Duration staleAfter, Duration timeout, Supplier<Boolean> ready, IntSupplier openReservations,
      ExperimentAdmin experiments, ServingExperiments serving) {
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
                r -> new CampaignEntity.Upsert(c.toByteArray(), c.getAdvertiserId(), c.getDailyBudgetMicros(), zone, r),
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
          .setReady(ready.get());
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
  private static <T> CompletionStage<T> guard(Supplier<CompletionStage<T>> call) {
    try {
      return call.get().exceptionallyCompose(t -> CompletableFuture.failedFuture(GrpcErrors.convertError(t)));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(GrpcErrors.convertError(e));
    }
  }
}
