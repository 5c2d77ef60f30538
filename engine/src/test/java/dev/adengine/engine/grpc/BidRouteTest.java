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
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.javadsl.ServiceHandler;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/**
 * {@link BidRoute} over a real Pekko gRPC server and client: {@code Bid} answers and errors as the
 * generated handler would, on the thread the configured mode says (the engine's bid pool, the common
 * pool, or the connection's stream actor on a Pekko dispatcher thread).
 */
class BidRouteTest {
  private static final ContentType GRPC = ContentTypes.parse("application/grpc+proto");

  @Test
  void shouldRunBidOnTheBidPoolByDefault() throws Exception {
    assertEquals(BidRoute.Mode.BID_POOL, BidRoute.mode(ConfigFactory.load()));
    for (String thread : threadsOfBids(BidRoute.Mode.BID_POOL)) {
      assertTrue(thread.startsWith("adengine-bid-"), thread);
    }
  }

  @Test
  void shouldKeepEachThreadsLocalsAcrossBidsOnTheBidPoolUnlikeTheCommonPool() {
    // The reason for the bid pool: the bid path keeps per-thread buffers (RankingPool, CtrModel).
    int cores = Runtime.getRuntime().availableProcessors();
    assertTrue(initialValues(BidRoute.Mode.BID_POOL, 500) <= cores, "a bid-pool thread lost its thread locals");
    // On JDK 17 a common-pool worker erases its thread locals after each task it takes.
    int common = initialValues(BidRoute.Mode.COMMON_POOL, 500);
    assertTrue(common > cores, "common pool kept its thread locals (" + common + " initial values)");
  }

