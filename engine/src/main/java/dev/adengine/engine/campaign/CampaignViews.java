package dev.adengine.engine.campaign;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.CampaignStatus;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.NodeAllowance;
import java.util.Map;
import java.util.TreeMap;

/** Builds API views of a campaign from the entity's state and summaries. */
public final class CampaignViews {
  private CampaignViews() {}

  /** The catalog record of a campaign: its definition, status and revision, as protobuf bytes. */
  static byte[] catalogPayload(CampaignEntity.State state) {
    return CampaignView.newBuilder()
        .setCampaign(parse(state.campaign()))
        .setStatus(state.paused() ? CampaignStatus.PAUSED : CampaignStatus.ACTIVE)
        .setRevision(state.revision())
        .build()
        .toByteArray();
  }

  public static CampaignView toView(CampaignEntity.Summary s) {
    CampaignView.Builder b = CampaignView.newBuilder()
        .setCampaign(parse(s.campaign()))
        .setStatus(s.paused() ? CampaignStatus.PAUSED : CampaignStatus.ACTIVE)
        .setRevision(s.revision())
        .setSpentMicros(s.spentMicros())
        .setReservedMicros(s.reservedMicros())
        .setRemainingMicros(s.remainingMicros())
        .setBudgetDay(s.day());
    long imps = 0;
    long clicks = 0;
    for (Map.Entry<String, CampaignEntity.NodeGrant> e : new TreeMap<>(s.nodes()).entrySet()) {
      CampaignEntity.NodeGrant g = e.getValue();
      imps += g.impressions();
      clicks += g.clicks();
      b.addAllowances(NodeAllowance.newBuilder()
          .setNode(e.getKey())
          .setAllowanceMicros(g.allowanceMicros())
          .setSpentMicros(g.spentMicros())
          .setReservedMicros(g.reservedMicros()));
    }
    return b.setImpressions(imps).setClicks(clicks).build();
  }

  static Campaign parse(byte[] bytes) {
    try {
      return Campaign.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored campaign is unreadable", e);
    }
  }
}
