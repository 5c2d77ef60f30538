package dev.adengine.engine.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.adengine.api.v1.AdminService;
import dev.adengine.api.v1.AdminServiceHandlerFactory;
import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.AuctionServiceHandlerFactory;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.CampaignView;
import dev.adengine.api.v1.ClusterStatusRequest;
import dev.adengine.api.v1.ClusterStatusResponse;
import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventAck;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventService;
import dev.adengine.api.v1.EventServiceHandlerFactory;
import dev.adengine.api.v1.EventType;
import dev.adengine.api.v1.GetCampaignRequest;
import dev.adengine.api.v1.PauseCampaignRequest;
import dev.adengine.api.v1.Pricing;
import dev.adengine.api.v1.Rejection;
import dev.adengine.api.v1.ResumeCampaignRequest;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertAdvertiserResponse;
import dev.adengine.api.v1.UpsertCampaignRequest;
import dev.adengine.api.v1.UpsertCampaignResponse;
import dev.adengine.api.v1.Winner;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.javadsl.ServiceHandler;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs the simulator over real gRPC against a minimal in-process stand-in for an engine node
 * (the process boundary): it accepts the market, answers bids with the first ads of targeting
 * campaigns, and de-duplicates events by id, so the test can check what the simulator sent.
 */
class TrafficSimulatorTest {

  private static final LocalDate TODAY = LocalDate.of(2025, 6, 1);

  private static ActorSystem<Void> serverSystem;
  private static ServerBinding binding;
  private static final FakeEngine ENGINE = new FakeEngine();

  @BeforeAll
  static void startServer() throws Exception {
    serverSystem = ActorSystem.create(Behaviors.empty(), "fake-engine",
        ConfigFactory.parseString("pekko.actor.provider = local\npekko.http.server.enable-http2 = on\npekko.loglevel = WARNING")
            .withFallback(ConfigFactory.defaultReference()));
    var handler = ServiceHandler.concatOrNotFound(
        AdminServiceHandlerFactory.partial(ENGINE, AdminService.name, serverSystem),
        AuctionServiceHandlerFactory.partial(ENGINE.auction, AuctionService.name, serverSystem),
        EventServiceHandlerFactory.partial(ENGINE.events, EventService.name, serverSystem));
    binding = Http.get(serverSystem).newServerAt("127.0.0.1", 0).bind(handler).toCompletableFuture().get();
  }

  @AfterAll
  static void stopServer() {
    binding.unbind().toCompletableFuture().join();
    serverSystem.terminate();
    serverSystem.getWhenTerminated().toCompletableFuture().join();
  }

  private static SimulatorOptions.Builder options() {
    return SimulatorOptions.builder()
        .target("127.0.0.1", binding.localAddress().getPort())
        .rate(100)
        .duration(Duration.ofSeconds(3))
        .seed(5L)
        .campaigns(100)
        .reportEvery(Duration.ofSeconds(1))
        .today(TODAY);
  }

  @Test
  void shouldSendScheduledTrafficAndBillableEventsWhenEngineAnswers() throws Exception {
    // given
    ENGINE.reset(null);
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    Market market = new MarketGenerator(5L, 100, TODAY).generate();

    // when
    SimulationSummary summary = TrafficSimulator.run(options().build(), new PrintStream(output, true, StandardCharsets.UTF_8));

    // then: the market arrived as generated
    assertEquals(market.campaigns().size(), ENGINE.campaigns.size());
    for (Campaign c : market.campaigns()) {
      assertEquals(c, ENGINE.campaigns.get(c.getCampaignId()));
    }
    // open loop: exactly rate x duration requests, all answered
    assertEquals(300, summary.requests());
    assertEquals(300, summary.ok());
    assertEquals(0, summary.errors());
    assertEquals(0, summary.refused());
    assertTrue(summary.winners() > 0 && summary.fillRate() > 0);
    assertTrue(summary.latencyP50Micros() > 0 && summary.latencyP99Micros() >= summary.latencyP50Micros());
    // every shown ad and drawn click reached the engine once, duplicates only from the resends
    assertEquals(summary.impressions(), ENGINE.impressions.get());
    assertEquals(summary.clicks(), ENGINE.clicks.get());
    assertEquals(0, summary.eventsRejected());
    assertEquals(0, summary.eventsDropped());
    assertEquals(summary.eventsResent(), summary.eventsDuplicate());
    assertEquals(summary.eventsSent(), summary.eventsAccepted() + summary.eventsDuplicate());
    assertEquals(summary.impressions() + summary.clicks(), summary.eventsAccepted());
    // the simulator's spend is what the engine would bill for the events it accepted
    assertEquals(ENGINE.billedMicros(), summary.spendMicros());
    // clicks follow the ground truth
    double expected = summary.expectedClicks();
    assertTrue(Math.abs(summary.clicks() - expected) <= 4 * Math.sqrt(expected) + 3,
        "clicks " + summary.clicks() + " expected " + expected);
    String printed = output.toString(StandardCharsets.UTF_8);
    assertTrue(printed.contains("[sim] t=1s rps="), printed);
    assertTrue(printed.contains("[sim] summary"), printed);
    assertTrue(!printed.matches("(?s).*\\bu[0-9]{6}\\b.*"), "a user id was printed");
  }

