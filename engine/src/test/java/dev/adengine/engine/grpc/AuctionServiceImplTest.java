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
import org.junit.jupiter.api.Test;

/**
 * The service in front of the bid path: a bid that could not start within its {@code tmax_ms} of
 * being received is answered DEADLINE_EXCEEDED without reaching the bid path; others reach it
 * with their receive time; bad input is still named.
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
  void shouldServeABidThatStartsWithinItsTmaxWithTheTimeItWasReceived() throws Exception {
    Recording path = new Recording();
    AuctionServiceImpl service = new AuctionServiceImpl(path, 1_000, true);
    long received = System.nanoTime() - 60 * MS;

    assertEquals(Status.Code.OK, code(service.bid(bid("in-time", 100), received)));

    assertEquals(1, path.queries.size());
    assertEquals(received, path.received.get(0), "the receive time reaches the bid path");
  }

  @Test
  void shouldAnswerDeadlineExceededWithoutServingABidThatWaitedItsWholeTmax() throws Exception {
    Recording path = new Recording();
    AuctionServiceImpl service = new AuctionServiceImpl(path, 1_000, true);

    // a bid of tmax 100 ms received 150 ms ago, and one of tmax 5 s (capped at the engine's 1 s) received 1.2 s ago
    CompletionStage<BidResponse> late = service.bid(bid("late", 100), System.nanoTime() - 150 * MS);
    CompletionStage<BidResponse> capped = service.bid(bid("capped", 5_000), System.nanoTime() - 1_200 * MS);

    assertEquals(Status.Code.DEADLINE_EXCEEDED, code(late));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, code(capped));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> late.toCompletableFuture().get(5, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("tmax_ms is 100"), e.getCause().getMessage());
    assertEquals(List.of(), path.queries, "neither reached the bid path");
  }

  @Test
  void shouldServeALateBidWhenDroppingLateBidsIsOff() throws Exception {
    Recording path = new Recording();
    AuctionServiceImpl service = new AuctionServiceImpl(path, 1_000, false);

    assertEquals(Status.Code.OK, code(service.bid(bid("late", 100), System.nanoTime() - 150 * MS)));

    assertEquals(1, path.queries.size());
  }

  @Test
  void shouldNameTheInvalidFieldOfALateBid() throws Exception {
    Recording path = new Recording();
    AuctionServiceImpl service = new AuctionServiceImpl(path, 1_000, true);

    CompletionStage<BidResponse> answer = service.bid(bid("", 100), System.nanoTime() - 500 * MS);

    assertEquals(Status.Code.INVALID_ARGUMENT, code(answer));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> answer.toCompletableFuture().get(5, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("request_id"), e.getCause().getMessage());
    assertEquals(List.of(), path.queries);
  }
}
