package dev.adengine.engine;

import static dev.adengine.engine.testing.EngineTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adengine.api.v1.Ad;
import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventType;
import dev.adengine.api.v1.GetCampaignRequest;
import dev.adengine.api.v1.PauseCampaignRequest;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.engine.testing.EngineTestSupport;
import dev.adengine.engine.testing.EngineTestSupport.Clients;
import dev.adengine.persistence.testing.CassandraTestNode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input through a real gRPC client against a real node: every case answers INVALID_ARGUMENT
 * naming the field, the node stays up, and what was accepted before is still there.
 */
class BadInputTest {
  private static final long UNIT = 1_000_000L;
  private static EngineNode node;
  private static ActorSystem<Void> client;
  private static Clients api;

  @BeforeAll
  static void start() {
    node = startNode(CassandraTestNode.uniqueKeyspaceName("badinput"));
    client = clientSystem("bad-input-client");
    api = Clients.of(client, node.grpcPort());
    await(api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder()
        .setAdvertiser(advertiser("adv-ok", 500 * UNIT)).build()));
    await(api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder()
        .setCampaign(campaign("c-ok", "adv-ok", Pricing.CPC, 2 * UNIT, 500 * UNIT, "ad-ok").addDestinations("nice"))
        .build()));
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
    if (client != null) {
      client.terminate();
    }
    EngineTestSupport.stop(node);
  }

  private static BidRequest.Builder good() {
    return bid("rq-good", "nice", Device.MOBILE, 3);
  }

  static Stream<Arguments> badBids() {
    String longText = "x".repeat(300);
    return Stream.of(
        Arguments.of("missing request_id", good().clearRequestId(), "request_id"),
        Arguments.of("slots 0", good().setSlots(0), "slots"),
        Arguments.of("slots 51", good().setSlots(51), "slots"),
        Arguments.of("negative floor", good().setFloorMicros(-1), "floor_micros"),
        Arguments.of("zero tmax", good().setTmaxMs(0), "tmax_ms"),
        Arguments.of("negative tmax", good().setTmaxMs(-5), "tmax_ms"),
        Arguments.of("unknown device enum", good().setDeviceValue(42), "device"),
        Arguments.of("unknown placement enum", good().setPlacementValue(99), "placement"),
        Arguments.of("missing device", good().clearDevice(), "device"),
        Arguments.of("missing destination", good().clearDestination(), "destination"),
        Arguments.of("long destination", good().setDestination(longText), "destination"),
        Arguments.of("long user_id", good().setUserId(longText), "user_id"),
        Arguments.of("long request_id", good().setRequestId(longText), "request_id"),
        Arguments.of("long query", good().setQuery(longText), "query"),
        Arguments.of("bad checkin", good().setCheckin("2027-13-45"), "checkin"),
        Arguments.of("negative nights", good().setNights(-1), "nights"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badBids")
  void shouldAnswerInvalidArgumentNamingFieldWhenBidIsBad(String name, BidRequest.Builder request, String field) {
    assertInvalid(() -> api.auction().bid(request.build()), field);
  }

  static Stream<Arguments> badCampaigns() {
    Supplier<Campaign.Builder> ok = () -> campaign("c-bad", "adv-ok", Pricing.CPC, UNIT, 10 * UNIT, "ad-bad");
    return Stream.of(
        Arguments.of("negative bid", ok.get().setBidMicros(-1), "campaign.bid_micros"),
        Arguments.of("zero budget", ok.get().setDailyBudgetMicros(0), "campaign.daily_budget_micros"),
        Arguments.of("negative budget", ok.get().setDailyBudgetMicros(-10), "campaign.daily_budget_micros"),
        Arguments.of("missing pricing", ok.get().clearPricing(), "campaign.pricing"),
        Arguments.of("unknown pricing enum", ok.get().setPricingValue(7), "campaign.pricing"),
        Arguments.of("unknown device enum", ok.get().addDevicesValue(9), "campaign.devices[0]"),
        Arguments.of("no ads", ok.get().clearAds(), "campaign.ads"),
        Arguments.of("bad id", ok.get().setCampaignId("has space"), "campaign.campaign_id"),
        Arguments.of("long id", ok.get().setCampaignId("c".repeat(65)), "campaign.campaign_id"),
        Arguments.of("long name", ok.get().setName("n".repeat(300)), "campaign.name"),
        Arguments.of("review score 11", ok.get().setAds(0, Ad.newBuilder(ok.get().getAds(0)).setReviewScore(11)),
            "campaign.ads[0].review_score"),
        Arguments.of("duplicate ad ids", ok.get().addAds(ok.get().getAds(0)), "campaign.ads[1].ad_id"),
        Arguments.of("unknown advertiser", ok.get().setAdvertiserId("adv-missing"), "campaign.advertiser_id"),
        Arguments.of("bad time zone", ok.get().setTimeZone("Mars/Olympus"), "campaign.time_zone"),
        Arguments.of("dates reversed", ok.get().setCheckinFrom("2027-05-01").setCheckinTo("2027-04-01"),
            "campaign.checkin_to"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badCampaigns")
  void shouldAnswerInvalidArgumentNamingFieldWhenCampaignIsBad(String name, Campaign.Builder c, String field) {
    assertInvalid(() -> api.admin().upsertCampaign(UpsertCampaignRequest.newBuilder().setCampaign(c).build()), field);
  }

  @Test
  void shouldAnswerInvalidArgumentWhenAdvertiserIsBad() {
    Advertiser bad = advertiser("adv-bad", 10 * UNIT).toBuilder().setDailyBudgetMicros(0).build();
    assertInvalid(() -> api.admin().upsertAdvertiser(UpsertAdvertiserRequest.newBuilder().setAdvertiser(bad).build()),
        "advertiser.daily_budget_micros");
    assertInvalid(() -> api.admin().upsertAdvertiser(UpsertAdvertiserRequest.getDefaultInstance()), "advertiser");
  }

  @Test
  void shouldAnswerInvalidArgumentWhenEventBatchIsEmptyOrTooLarge() {
    assertInvalid(() -> api.events().report(EventBatch.getDefaultInstance()), "events");
    EventBatch.Builder big = EventBatch.newBuilder();
    Event e = Event.newBuilder().setEventId("e").setRequestId("r").setAdId("ad-ok").setCampaignId("c-ok")
        .setType(EventType.IMPRESSION).setTimeMs(1).build();
    for (int i = 0; i < 1001; i++) {
      big.addEvents(e);
    }
    assertInvalid(() -> api.events().report(big.build()), "events");
  }

  @Test
  void shouldRejectOnlyTheBadEventsWhenBatchMixesGoodAndBad() {
    // given a served ad
    String rq = "rq-mixed";
    awaitAssert(Duration.ofSeconds(5), () -> assertEquals(1,
        await(api.auction().bid(bid(rq + "-probe-" + System.nanoTime(), "nice", Device.MOBILE, 1).build()))
            .getWinnersCount()));
    BidResponse r = await(api.auction().bid(bid(rq, "nice", Device.MOBILE, 1).build()));
    assertEquals(1, r.getWinnersCount());
    long now = System.currentTimeMillis();
    Event ok = Event.newBuilder().setEventId("ev-mixed-ok").setRequestId(rq).setAdId("ad-ok").setCampaignId("c-ok")
        .setType(EventType.IMPRESSION).setTimeMs(now).build();
    // when a batch holds it next to events with bad fields
    var ack = await(api.events().report(EventBatch.newBuilder()
        .addEvents(ok)
        .addEvents(ok.toBuilder().setEventId("ev-mixed-type").setTypeValue(17))
        .addEvents(ok.toBuilder().setEventId("ev-mixed-time").setTimeMs(0))
        .addEvents(ok.toBuilder().setEventId("ev-mixed-unspecified").clearType())
        .build()));
    // then the good one is accepted and each bad one names its field
    assertEquals(1, ack.getAccepted());
    assertEquals(3, ack.getRejected());
    assertTrue(ack.getRejections(0).getReason().contains("type"), ack.getRejections(0).getReason());
    assertTrue(ack.getRejections(1).getReason().contains("time_ms"), ack.getRejections(1).getReason());
    assertTrue(ack.getRejections(2).getReason().contains("type"), ack.getRejections(2).getReason());
  }

  @Test
  void shouldAnswerNotFoundWhenCampaignIsUnknown() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-nobody").build())));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    StatusRuntimeException p = assertThrows(StatusRuntimeException.class,
        () -> await(api.admin().pauseCampaign(PauseCampaignRequest.newBuilder().setCampaignId("c-nobody").build())));
    assertEquals(Status.Code.NOT_FOUND, p.getStatus().getCode());
  }

  @Test
  void shouldKeepServingAndKeepDataWhenBadInputArrived() {
    // given a burst of bad input of every kind
    for (Arguments a : badBids().toList()) {
      assertThrows(StatusRuntimeException.class, () -> await(api.auction().bid(((BidRequest.Builder) a.get()[1]).build())));
    }
    // then the node still answers good requests, and the accepted campaign is intact
    awaitAssert(Duration.ofSeconds(5), () -> assertEquals(1,
        await(api.auction().bid(bid("rq-after-" + System.nanoTime(), "nice", Device.MOBILE, 3).build())).getWinnersCount()));
    CampaignView v = await(api.admin().getCampaign(GetCampaignRequest.newBuilder().setCampaignId("c-ok").build()));
    assertEquals(2 * UNIT, v.getCampaign().getBidMicros());
    assertEquals(1, v.getRevision());
  }

  private static void assertInvalid(Supplier<CompletionStage<?>> call, String field) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> await(call.get()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
    String description = e.getStatus().getDescription();
    assertNotNull(description);
    assertTrue(description.startsWith(field + ":"), "expected field " + field + " in: " + description);
  }
}
