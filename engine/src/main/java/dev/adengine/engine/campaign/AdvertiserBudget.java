package dev.adengine.engine.campaign;

import java.util.concurrent.CompletionStage;

/**
 * How a campaign asks its advertiser for more of the advertiser's daily cap. In a node this is an
 * ask to the sharded {@link AdvertiserEntity}; never on the bid path.
 */
public interface AdvertiserBudget {
  /**
   * Asks for {@code wantMicros} more for {@code campaignId}; {@code seq} increases with every ask
   * of that campaign, so a retried ask grants nothing twice. Completes with the campaign's total
   * for the advertiser's day.
   */
  CompletionStage<AdvertiserEntity.CampaignAllowance> request(String advertiserId, String campaignId, long seq,
      long wantMicros);

  /**
   * Gives {@code amountMicros} of the campaign's share of the cap back to the advertiser, for
   * {@code day}. The campaign has already taken it off its own books; if this is lost, the cap is
   * only under-used.
   */
  default CompletionStage<AdvertiserEntity.CampaignAllowance> giveBack(String advertiserId, String campaignId,
      String day, long seq, long amountMicros) {
    return java.util.concurrent.CompletableFuture.failedFuture(
        new UnsupportedOperationException("this advertiser budget takes nothing back"));
  }

  /** False only where no advertiser cap applies (campaign-level unit tests); nodes are always capped. */
  default boolean capped() {
    return true;
  }

  AdvertiserBudget UNCAPPED = new AdvertiserBudget() {
    @Override
    public CompletionStage<AdvertiserEntity.CampaignAllowance> request(String advertiserId, String campaignId,
        long seq, long wantMicros) {
      throw new UnsupportedOperationException("uncapped: nothing to ask");
    }

    @Override
    public boolean capped() {
      return false;
    }
  };
}
