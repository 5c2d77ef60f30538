package dev.adengine.engine.grpc;

import static dev.adengine.engine.testing.EngineTestSupport.await;
import static dev.adengine.engine.testing.EngineTestSupport.clientSettings;
import static dev.adengine.engine.testing.EngineTestSupport.clientSystem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.AuctionServiceClient;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.javadsl.ServiceHandler;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.Test;

/**
 * {@link BidRoute} over a real Pekko gRPC server and client: {@code Bid} answers and errors as the
 * generated handler would, on the thread the configured mode says (the common pool, or the
 * connection's stream actor on a Pekko dispatcher thread).
 */
class BidRouteTest {

  @Test
  void shouldRunBidOnTheCommonPoolWhenSoConfigured() throws Exception {
    for (String thread : threadsOfBids(BidRoute.Mode.COMMON_POOL)) {
      assertTrue(thread.startsWith("ForkJoinPool.commonPool-worker"), thread);
    }
  }

  @Test
  void shouldRunBidOnTheStreamActorsDispatcherWhenCallingThread() throws Exception {
    for (String thread : threadsOfBids(BidRoute.Mode.CALLING_THREAD)) {
      assertFalse(thread.startsWith("ForkJoinPool.commonPool"), thread);
      assertTrue(thread.contains("pekko.actor.default-dispatcher"), thread);
    }
  }

  @Test
  void shouldReadTheModeFromConfig() {
    assertEquals(BidRoute.Mode.CALLING_THREAD,
        BidRoute.mode(ConfigFactory.parseString("adengine.grpc.bid-executor = calling-thread")));
    assertEquals(BidRoute.Mode.COMMON_POOL,
        BidRoute.mode(ConfigFactory.parseString("adengine.grpc.bid-executor = common-pool")));
    assertThrows(IllegalArgumentException.class,
        () -> BidRoute.mode(ConfigFactory.parseString("adengine.grpc.bid-executor = somewhere")));
  }

  /** Serves ten bids (and one failing with INVALID_ARGUMENT) and returns the threads that ran them. */
  private static ConcurrentLinkedQueue<String> threadsOfBids(BidRoute.Mode mode) throws Exception {
    ConcurrentLinkedQueue<String> threads = new ConcurrentLinkedQueue<>();
    AuctionService service = new AuctionService() {
      @Override
      public CompletionStage<BidResponse> bid(BidRequest in) {
        threads.add(Thread.currentThread().getName());
        if (in.getRequestId().equals("bad")) {
          throw new GrpcServiceException(Status.INVALID_ARGUMENT.withDescription("request_id: bad"));
        }
        return CompletableFuture.completedFuture(BidResponse.newBuilder().setRequestId(in.getRequestId()).build());
      }
    };
    ActorSystem<Void> server = ActorSystem.create(Behaviors.empty(), "bid-route-" + mode.name().toLowerCase(),
        ConfigFactory.parseString("pekko.http.server.enable-http2 = on\npekko.http.server.preview.enable-http2 = on")
            .withFallback(ConfigFactory.defaultReference()));
    ActorSystem<Void> client = clientSystem("bid-route-client");
    try {
      @SuppressWarnings("unchecked")
      ServerBinding binding = Http.get(server).newServerAt("127.0.0.1", 0)
          .bind(ServiceHandler.concatOrNotFound(BidRoute.partial(service, mode, server)))
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      AuctionServiceClient auction = AuctionServiceClient.create(
          clientSettings(client, binding.localAddress().getPort()), client);
      for (int i = 0; i < 10; i++) {
        assertEquals("r" + i, await(auction.bid(BidRequest.newBuilder().setRequestId("r" + i).build())).getRequestId());
      }
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> await(auction.bid(BidRequest.newBuilder().setRequestId("bad").build())));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      assertEquals("request_id: bad", e.getStatus().getDescription());
      await(auction.close());
      assertEquals(11, threads.size());
      return threads;
    } finally {
      client.terminate();
      server.terminate();
      server.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
