package dev.adengine.chaos.reference;

import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.Winner;

/**
 * The answer both reference servers give every {@code Bid}: three winners held in memory, about
 * the size of a real answer (~180 bytes on the wire), with the request id echoed. What a reference
 * costs per request is then the gRPC transport alone, the figure the engine is compared with.
 */
public final class ReferenceResponse {
  private static final BidResponse TEMPLATE = template();

  private ReferenceResponse() {}

  public static BidResponse forRequest(String requestId) {
    return TEMPLATE.toBuilder().setRequestId(requestId).build();
  }

  private static BidResponse template() {
    BidResponse.Builder b = BidResponse.newBuilder()
        .setExperimentId("default").setArm("control").setModelVersion("reference").setCandidates(200);
    for (int i = 1; i <= 3; i++) {
      b.addWinners(Winner.newBuilder()
          .setPosition(i)
          .setAdId("ad-00000" + i)
          .setCampaignId("campaign-0000" + i)
          .setAdvertiserId("advertiser-0" + i)
          .setPriceMicros(250_000L * i)
          .setPctr(0.0123 * i)
          .setScore(3_075.0 * i)
          .setPricing(Pricing.CPC)
          .setTitle("Reference Hotel " + i));
    }
    return b.build();
  }
}
