package dev.adengine.engine.grpc;

import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.engine.auction.BidHandler;
import dev.adengine.engine.auction.BidQuery;
import io.grpc.Status;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import org.apache.pekko.grpc.GrpcServiceException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Translates Bid calls to the bid path and back; nothing else. Answers from local memory.
 *
 * <p><b>Bids whose caller has given up are not served.</b> A bid that waited for a thread until
 * its caller's gRPC deadline ({@code grpc-timeout}) had passed, before the bid path could start
 * it, is answered {@code DEADLINE_EXCEEDED} at once, without ranking, budget or feature log: its
 * caller has stopped waiting, as a grpc-java server would tell its handler by cancelling the
 * call's context. When a node is overloaded, bids queue on the way to the bid path; served in
 * order, every one would finish after its caller gave up, and the node would answer nothing in
 * time however hard it worked. Dropping the abandoned ones costs microseconds each, so the node
 * drains its queue and serves the fresh bids. A bid that starts late but before its caller's
 * deadline is served, with what is left of its {@code tmax_ms} (the ranking deadline counts from
 * when it was received; when that has passed, ranking answers on its first stage alone). A call
 * without a deadline is always served: {@code tmax_ms} alone drops nothing, since a caller may
 * wait longer than the budget it asks the auction to keep.
 *
 * <p><b>A node without its catalog does not bid.</b> Until the node's catalog replica has been
 * loaded from Cassandra once, a valid bid is answered {@code UNAVAILABLE}
 * ({@link GrpcErrors#catalogNotLoaded}), so the caller tries another node, instead of an auction
 * run over whichever campaigns happened to reach the replica so far (none, just after a start).
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
  private final BooleanSupplier catalogLoaded;

  /**
   * {@code dropLate}: answer bids that could not start before their caller's deadline DEADLINE_EXCEEDED,
   * unserved; {@code catalogLoaded}: whether the node's catalog replica has been loaded (bids wait for it).
   */
  public AuctionServiceImpl(BidHandler bids, int maxTmaxMs, boolean dropLate, BooleanSupplier catalogLoaded) {
    this(new Handler() {
      @Override
      public CompletionStage<BidResponse> handle(BidQuery q, long receivedNanos) {
        return bids.handle(q, receivedNanos);
      }

      @Override
      public void countFailure() {
        bids.countFailure();
      }
    }, maxTmaxMs, dropLate, catalogLoaded);
  }

  AuctionServiceImpl(Handler handler, int maxTmaxMs, boolean dropLate, BooleanSupplier catalogLoaded) {
    this.handler = handler;
    this.maxTmaxMs = maxTmaxMs;
    this.dropLate = dropLate;
    this.catalogLoaded = catalogLoaded;
  }

  @Override
  public CompletionStage<BidResponse> bid(BidRequest in, long receivedNanos, long callerTimeoutNanos) {
    try {
      BidQuery q = Validation.bid(in, maxTmaxMs);
      long waitedNanos = System.nanoTime() - receivedNanos;
      if (dropLate && callerTimeoutNanos != NO_TIMEOUT && waitedNanos >= callerTimeoutNanos) {
        return CompletableFuture.failedFuture(new GrpcServiceException(Status.DEADLINE_EXCEEDED.withDescription(
            "the bid waited " + waitedNanos / 1_000_000 + " ms for the node to start it, past its caller's "
                + callerTimeoutNanos / 1_000_000 + " ms deadline")));
      }
      if (!catalogLoaded.getAsBoolean()) {
        return CompletableFuture.failedFuture(GrpcErrors.catalogNotLoaded());
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
