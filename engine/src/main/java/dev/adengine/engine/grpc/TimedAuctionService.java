package dev.adengine.engine.grpc;

import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import java.util.concurrent.CompletionStage;

/**
 * {@link AuctionService} told when each bid reached the server and how long its caller waits for
 * it: {@link BidRoute} reads the clock as the request comes off the connection, before the hop to
 * the executor that runs the bid, so the time a bid waits there counts against its {@code tmax_ms}
 * (and its measured latency), and it reads the caller's gRPC deadline ({@code grpc-timeout}).
 */
public interface TimedAuctionService extends AuctionService {

  /** {@code callerTimeoutNanos} of a call whose caller set no deadline. */
  long NO_TIMEOUT = -1;

  /**
   * {@code receivedNanos}: {@link System#nanoTime()} when the request reached the server;
   * {@code callerTimeoutNanos}: how long from then its caller waits for the answer (its gRPC
   * deadline), or {@link #NO_TIMEOUT}.
   */
  CompletionStage<BidResponse> bid(BidRequest in, long receivedNanos, long callerTimeoutNanos);

  /** A call without a receive time or a deadline: received now, its caller waits. */
  @Override
  default CompletionStage<BidResponse> bid(BidRequest in) {
    return bid(in, System.nanoTime(), NO_TIMEOUT);
  }

  /** {@code service} itself when it takes receive times, else {@code service} ignoring them. */
  static TimedAuctionService of(AuctionService service) {
    return service instanceof TimedAuctionService timed ? timed : (in, receivedNanos, timeoutNanos) -> service.bid(in);
  }
}
