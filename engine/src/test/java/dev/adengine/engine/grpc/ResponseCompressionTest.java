package dev.adengine.engine.grpc;

import static dev.adengine.engine.testing.EngineTestSupport.await;
import static dev.adengine.engine.testing.EngineTestSupport.clientSettings;
import static dev.adengine.engine.testing.EngineTestSupport.clientSystem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.ConfigFactory;
import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.AuctionServiceClient;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.Winner;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcSingleResponse;
import org.apache.pekko.grpc.javadsl.ServiceHandler;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.Test;

/**
 * {@link ResponseCompression} over a real Pekko gRPC server and the project's client (Pekko gRPC
 * on grpc-java's Netty channel, which accepts gzip on every call): off, the node answers
 * uncompressed ({@code grpc-encoding} is not gzip); on, it answers gzip as Pekko gRPC does by
 * default; the client reads the same answer either way.
 */
class ResponseCompressionTest {

  @Test
  void shouldAnswerUncompressedWhenOffAndGzipWhenOn() throws Exception {
    assertFalse(encodingOfAnAnswer(false).filter(e -> e.equalsIgnoreCase("gzip")).isPresent(),
        "answered gzip with compress-responses off");
    assertEquals(Optional.of("gzip"), encodingOfAnAnswer(true),
        "the client accepts gzip, so Pekko gRPC compresses when allowed to");
  }

  @Test
  void shouldReadTheSettingFromTheShippedConfigWhereItIsOff() {
    var config = ConfigFactory.parseResources("grpc.conf").resolve();
    assertFalse(config.getBoolean("adengine.grpc.compress-responses"));
  }

  private static Optional<String> encodingOfAnAnswer(boolean compress) throws Exception {
    // an answer big enough that gzip would shrink it (ten winners with the same title)
    AuctionService service = in -> {
      BidResponse.Builder b = BidResponse.newBuilder().setRequestId(in.getRequestId());
      for (int i = 0; i < 10; i++) {
        b.addWinners(Winner.newBuilder().setAdId("ad-" + i).setTitle("Hotel de la Place, Paris, 4 stars"));
      }
      return CompletableFuture.completedFuture(b.build());
    };
    ActorSystem<Void> server = ActorSystem.create(Behaviors.empty(), "response-compression-" + compress,
        ConfigFactory.parseString("pekko.http.server.enable-http2 = on\npekko.http.server.preview.enable-http2 = on")
            .withFallback(ConfigFactory.defaultReference()));
    ActorSystem<Void> client = clientSystem("response-compression-client-" + compress);
    try {
      @SuppressWarnings("unchecked")
      var handler = ServiceHandler.concatOrNotFound(BidRoute.partial(service, BidRoute.Mode.COMMON_POOL, server));
      ServerBinding binding = Http.get(server).newServerAt("127.0.0.1", 0)
          .bind(ResponseCompression.apply(handler, compress)).toCompletableFuture().get(30, TimeUnit.SECONDS);
      AuctionServiceClient bids = AuctionServiceClient.create(clientSettings(client, binding.localAddress().getPort()),
          client);

      GrpcSingleResponse<BidResponse> answer = await(bids.bid().invokeWithMetadata(
          BidRequest.newBuilder().setRequestId("rq-" + compress).build()));

      assertEquals("rq-" + compress, answer.value().getRequestId());
      assertEquals(10, answer.value().getWinnersCount());
      assertEquals("Hotel de la Place, Paris, 4 stars", answer.value().getWinners(9).getTitle());
      Optional<String> encoding = answer.getHeaders().getText("grpc-encoding");
      await(bids.close());
      return encoding;
    } finally {
      client.terminate();
      server.terminate();
      server.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
