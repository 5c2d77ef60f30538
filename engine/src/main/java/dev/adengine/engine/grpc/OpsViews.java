package dev.adengine.engine.grpc;

import dev.adengine.api.v1.CampaignStatus;
import dev.adengine.api.v1.CampaignSummary;
import dev.adengine.api.v1.EntityTypeShardsView;
import dev.adengine.api.v1.ListCampaignsRequest;
import dev.adengine.api.v1.ListCampaignsResponse;
import dev.adengine.api.v1.RegionShardsView;
import dev.adengine.api.v1.SliView;
import dev.adengine.api.v1.SloAlertView;
import dev.adengine.api.v1.SloView;
import dev.adengine.api.v1.SloWindowView;
import dev.adengine.engine.catalog.AdvertiserEntry;
import dev.adengine.engine.catalog.CampaignEntry;
import dev.adengine.engine.catalog.CatalogSnapshot;
import dev.adengine.engine.slo.SloReport;
import dev.adengine.engine.slo.SloSettings;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.sharding.ShardRegion;

/** Proto views of the operations calls (issue 9): the replica's campaigns, shard counts, the SLO report. */
final class OpsViews {
  static final int DEFAULT_LIMIT = 100;
  static final int MAX_LIMIT = 1_000;

  private OpsViews() {}

  /** Validates the request's filters and limit; INVALID_ARGUMENT names the field. */
  static void validate(ListCampaignsRequest in) {
    if (!in.getAdvertiserId().isEmpty()) {
      Validation.key("advertiser_id", in.getAdvertiserId());
    }
    if (in.getStatus() == CampaignStatus.UNRECOGNIZED) {
      throw new InvalidArgument("status", "unknown status " + in.getStatusValue());
    }
    if (in.getLimit() < 0 || in.getLimit() > MAX_LIMIT) {
      throw new InvalidArgument("limit", "must be in [0, " + MAX_LIMIT + "] (0 = " + DEFAULT_LIMIT + "), got "
          + in.getLimit());
    }
  }

  static ListCampaignsResponse campaigns(CatalogSnapshot snapshot, ListCampaignsRequest in) {
    int limit = in.getLimit() == 0 ? DEFAULT_LIMIT : in.getLimit();
    List<CampaignEntry> matching = new ArrayList<>();
    for (CampaignEntry e : snapshot.campaigns().values()) {
      if (!in.getAdvertiserId().isEmpty() && !in.getAdvertiserId().equals(e.def().advertiserId())) {
        continue;
      }
      CampaignStatus status = e.paused() ? CampaignStatus.PAUSED : CampaignStatus.ACTIVE;
      if (in.getStatus() != CampaignStatus.CAMPAIGN_STATUS_UNSPECIFIED && in.getStatus() != status) {
        continue;
      }
      matching.add(e);
    }
    matching.sort(Comparator.comparing(e -> e.def().campaignId()));
    ListCampaignsResponse.Builder b = ListCampaignsResponse.newBuilder().setMatched(matching.size());
    for (CampaignEntry e : matching.subList(0, Math.min(limit, matching.size()))) {
      AdvertiserEntry adv = snapshot.advertiser(e.def().advertiserId());
      b.addCampaigns(CampaignSummary.newBuilder()
          .setCampaignId(e.def().campaignId())
          .setAdvertiserId(e.def().advertiserId())
          .setName(e.def().name() == null ? "" : e.def().name())
          .setStatus(e.paused() ? CampaignStatus.PAUSED : CampaignStatus.ACTIVE)
          .setAdvertiserPaused(adv != null && adv.paused())
          .setPricing(e.def().pricing())
          .setBidMicros(e.def().bidMicros())
          .setDailyBudgetMicros(e.def().dailyBudgetMicros())
          .setAds(e.def().ads().size())
          .setRevision(e.revision()));
    }
    return b.build();
  }

  static EntityTypeShardsView shards(String entityType, ShardRegion.ClusterShardingStats stats) {
    EntityTypeShardsView.Builder b = EntityTypeShardsView.newBuilder().setEntityType(entityType);
    Map<String, ShardRegion.ShardRegionStats> byAddress = new TreeMap<>();
    for (Map.Entry<Address, ShardRegion.ShardRegionStats> e : stats.getRegions().entrySet()) {
      byAddress.put(e.getKey().toString(), e.getValue());
    }
    for (Map.Entry<String, ShardRegion.ShardRegionStats> e : byAddress.entrySet()) {
      long entities = 0;
      for (Object count : e.getValue().getStats().values()) {
        entities += ((Number) count).longValue();
      }
      b.addRegions(RegionShardsView.newBuilder().setAddress(e.getKey())
          .setShards(e.getValue().getStats().size()).setEntities(entities));
      if (!e.getValue().getFailed().isEmpty()) {
        b.addFailed(e.getKey() + " (" + e.getValue().getFailed().size() + " shards did not answer)");
      }
    }
    return b.build();
  }

  static SloView slo(SloSettings settings, SloReport r) {
    SloView.Builder b = SloView.newBuilder().setAtMs(r.atMillis()).setPeriod(SloSettings.label(settings.period()))
        .addAllNodes(r.nodes()).addAllStaleNodes(r.staleNodes());
    for (SloReport.Sli s : r.slis()) {
      SliView.Builder sli = SliView.newBuilder().setName(s.name()).setObjective(s.objective());
      if (s.name().equals(SloReport.LATENCY)) {
        sli.setLatencyThresholdMs(settings.latencyThreshold().toMillis());
      }
      for (SloReport.Window w : s.windows()) {
        sli.addWindows(SloWindowView.newBuilder().setWindow(SloSettings.label(w.window()))
            .setWindowMs(w.window().toMillis()).setTotal(w.total()).setBad(w.bad()).setErrorRatio(w.errorRatio())
            .setBurnRate(w.burnRate()).setCoverage(w.coverage()).setExcluded(w.excluded()));
      }
      b.addSlis(sli);
    }
    for (SloReport.AlertState a : r.alerts()) {
      b.addAlerts(SloAlertView.newBuilder().setSli(a.sli()).setSeverity(a.alert().severity())
          .setBurnRateThreshold(a.alert().burnRate()).setLongWindow(SloSettings.label(a.alert().longWindow()))
          .setShortWindow(SloSettings.label(a.alert().shortWindow())).setLongBurnRate(a.longBurnRate())
          .setShortBurnRate(a.shortBurnRate()).setFiring(a.firing()));
    }
    return b.build();
  }
}
