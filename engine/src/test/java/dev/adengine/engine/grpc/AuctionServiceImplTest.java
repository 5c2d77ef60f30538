package dev.adengine.engine.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.Device;
import dev.adengine.engine.auction.BidQuery;
import dev.adengine.engine.testing.EngineTestSupport;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The service in front of the bid path: a bid that could not start before its caller's gRPC
 * deadline is answered DEADLINE_EXCEEDED without reaching the bid path; others reach it with their
 * receive time, however long they waited (tmax_ms alone drops nothing); bad input is still named;
 * a node whose catalog replica is not loaded answers valid bids UNAVAILABLE.
 */
class AuctionServiceImplTest {
  private static final long MS = 1_000_000L;

  /** A bid path that answers every bid at once and remembers what it was given. */
  private static final class Recording implements AuctionServiceImpl.Handler {
    final List<BidQuery> queries = new CopyOnWriteArrayList<>();
    final List<Long> received = new CopyOnWriteArrayList<>();

    @Override
    public CompletionStage<BidResponse> handle(BidQuery q, long receivedNanos) {
      queries.add(q);
      received.add(receivedNanos);
      return CompletableFuture.completedFuture(BidResponse.newBuilder().setRequestId(q.requestId()).build());
    }

    @Override
    public void countFailure() {}
  }

  private static BidRequest bid(String id, int tmaxMs) {
    return EngineTestSupport.bid(id, "paris", Device.DESKTOP, 3).setTmaxMs(tmaxMs).build();
  }

  private static Status.Code code(CompletionStage<BidResponse> answer) throws Exception {
    try {
      answer.toCompletableFuture().get(5, TimeUnit.SECONDS);
      return Status.Code.OK;
    } catch (ExecutionException e) {
      return GrpcErrors.codeOf(e.getCause());
    }
  }

  @Test
  void shouldServeABidThatStartsBeforeItsCallersDeadlineWithTheTimeItWasReceived() throws Exception {
    Recording path = new Recording();
    AuctionServiceImpl service = new AuctionServiceImpl(path, 1_000, true, () -> true);
    long received = System.nanoTime() - 60 * MS;

    assertEquals(Status.Code.OK, code(service.bid(bid("in-time", 100), received, 5_000 * MS)));

    assertEquals(1, path.queries.size());
    assertEquals(received, path.received.get(0), "the receive time reaches the bid path");
  }

  @Test
  void shouldAnswerDeadlineExceededWithoutServingABidWhoseCallerGaveUp() throws Exception {
    Recording path = new Recording();
    AuctionServiceImpl service = new AuctionServiceImpl(path, 1_000, true, () -> true);

    // a bid received 150 ms ago whose caller waits 100 ms, and one received 1.2 s ago whose caller waits 1 s
    CompletionStage<BidResponse> late = service.bid(bid("late", 100), System.nanoTime() - 150 * MS, 100 * MS);
    CompletionStage<BidResponse> later = service.bid(bid("later", 5_000), System.nanoTime() - 1_200 * MS,
        1_000 * MS);

    assertEquals(Status.Code.DEADLINE_EXCEEDED, code(late));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, code(later));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> late.toCompletableFuture().get(5, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("past its caller's 100 ms deadline"), e.getCause().getMessage());
    assertEquals(List.of(), path.queries, "neither reached the bid path");
  }

  @Test
  void shouldServeABidThatWaitedPastItsTmaxWhileItsCallerStillWaits() throws Exception {
    // the simulator's case: tmax_ms 100 within a 5 s gRPC deadline, and a node that took 150 ms to start it
    assertServed(true, "slow", 150, 5_000 * MS);
  }

  @Test
  void shouldServeABidWithoutADeadlineHoweverLongItWaited() throws Exception {
    assertServed(true, "patient", 2_000, TimedAuctionService.NO_TIMEOUT);
  }

  @Test
  void shouldServeABidWhoseCallerGaveUpWhenDroppingLateBidsIsOff() throws Exception {
    assertServed(false, "late", 150, 100 * MS);
  }

  /** A bid of tmax_ms 100 received {@code waitedMs} ago with the caller's timeout reaches the bid path and is OK. */
  private static void assertServed(boolean dropLate, String id, long waitedMs, long callerTimeoutNanos)
      throws Exception {
    Recording path = new Recording();
    AuctionServiceImpl service = new AuctionServiceImpl(path, 1_000, dropLate, () -> true);

    assertEquals(Status.Code.OK, code(service.bid(bid(id, 100), System.nanoTime() - waitedMs * MS,
        callerTimeoutNanos)));

    assertEquals(1, path.queries.size(), id + " reached the bid path");
  }

  @Test
  void shouldNameTheInvalidFieldOfALateBid() throws Exception {
    Recording path = new Recording();
    AuctionServiceImpl service = new AuctionServiceImpl(path, 1_000, true, () -> true);

    CompletionStage<BidResponse> answer = service.bid(bid("", 100), System.nanoTime() - 500 * MS, 100 * MS);

    assertEquals(Status.Code.INVALID_ARGUMENT, code(answer));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> answer.toCompletableFuture().get(5, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("request_id"), e.getCause().getMessage());
    assertEquals(List.of(), path.queries);
  }

  @Test
  void shouldAnswerUnavailableUntilTheCatalogIsLoadedAndStillNameAnInvalidField() throws Exception {
    Recording path = new Recording();
    AtomicBoolean loaded = new AtomicBoolean(false);
    AuctionServiceImpl service = new AuctionServiceImpl(path, 1_000, true, loaded::get);

    CompletionStage<BidResponse> early = service.bid(bid("early", 100), System.nanoTime(), 5_000 * MS);
    CompletionStage<BidResponse> invalid = service.bid(bid("", 100), System.nanoTime(), 5_000 * MS);

    assertEquals(Status.Code.UNAVAILABLE, code(early));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> early.toCompletableFuture().get(5, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("catalog replica is not loaded"), e.getCause().getMessage());
    assertEquals(Status.Code.INVALID_ARGUMENT, code(invalid), "bad input is named while the node starts too");
    assertEquals(List.of(), path.queries, "nothing reached the bid path before the catalog");

    loaded.set(true);
    assertEquals(Status.Code.OK, code(service.bid(bid("after", 100), System.nanoTime(), 5_000 * MS)));
    assertEquals(1, path.queries.size());
  }
}
