package dev.adengine.chaos.reference;

import static dev.adengine.engine.testing.EngineTestSupport.await;
import static dev.adengine.engine.testing.EngineTestSupport.bid;
import static dev.adengine.engine.testing.EngineTestSupport.clientSettings;
import static dev.adengine.engine.testing.EngineTestSupport.clientSystem;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.adengine.api.v1.AuctionServiceClient;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.Device;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Both reference servers answer the engine's generated client like the engine would. */
class ReferenceServersTest {
  static ActorSystem<Void> client;

  @BeforeAll
  static void start() {
    client = clientSystem("reference-client");
  }

  @AfterAll
  static void stop() {
    client.terminate();
  }

  @Test
  void shouldAnswerBidWithTheFixedResponseWhenServedByPlainGrpcJava() throws Exception {
    try (GrpcJavaReferenceServer server = GrpcJavaReferenceServer.start("127.0.0.1", 0)) {
      assertAnswers(server.port());
    }
  }

  @Test
  void shouldAnswerBidWithTheFixedResponseWhenServedByPekkoGrpc() throws Exception {
    try (PekkoReferenceServer server = PekkoReferenceServer.start("127.0.0.1", 0)) {
      assertAnswers(server.port());
    }
  }

  private static void assertAnswers(int port) {
    AuctionServiceClient auction = AuctionServiceClient.create(clientSettings(client, port), client);
    try {
      for (int i = 0; i < 20; i++) {
        // when
        BidResponse r = await(auction.bid(bid("ref-" + i, "paris", Device.MOBILE, 3).build()));

        // then: the request id comes back with the template's three winners
        assertEquals("ref-" + i, r.getRequestId());
        assertEquals(3, r.getWinnersCount());
        assertEquals("reference", r.getModelVersion());
      }
    } finally {
      await(auction.close());
    }
  }
}
