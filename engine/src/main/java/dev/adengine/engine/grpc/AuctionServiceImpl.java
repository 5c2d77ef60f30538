package dev.adengine.engine.grpc;

import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.engine.auction.BidHandler;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Translates Bid calls to the bid path and back; nothing else. Answers from local memory. */
public final class AuctionServiceImpl implements AuctionService {
  private static final Logger log = LoggerFactory.getLogger(AuctionServiceImpl.class);
  private final BidHandler handler;
  private final int maxTmaxMs;

  public AuctionServiceImpl(BidHandler handler, int maxTmaxMs) {
    this.handler = handler;
    this.maxTmaxMs = maxTmaxMs;
  }

  @Override
  public CompletionStage<BidResponse> bid(BidRequest in) {
    try {
      return handler.handle(Validation.bid(in, maxTmaxMs)).exceptionally(e -> {
        handler.countFailure();
        log.error("Bid failed", e);
        throw GrpcErrors.convertError(e);
      });
    } catch (InvalidArgument e) {
      return CompletableFuture.failedFuture(GrpcErrors.convertError(e));
    } catch (RuntimeException e) {
      handler.countFailure();
      log.error("Bid failed", e);
      return CompletableFuture.failedFuture(GrpcErrors.convertError(e));
    }
  }
}
