package dev.adengine.engine.grpc;

import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import java.util.concurrent.CompletionStage;

/**
 * {@link AuctionService} told when each bid reached the server: {@link BidRoute} reads the clock as
 * the request comes off the connection, before the hop to the executor that runs the bid, so the
 * time a bid waits there counts against its {@code tmax_ms} (and its measured latency).
 */
public interface TimedAuctionService extends AuctionService {

  /** {@code receivedNanos}: {@link System#nanoTime()} when the request reached the server. */
  CompletionStage<BidResponse> bid(BidRequest in, long receivedNanos);

  /** A call without a receive time: received now. */
  @Override
  default CompletionStage<BidResponse> bid(BidRequest in) {
    return bid(in, System.nanoTime());
  }

  /** {@code service} itself when it takes receive times, else {@code service} ignoring them. */
  static TimedAuctionService of(AuctionService service) {
    return service instanceof TimedAuctionService timed ? timed : (in, receivedNanos) -> service.bid(in);
  }
}