  /** How often a thread local got its initial value over {@code tasks} tasks run one after another. */
  private static int initialValues(BidRoute.Mode mode, int tasks) {
    java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
    ThreadLocal<int[]> local = ThreadLocal.withInitial(() -> {
      made.incrementAndGet();
      return new int[1];
    });
    for (int i = 0; i < tasks; i++) {
      CompletableFuture.runAsync(() -> local.get()[0]++, mode.executor()).join();
    }
    return made.get();
  }

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
    assertEquals(BidRoute.Mode.BID_POOL,
        BidRoute.mode(ConfigFactory.parseString("adengine.grpc.bid-executor = bid-pool")));
    assertThrows(IllegalArgumentException.class,
        () -> BidRoute.mode(ConfigFactory.parseString("adengine.grpc.bid-executor = somewhere")));
  }

  @Test
  void shouldDecodeAStrictEntityWithoutRunningAStream() throws Exception {
    // given the route with a materializer that is shut down, so that any stream run for a request fails
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bid-route-strict",
        ConfigFactory.defaultReference());
    try {
      Materializer stopped = Materializer.createMaterializer(system);
      stopped.shutdown();
      AuctionService echo = in -> CompletableFuture.completedFuture(
          BidResponse.newBuilder().setRequestId(in.getRequestId()).build());
      var route = BidRoute.partial(echo, BidRoute.Mode.CALLING_THREAD, system, stopped);
      ByteString request = frame(BidRequest.newBuilder().setRequestId("strict-1").build().toByteArray());

      // when a bid request in one strict gRPC frame is handled
      HttpResponse response = route.apply(grpcRequest(request)).toCompletableFuture().get(10, TimeUnit.SECONDS);

      // then it is answered: no stream ran for it
      assertEquals(200, response.status().intValue());
      ByteString body = ((HttpEntity.Strict) response.entity()).getData();
      assertEquals("strict-1", BidResponse.parseFrom(body.drop(5).toArray()).getRequestId());

      // while the same request as a streamed entity needs the materializer (what the test relies on)
      CompletableFuture<HttpResponse> streamed = route.apply(HttpRequest.POST("/" + AuctionService.name + "/Bid")
          .withEntity(HttpEntities.create(GRPC, Source.single(request)))).toCompletableFuture();
      assertThrows(ExecutionException.class, () -> streamed.get(10, TimeUnit.SECONDS));

      // and a frame that promises more bytes than it has is answered INVALID_ARGUMENT
      HttpResponse truncated = route.apply(grpcRequest(frame(new byte[] {1, 2, 3}).take(6)))
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(200, truncated.status().intValue(), "gRPC errors travel in the grpc-status header");
      assertEquals(Integer.toString(Status.Code.INVALID_ARGUMENT.value()), grpcStatus(truncated));

      // and a whole frame that is no BidRequest is answered with an error status, not a failed call
      HttpResponse garbage = route.apply(grpcRequest(frame(new byte[] {(byte) 0xff, (byte) 0xff})))
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(200, garbage.status().intValue());
      String code = grpcStatus(garbage);
      assertTrue(!code.equals("none") && !code.equals("0"), "grpc-status " + code);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldTellTheServiceWhenTheBidWasReceivedBeforeItWaitedForTheExecutor() throws Exception {
    // given the route with an executor that starts each bid 300 ms after it is handed over (a
    // saturated pool), and a service that notes how long before it ran each bid was received
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bid-route-received",
        ConfigFactory.defaultReference());
    try {
      ConcurrentLinkedQueue<Long> waitedMillis = new ConcurrentLinkedQueue<>();
      TimedAuctionService timed = (in, receivedNanos, callerTimeoutNanos) -> {
        waitedMillis.add((System.nanoTime() - receivedNanos) / 1_000_000);
        return CompletableFuture.completedFuture(BidResponse.newBuilder().setRequestId(in.getRequestId()).build());
      };
      var route = BidRoute.partial(timed, CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS), system,
          Materializer.createMaterializer(system));

      // when a bid is handled
      HttpResponse response = route.apply(grpcRequest(frame(BidRequest.newBuilder().setRequestId("late-1").build()
          .toByteArray()))).toCompletableFuture().get(10, TimeUnit.SECONDS);

      // then the service saw the time it was received, before the wait
      assertEquals(200, response.status().intValue());
      ByteString body = ((HttpEntity.Strict) response.entity()).getData();
      assertEquals("late-1", BidResponse.parseFrom(body.drop(5).toArray()).getRequestId());
      assertEquals(1, waitedMillis.size());
      assertTrue(waitedMillis.peek() >= 300, "waited " + waitedMillis.peek() + " ms");
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldTellTheServiceItsCallersDeadline() throws Exception {
    // given a real server whose service notes each bid's caller timeout, and the project's client
    ConcurrentLinkedQueue<Long> timeouts = new ConcurrentLinkedQueue<>();
    TimedAuctionService timed = (in, receivedNanos, callerTimeoutNanos) -> {
      timeouts.add(callerTimeoutNanos);
      return CompletableFuture.completedFuture(BidResponse.newBuilder().setRequestId(in.getRequestId()).build());
    };
    ActorSystem<Void> server = ActorSystem.create(Behaviors.empty(), "bid-route-deadline",
        ConfigFactory.parseString("pekko.http.server.enable-http2 = on\npekko.http.server.preview.enable-http2 = on")
            .withFallback(ConfigFactory.defaultReference()));
    ActorSystem<Void> client = clientSystem("bid-route-deadline-client");
    try {
      var route = BidRoute.partial(timed, BidRoute.Mode.COMMON_POOL, server);
      @SuppressWarnings("unchecked")
      ServerBinding binding = Http.get(server).newServerAt("127.0.0.1", 0)
          .bind(ServiceHandler.concatOrNotFound(route)).toCompletableFuture().get(30, TimeUnit.SECONDS);
      int port = binding.localAddress().getPort();
      AuctionServiceClient withDeadline = AuctionServiceClient.create(
          clientSettings(client, port).withDeadline(Duration.ofSeconds(3)), client);
      AuctionServiceClient without = AuctionServiceClient.create(clientSettings(client, port), client);

      // when one bid is sent with a 3 s deadline and one without
      assertEquals("d", await(withDeadline.bid(BidRequest.newBuilder().setRequestId("d").build())).getRequestId());
      assertEquals("n", await(without.bid(BidRequest.newBuilder().setRequestId("n").build())).getRequestId());

      // then the service was told what was left of the first's 3 s, and no timeout for the second
      Long first = timeouts.poll();
      assertTrue(first > 0 && first <= TimeUnit.SECONDS.toNanos(3), "timeout " + first);
      assertEquals(TimedAuctionService.NO_TIMEOUT, timeouts.poll());
      await(withDeadline.close());
      await(without.close());
    } finally {
      client.terminate();
      server.terminate();
      server.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldParseGrpcTimeoutsInEveryUnitAndIgnoreMalformedOnes() {
    assertEquals(TimeUnit.HOURS.toNanos(2), BidRoute.parseTimeoutNanos("2H"));
    assertEquals(TimeUnit.MINUTES.toNanos(3), BidRoute.parseTimeoutNanos("3M"));
    assertEquals(TimeUnit.SECONDS.toNanos(5), BidRoute.parseTimeoutNanos("5S"));
    assertEquals(TimeUnit.MILLISECONDS.toNanos(99_999_999), BidRoute.parseTimeoutNanos("99999999m"));
    assertEquals(TimeUnit.MICROSECONDS.toNanos(250), BidRoute.parseTimeoutNanos("250u"));
    assertEquals(7, BidRoute.parseTimeoutNanos("7n"));
    assertEquals(0, BidRoute.parseTimeoutNanos("0m"));
    for (String bad : new String[] {"", "m", "100", "100x", "-5m", "1.5S", "123456789m", " 5S"}) {
      assertEquals(TimedAuctionService.NO_TIMEOUT, BidRoute.parseTimeoutNanos(bad), "'" + bad + "'");
    }
  }

  @Test
  void shouldReceiveTheClientsBidsAsStrictEntitiesWithTheServersSettings() throws Exception {
    // given a server with grpc.conf's min-collect-strict-entity-size, when the project's client sends
    // bids, one of them invalid (every one answered, the invalid one with its status: checked by serve)
    Served served = serve(BidRoute.Mode.COMMON_POOL, "pekko.http.server.http2.min-collect-strict-entity-size = 1");

    // then bids came as strict entities (so the in-place decoding is a path bids take; an entity
    // whose bytes came in more than one DATA frame is streamed)
    assertEquals(11, served.strict().size());
    assertTrue(served.strict().stream().filter(s -> s).count() >= 1, "strict entities: " + served.strict());
  }

  /** A unary gRPC call's request as Pekko HTTP/2 hands it over when its body came in one frame. */
  private static HttpRequest grpcRequest(ByteString body) {
    return HttpRequest.POST("/" + AuctionService.name + "/Bid")
        .withEntity(HttpEntities.create(GRPC, body));
  }

  /** One uncompressed gRPC message frame: flag 0, big-endian length, the message. */
  private static ByteString frame(byte[] message) {
    return ByteString.fromArray(ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length)
        .put(message).array());
  }

  /** A failed call's status: a trailers-only response carries it in its headers. */
  private static String grpcStatus(HttpResponse response) {
    return response.getHeader("grpc-status").map(HttpHeader::value).orElse("none");
  }

  /** Serves ten bids (and one failing with INVALID_ARGUMENT) and returns the threads that ran them. */
  private static ConcurrentLinkedQueue<String> threadsOfBids(BidRoute.Mode mode) throws Exception {
    return serve(mode, "").threads();
  }

  /** The threads that ran each call of {@link #serve}, and whether each request's entity was strict. */
  private record Served(ConcurrentLinkedQueue<String> threads, ConcurrentLinkedQueue<Boolean> strict) {}

  /**
   * Serves ten bids and one failing with INVALID_ARGUMENT over a real server (HTTP/2 on, plus
   * {@code serverConfig}) and the project's client, checking every answer and the failure's status.
   */
  private static Served serve(BidRoute.Mode mode, String serverConfig) throws Exception {
    Served served = new Served(new ConcurrentLinkedQueue<>(), new ConcurrentLinkedQueue<>());
    AuctionService service = new AuctionService() {
      @Override
      public CompletionStage<BidResponse> bid(BidRequest in) {
        served.threads().add(Thread.currentThread().getName());
        if (in.getRequestId().equals("bad")) {
          throw new GrpcServiceException(Status.INVALID_ARGUMENT.withDescription("request_id: bad"));
        }
        return CompletableFuture.completedFuture(BidResponse.newBuilder().setRequestId(in.getRequestId()).build());
      }
    };
    ActorSystem<Void> server = ActorSystem.create(Behaviors.empty(), "bid-route-" + mode.name().toLowerCase(),
        ConfigFactory.parseString("pekko.http.server.enable-http2 = on\npekko.http.server.preview.enable-http2 = on\n"
                + serverConfig)
            .withFallback(ConfigFactory.defaultReference()));
    ActorSystem<Void> client = clientSystem("bid-route-client");
    try {
      var route = BidRoute.partial(service, mode, server);
      @SuppressWarnings("unchecked")
      ServerBinding binding = Http.get(server).newServerAt("127.0.0.1", 0)
          .bind(ServiceHandler.concatOrNotFound(request -> {
            served.strict().add(request.entity().isStrict());
            return route.apply(request);
          }))
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
      assertEquals(11, served.threads().size());
      return served;
    } finally {
      client.terminate();
      server.terminate();
      server.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
