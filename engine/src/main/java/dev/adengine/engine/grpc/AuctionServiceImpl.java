package dev.adengine.engine.grpc;

import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.engine.auction.BidHandler;
import dev.adengine.engine.auction.BidQuery;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.grpc.GrpcServiceException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Translates Bid calls to the bid path and back; nothing else. Answers from local memory.
 *
 * <p><b>Late bids are not served.</b> A bid that waited for a thread for its whole {@code tmax_ms}
 * (capped at the engine's maximum) before it could start is answered {@code DEADLINE_EXCEEDED} at
 * once, without ranking, budget or feature log: its caller has stopped waiting. When a node is
 * overloaded, bids queue on the way to the bid path; served in order, every one would finish after
 * its caller gave up, and the node would answer nothing in time however hard it worked. Dropping
 * the stale ones costs microseconds each, so the node drains its queue and serves the fresh bids.
 * A bid that starts late but within its {@code tmax_ms} is served with what is left of it (the
 * ranking deadline counts from when it was received).
 */
public final class AuctionServiceImpl implements TimedAuctionService {
  private static final Logger log = LoggerFactory.getLogger(AuctionServiceImpl.class);

  /** The bid path as this service calls it: {@link BidHandler}, or a test's. */
  interface Handler {
    /** Serves {@code q}, received at {@code receivedNanos} ({@link System#nanoTime()}). */
    CompletionStage<BidResponse> handle(BidQuery q, long receivedNanos);

    /** Counts a bid that failed inside the bid path. */
    void countFailure();
  }

  private final Handler handler;
  private final int maxTmaxMs;
  private final boolean dropLate;

  /** {@code dropLate}: answer bids that could not start within their tmax DEADLINE_EXCEEDED, unserved. */
  public AuctionServiceImpl(BidHandler bids, int maxTmaxMs, boolean dropLate) {
    this(new Handler() {
      @Override
      public CompletionStage<BidResponse> handle(BidQuery q, long receivedNanos) {
        return bids.handle(q, receivedNanos);
      }

      @Override
      public void countFailure() {
        bids.countFailure();
      }
    }, maxTmaxMs, dropLate);
  }

  AuctionServiceImpl(Handler handler, int maxTmaxMs, boolean dropLate) {
    this.handler = handler;
    this.maxTmaxMs = maxTmaxMs;
    this.dropLate = dropLate;
  }

  @Override
  public CompletionStage<BidResponse> bid(BidRequest in, long receivedNanos) {
    try {
      BidQuery q = Validation.bid(in, maxTmaxMs);
      long waitedNanos = System.nanoTime() - receivedNanos;
      if (dropLate && waitedNanos >= q.tmaxMs() * 1_000_000L) {
        return CompletableFuture.failedFuture(new GrpcServiceException(Status.DEADLINE_EXCEEDED.withDescription(
            "the bid waited " + waitedNanos / 1_000_000 + " ms for the node to start it, tmax_ms is " + q.tmaxMs())));
      }
      return handler.handle(q, receivedNanos).exceptionally(e -> {
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