  @Test
  void shouldFailNamingCampaignAndFieldWhenEngineRejectsCampaign() {
    // given
    String rejected = new MarketGenerator(5L, 100, TODAY).generate().campaigns().get(7).getCampaignId();
    ENGINE.reset(rejected);

    // when
    MarketSetup.SetupException error = assertThrows(MarketSetup.SetupException.class,
        () -> TrafficSimulator.run(options().build(), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));

    // then
    assertTrue(error.getMessage().contains("UpsertCampaign " + rejected), error.getMessage());
    assertTrue(error.getMessage().contains("INVALID_ARGUMENT: bid_micros"), error.getMessage());
  }

  @Test
  void shouldRefuseSendsBeyondInFlightLimitWhenEngineStopsAnswering() throws Exception {
    // given: bids that are never answered
    ENGINE.reset(null);
    ENGINE.hang = true;
    SimulatorOptions options = options()
        .duration(Duration.ofSeconds(1))
        .maxInFlight(10)
        .callTimeout(Duration.ofMillis(1_500))
        .build();

    // when
    SimulationSummary summary;
    try {
      summary = TrafficSimulator.run(options, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    } finally {
      ENGINE.hang = false;
    }

    // then: 10 calls went out and timed out client-side, the other 90 were refused, not queued
    assertEquals(100, summary.requests());
    assertEquals(90, summary.refused());
    assertEquals(Map.of("DEADLINE_EXCEEDED", 10L), summary.errorsByStatus());
    assertEquals(0, summary.ok());
  }

  /** Just enough of an engine node to observe the simulator: no ranking, no budgets. */
  static final class FakeEngine implements AdminService {
    final Map<String, Campaign> campaigns = new ConcurrentHashMap<>();
    final Map<String, List<Winner>> shown = new ConcurrentHashMap<>();
    final Set<String> eventIds = ConcurrentHashMap.newKeySet();
    final AtomicLong impressions = new AtomicLong();
    final AtomicLong clicks = new AtomicLong();
    final AtomicLong cpcBilled = new AtomicLong();
    final AtomicLong cpmPriceSum = new AtomicLong();
    volatile String rejectCampaign;
    volatile boolean hang;

    void reset(String rejectCampaign) {
      campaigns.clear();
      shown.clear();
      eventIds.clear();
      impressions.set(0);
      clicks.set(0);
      cpcBilled.set(0);
      cpmPriceSum.set(0);
      this.rejectCampaign = rejectCampaign;
    }

    long billedMicros() {
      return cpcBilled.get() + cpmPriceSum.get() / 1_000;
    }

    @Override
    public CompletionStage<UpsertAdvertiserResponse> upsertAdvertiser(UpsertAdvertiserRequest in) {
      return CompletableFuture.completedFuture(UpsertAdvertiserResponse.newBuilder().setAdvertiser(in.getAdvertiser()).setRevision(1).build());
    }

    @Override
    public CompletionStage<UpsertCampaignResponse> upsertCampaign(UpsertCampaignRequest in) {
      if (in.getCampaign().getCampaignId().equals(rejectCampaign)) {
        return CompletableFuture.failedFuture(new GrpcServiceException(Status.INVALID_ARGUMENT.withDescription("bid_micros must be > 0")));
      }
      campaigns.put(in.getCampaign().getCampaignId(), in.getCampaign());
      return CompletableFuture.completedFuture(UpsertCampaignResponse.newBuilder().setCampaign(in.getCampaign()).setRevision(1).build());
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.AdvertiserView> getAdvertiser(dev.adengine.api.v1.GetAdvertiserRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.AdvertiserView> pauseAdvertiser(dev.adengine.api.v1.PauseAdvertiserRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.AdvertiserView> resumeAdvertiser(
        dev.adengine.api.v1.ResumeAdvertiserRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ExperimentConfigView> createExperiment(
        dev.adengine.api.v1.CreateExperimentRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ExperimentConfigView> startExperiment(
        dev.adengine.api.v1.StartExperimentRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ExperimentConfigView> rampExperiment(
        dev.adengine.api.v1.RampExperimentRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ExperimentConfigView> setHoldout(
        dev.adengine.api.v1.SetHoldoutRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ExperimentConfigView> stopExperiment(
        dev.adengine.api.v1.StopExperimentRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ExperimentConfigView> getExperimentConfig(
        dev.adengine.api.v1.GetExperimentConfigRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ExperimentReportView> getExperimentReport(
        dev.adengine.api.v1.ExperimentReportRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ListModelsResponse> listModels(dev.adengine.api.v1.ListModelsRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ModelView> getModel(dev.adengine.api.v1.GetModelRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.TrainModelResponse> trainModel(dev.adengine.api.v1.TrainModelRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ActivationView> deployModel(dev.adengine.api.v1.DeployModelRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ActivationView> shadowModel(dev.adengine.api.v1.ShadowModelRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ActivationView> rollbackModel(dev.adengine.api.v1.RollbackModelRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.PipelineRunsResponse> getPipelineRuns(dev.adengine.api.v1.GetPipelineRunsRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ModelStatusView> getModelStatus(dev.adengine.api.v1.GetModelStatusRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ListCampaignsResponse> listCampaigns(
        dev.adengine.api.v1.ListCampaignsRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.ClusterShardsResponse> clusterShards(
        dev.adengine.api.v1.ClusterShardsRequest in) {
      return unimplemented();
    }

    @Override
    public CompletionStage<dev.adengine.api.v1.SloView> getSlo(dev.adengine.api.v1.GetSloRequest in) {
      return unimplemented();
    }

    private static <T> CompletionStage<T> unimplemented() {
      return CompletableFuture.failedFuture(new org.apache.pekko.grpc.GrpcServiceException(io.grpc.Status.UNIMPLEMENTED));
    }

    @Override
    public CompletionStage<ClusterStatusResponse> clusterStatus(ClusterStatusRequest in) {
      return CompletableFuture.completedFuture(
          ClusterStatusResponse.newBuilder().setReady(true).setReplicaCampaigns(campaigns.size()).build());
    }

    @Override
    public CompletionStage<CampaignView> getCampaign(GetCampaignRequest in) {
      return CompletableFuture.failedFuture(new GrpcServiceException(Status.UNIMPLEMENTED));
    }

    @Override
    public CompletionStage<CampaignView> pauseCampaign(PauseCampaignRequest in) {
      return CompletableFuture.failedFuture(new GrpcServiceException(Status.UNIMPLEMENTED));
    }

    @Override
    public CompletionStage<CampaignView> resumeCampaign(ResumeCampaignRequest in) {
      return CompletableFuture.failedFuture(new GrpcServiceException(Status.UNIMPLEMENTED));
    }

    final AuctionService auction = this::bid;
    final EventService events = this::report;

    private CompletionStage<BidResponse> bid(BidRequest in) {
      if (hang) {
        return new CompletableFuture<>();
      }
      BidResponse.Builder response = BidResponse.newBuilder().setRequestId(in.getRequestId());
      List<Winner> winners = new ArrayList<>();
      for (Campaign c : campaigns.values()) {
        if (winners.size() == in.getSlots()) {
          break;
        }
        if (c.getDestinationsList().contains(in.getDestination())) {
          winners.add(Winner.newBuilder()
              .setPosition(winners.size() + 1)
              .setAdId(c.getAds(0).getAdId())
              .setCampaignId(c.getCampaignId())
              .setAdvertiserId(c.getAdvertiserId())
              .setPricing(c.getPricing())
              .setPriceMicros(c.getBidMicros() / 2)
              .build());
        }
      }
      shown.put(in.getRequestId(), winners);
      return CompletableFuture.completedFuture(response.addAllWinners(winners).build());
    }

    private CompletionStage<EventAck> report(EventBatch in) {
      EventAck.Builder ack = EventAck.newBuilder();
      for (int i = 0; i < in.getEventsCount(); i++) {
        Event e = in.getEvents(i);
        Winner w = shown.getOrDefault(e.getRequestId(), List.of()).stream()
            .filter(x -> x.getAdId().equals(e.getAdId())).findFirst().orElse(null);
        if (w == null) {
          ack.setRejected(ack.getRejected() + 1)
              .addRejections(Rejection.newBuilder().setIndex(i).setEventId(e.getEventId()).setReason("ad not shown for request"));
        } else if (!eventIds.add(e.getEventId())) {
          ack.setDuplicate(ack.getDuplicate() + 1);
        } else {
          ack.setAccepted(ack.getAccepted() + 1);
          if (e.getType() == EventType.IMPRESSION) {
            impressions.incrementAndGet();
            if (w.getPricing() == Pricing.CPM) {
              cpmPriceSum.addAndGet(w.getPriceMicros());
            }
          } else {
            clicks.incrementAndGet();
            if (w.getPricing() == Pricing.CPC) {
              cpcBilled.addAndGet(w.getPriceMicros());
            }
          }
        }
      }
      return CompletableFuture.completedFuture(ack.build());
    }
  }
}
