package dev.adengine.engine;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import dev.adengine.api.v1.AdminService;
import dev.adengine.api.v1.AdminServiceHandlerFactory;
import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.EventService;
import dev.adengine.api.v1.EventServiceHandlerFactory;
import dev.adengine.engine.auction.Auction;
import dev.adengine.engine.auction.BidHandler;
import dev.adengine.engine.auction.OnlineStats;
import dev.adengine.engine.budget.AllowanceKeeper;
import dev.adengine.engine.budget.BudgetLedger;
import dev.adengine.engine.budget.CurvePacing;
import dev.adengine.engine.budget.LedgerService;
import dev.adengine.engine.budget.TrafficCurve;
import dev.adengine.engine.campaign.AdvertiserBudget;
import dev.adengine.engine.campaign.AdvertiserEntity;
import dev.adengine.engine.campaign.CampaignEntity;
import dev.adengine.engine.catalog.Catalog;
import dev.adengine.engine.catalog.CatalogReplica;
import dev.adengine.engine.catalog.CatalogUpdate;
import dev.adengine.engine.events.ClickCharges;
import dev.adengine.engine.events.EventIngest;
import dev.adengine.engine.features.CampaignSnapshot;
import dev.adengine.engine.features.FeatureStore;
import dev.adengine.engine.features.SnapshotSubscriber;
import dev.adengine.engine.events.ServedAds;
import dev.adengine.engine.experiment.ArmStatsPublisher;
import dev.adengine.engine.experiment.ExperimentAdmin;
import dev.adengine.engine.experiment.ExperimentSplitter;
import dev.adengine.engine.experiment.ServingExperiments;
import dev.adengine.persistence.ExperimentRepository;
import dev.adengine.engine.grpc.AdminServiceImpl;
import dev.adengine.engine.grpc.AuctionServiceImpl;
import dev.adengine.engine.grpc.BidRoute;
import dev.adengine.engine.grpc.EventServiceImpl;
import dev.adengine.engine.grpc.ResponseCompression;
import dev.adengine.engine.health.CassandraProbe;
import dev.adengine.engine.health.NodeState;
import dev.adengine.engine.slo.SloPublisher;
import dev.adengine.engine.slo.SloSettings;
import dev.adengine.engine.slo.SloTracker;
import dev.adengine.engine.lifecycle.DriftMonitor;
import dev.adengine.engine.lifecycle.FeatureLogWriter;
import dev.adengine.engine.lifecycle.LifecycleSettings;
import dev.adengine.engine.lifecycle.ModelAdmin;
import dev.adengine.engine.lifecycle.ModelDeployer;
import dev.adengine.engine.lifecycle.ModelGuardrail;
import dev.adengine.engine.lifecycle.ModelHealth;
import dev.adengine.engine.lifecycle.ModelRegistry;
import dev.adengine.engine.lifecycle.RetrainPipeline;
import dev.adengine.engine.metrics.EngineMetrics;
import dev.adengine.engine.metrics.MeteredServices;
import dev.adengine.engine.metrics.MetricsRuntime;
import dev.adengine.engine.ranking.ModelHolder;
import dev.adengine.persistence.FeatureLogRepository;
import dev.adengine.persistence.ModelRegistryRepository;
import dev.adengine.persistence.PipelineRepository;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import dev.adengine.engine.ranking.RankingPool;
import dev.adengine.persistence.CatalogRepository;
import dev.adengine.persistence.ChargeRepository;
import dev.adengine.persistence.EventRepository;
import dev.adengine.persistence.ServedRepository;
import dev.adengine.persistence.StatementBatcher;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.grpc.javadsl.ServerReflection;
import org.apache.pekko.grpc.javadsl.ServiceHandler;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * One engine node, wired from real parts: the actor system (cluster, sharding, the catalog replica
 * and allowance keeper), the bid and event paths, the gRPC server and Pekko Management. Tests start
 * nodes through {@link #start} exactly as {@link Main} does.
 */
public final class EngineNode {
  private final ActorSystem<Void> system;
  private final CqlSession session;
  private final ServerBinding binding;
  private final EngineSettings settings;
  private final Catalog catalog;
  private final BudgetLedger ledger;
  private final String nodeId;
  private final ServingExperiments experiments;
  private final SloTracker slo;
  private final int managementPort;

  private EngineNode(ActorSystem<Void> system, CqlSession session, ServerBinding binding, EngineSettings settings,
      Catalog catalog, BudgetLedger ledger, String nodeId, ServingExperiments experiments, SloTracker slo,
      int managementPort) {
    this.slo = slo;
    this.managementPort = managementPort;
    this.nodeId = nodeId;
    this.experiments = experiments;
    this.system = system;
    this.session = session;
    this.binding = binding;
    this.settings = settings;
    this.catalog = catalog;
    this.ledger = ledger;
  }

  /**
   * Starts a node: connects to Cassandra and applies the schema migrations, starts the actor system
   * and joins the cluster, binds gRPC and management. Blocks the calling (main or test) thread
   * until the gRPC server is bound; never called from an actor.
   */
  public static EngineNode start(Config config) throws Exception {
    EngineSettings s = EngineSettings.from(config);
    dev.adengine.persistence.CassandraSettings cs = new dev.adengine.persistence.CassandraSettings(
        s.cassandraHost(), s.cassandraPort(), s.cassandraDatacenter(), s.keyspace(), s.replicationFactor());
    CqlSession session = dev.adengine.persistence.CassandraSessions.connect(cs);
    dev.adengine.persistence.Migrations.apply(session, s.keyspace(), s.replicationFactor());
    return start(config, s, session);
  }

  static EngineNode start(Config config, EngineSettings s, CqlSession session) throws Exception {
    // Kamon first (once per JVM): its instrumentation must be in place before the actor system
    // creates its dispatchers.
    MetricsRuntime.start(config);
    Clock clock = Clock.systemUTC();
    LifecycleSettings ls = LifecycleSettings.from(config);
    ExecutorService lifecycleExecutor = Executors.newFixedThreadPool(2, daemon("model-lifecycle"));
    ModelRegistry registry = new ModelRegistry(new ModelRegistryRepository(session, s.keyspace()), lifecycleExecutor,
        clock);
    DriftMonitor drift = new DriftMonitor(ls.drift());
    // Load the model before anything starts: a node without a usable model must not join. The
    // registry's active version when there is one (a node that joins later serves what the
    // cluster serves), else the configured model file.
    ActiveAtStart atStart = activeAtStart(registry, ls, drift, ModelHolder.load(s.modelPath()));
    ModelHolder models = new ModelHolder(atStart.model());
    for (String path : s.armModelPaths()) {
      models.addArmModel(ModelHolder.load(path));
    }
    // With vector-stage2 on, the node reports ready only once the model's compiled stage 2 is built
    // (javac, then warm-up until C2 has compiled it: seconds of one core), so that traffic does not
    // share the cores with the build; meanwhile the rest of the node starts. It waits at most
    // stage2-ready-wait, then serves on the scalar path until the build is over.
    long startedNanos = System.nanoTime();
    CompletableFuture<?> stage2AtStart = s.vectorStage2()
        ? models.compileEveryActiveModel(s.stage2ClassCache().isEmpty() ? null
            : java.nio.file.Path.of(s.stage2ClassCache()), s.stage2BuildBudget())
        : CompletableFuture.completedFuture(null);
    Catalog catalog = new Catalog();
    OnlineStats stats = new OnlineStats();
    FeatureStore features = new FeatureStore();
    CatalogRepository catalogRepo = new CatalogRepository(session, s.keyspace());
    ChargeRepository chargeRepo = new ChargeRepository(session, s.keyspace());
    FeatureLogRepository featureLogRepo = new FeatureLogRepository(session, s.keyspace());
    PipelineRepository pipelineRepo = new PipelineRepository(session, s.keyspace());
    ServedAds served = new ServedAds(new ServedRepository(session, s.keyspace()), chargeRepo,
        new StatementBatcher(session, s.servedWriteLinger(), s.servedWriteBatchStatements(), ConsistencyLevel.LOCAL_QUORUM),
        s.servedLocalCapacity(), s.servedWriteMaxInFlight());
    EventRepository eventRepo = new EventRepository(session, s.keyspace());
    ExperimentRepository experimentRepo = new ExperimentRepository(session, s.keyspace());
    ServingExperiments experiments = new ServingExperiments(s.experiments().userSampleCapacity());

    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "adengine", config);
    system.getWhenTerminated().thenRun(models::close); // the compiled stage 2's guard thread
    // The node's name in grants and served records: configured, or its actual remoting address,
    // plus its cluster incarnation (the member's unique uid), so that a restarted node never
    // inherits a dead one's ledger and a click can tell whether the node that served it is gone.
    var address = system.address();
    String base = s.nodeId().isEmpty()
        ? address.getHost().orElse("local") + ":" + address.getPort().orElse(0)
        : s.nodeId();
    long uid = Cluster.get(system).selfMember().uniqueAddress().longUid();
    String nodeId = base + "#" + Long.toUnsignedString(uid, 36);
    // A click's claim on a reservation that was never committed is settled from the charge log.
    ClickCharges clickCharges = new ClickCharges(eventRepo, chargeRepo, nodeId, System::currentTimeMillis);
    BudgetLedger ledger = new BudgetLedger(System::currentTimeMillis, clickCharges);

    ActorRef<Topic.Command<CatalogUpdate>> topic = system.systemActorOf(
        Topic.create(CatalogUpdate.class, "catalog"), "catalog-topic", Props.empty());
    CampaignEntity.CatalogPublisher publisher = (update, parentId) -> {
      topic.tell(Topic.publish(update));
      return (update.kind() == CatalogUpdate.Kind.CAMPAIGN
          ? catalogRepo.upsertCampaign(update.id(), parentId, update.revision(), update.payload())
          : catalogRepo.upsertAdvertiser(update.id(), update.revision(), update.payload()))
          .thenApply(v -> Done.getInstance());
    };
    ClusterSharding sharding = ClusterSharding.get(system);
    AdvertiserBudget advertisers = new AdvertiserBudget() {
      @Override
      public CompletionStage<AdvertiserEntity.CampaignAllowance> request(String advertiserId, String campaignId,
          long seq, long want) {
        return sharding.entityRefFor(AdvertiserEntity.ENTITY_KEY, advertiserId)
            .<AdvertiserEntity.CampaignAllowance>askWithStatus(
                replyTo -> new AdvertiserEntity.GrantCampaign(campaignId, seq, want, replyTo), s.askTimeout());
      }

      @Override
      public CompletionStage<AdvertiserEntity.CampaignAllowance> giveBack(String advertiserId, String campaignId,
          String day, long seq, long amount) {
        return sharding.entityRefFor(AdvertiserEntity.ENTITY_KEY, advertiserId)
            .<AdvertiserEntity.CampaignAllowance>askWithStatus(
                replyTo -> new AdvertiserEntity.ReturnCampaignBudget(campaignId, day, seq, amount, replyTo),
                s.askTimeout());
      }
    };
    ActorRef<Topic.Command<CampaignSnapshot>> snapshotTopic = system.systemActorOf(
        Topic.create(CampaignSnapshot.class, "campaign-snapshots"), "snapshot-topic", Props.empty());
    system.systemActorOf(SnapshotSubscriber.create(snapshotTopic, features), "snapshot-subscriber", Props.empty());
    CampaignEntity.init(system, new CampaignEntity.Deps(publisher, clock, s.grantShare(),
        new CurvePacing(TrafficCurve.TRAVEL, s.pacingLookahead(), s.pacingHeadroom()), advertisers,
        snapshot -> snapshotTopic.tell(Topic.publish(snapshot)), s.snapshotInterval(), s.featureHalfLife(),
        s.lease(), s.lease().plus(s.clickWindow()).plus(s.clickGrace()), s.settleInterval(),
        chargeRepo::sumForNode));
    AdvertiserEntity.init(system, publisher, clock, s.grantShare());
    system.systemActorOf(CatalogReplica.create(catalog, catalogRepo, topic, s.catalogResync(), s.catalogCoalesce(),
        clock), "catalog-replica", Props.empty());
    AllowanceKeeper.Settings keeper = new AllowanceKeeper.Settings(nodeId, s.refillBelow(), s.grantShare(),
        s.keeperInterval(), s.reportInterval(), s.askBackoffMax(), s.askTimeout(), 64, s.lease(), s.idleAfter());
    system.systemActorOf(AllowanceKeeper.create(keeper, catalog, ledger, clock), "allowance-keeper", Props.empty());
    system.systemActorOf(LedgerService.create(nodeId, ledger), "ledger-service", Props.empty());
    LedgerService.Router router = new LedgerService.Router(system, s.askTimeout(), 5);
    ActorRef<ExperimentSplitter.Command> splitter = system.systemActorOf(ExperimentSplitter.create(
        new ExperimentSplitter.Settings(s.experiments().configName(), s.experiments().writeTimeout(),
            s.experiments().resync()), experimentRepo, experiments), "experiment-splitter", Props.empty());
    system.systemActorOf(ArmStatsPublisher.create(nodeId, experiments, s.experiments().statsInterval(), clock),
        "arm-stats-publisher", Props.empty());
    ExperimentAdmin experimentAdmin = new ExperimentAdmin(system, experimentRepo, s.experiments().configName(),
        splitter, s.askTimeout(), clock);

    ModelHealth health = new ModelHealth(models.current().version(), clock.millis());
    EngineMetrics metrics = new EngineMetrics(nodeId);
    FeatureLogWriter featureLog = new FeatureLogWriter(ls.featureLog(), FeatureLogWriter.Store.of(featureLogRepo),
        nodeId, drift, health, metrics);
    ActorRef<ModelDeployer.Command> deployer = system.systemActorOf(ModelDeployer.create(ls.deploy(), registry,
        models, drift, experiments, atStart.seq()), "model-deployer", Props.empty());
    ActorRef<RetrainPipeline.Command> pipeline = RetrainPipeline.init(system, new RetrainPipeline.Settings(
        ls.schedule(), ls.trainWindow(), ls.holdoutWindow(), ls.labelDelay(), ls.shadowFor(), ls.training(),
        ls.gates(), ls.parityCandidates(), ls.gitCommit(), nodeId), new RetrainPipeline.Deps(featureLogRepo,
        pipelineRepo, registry, models, catalog, deployer, lifecycleExecutor, clock));
    if (ls.guardrail().enabled()) {
      system.systemActorOf(ModelGuardrail.publisher(nodeId, health, models, ls.guardrail().interval(), clock),
          "model-health-publisher", Props.empty());
      ModelGuardrail.init(system, ls.guardrail(), registry, models, deployer, clock);
    }
    ModelAdmin modelAdmin = new ModelAdmin(system, registry, pipelineRepo, deployer, pipeline, models, drift,
        featureLog, features, s.snapshotStaleAfter(), nodeId, s.askTimeout(), clock);
    system.getWhenTerminated().thenRun(() -> {
      featureLog.close();
      lifecycleExecutor.shutdownNow();
    });

    // Readiness: Cassandra is probed in the background from now on (the check reads its cache).
    CassandraProbe cassandraProbe = new CassandraProbe(CassandraProbe.Settings.from(config), System::currentTimeMillis)
        .start(session, system.scheduler(), system.executionContext());
    SloSettings sloSettings = SloSettings.from(config);
    SloTracker slo = SloTracker.of(sloSettings, System::currentTimeMillis);
    system.systemActorOf(SloPublisher.create(nodeId, slo, sloSettings, System::currentTimeMillis), "slo-publisher",
        Props.empty());

    ClusterLiveness liveness = new ClusterLiveness(system);
    joinCluster(system, config);

    RankingPool ranking = RankingPool.start(system, s.ranking(), models);
    BidHandler bidHandler = new BidHandler(
        new BidHandler.Settings(s.placementFloors(), s.pctrAlpha(), s.qualityWeight(), s.auctionType(),
            s.clickWindow(), s.clickGrace(), s.replyMargin(), nodeId, s.experiments().defaultExperimentId(),
            s.experiments().defaultArm()),
        catalog, ledger, stats, features, ranking, experiments, served, featureLog, health, clock, metrics);
    EventIngest ingest = new EventIngest(catalog, served, eventRepo, chargeRepo, clickCharges, router, ledger, stats,
        s.clickWindow(), s.servedRetryDelays(), nodeId, clock, liveness, experiments, featureLog, health);

    @SuppressWarnings("unchecked")
    org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler = ServiceHandler.concatOrNotFound(
        BidRoute.partial(MeteredServices.auction(new AuctionServiceImpl(bidHandler, s.maxTmaxMs(),
                config.getBoolean("adengine.grpc.drop-late-bids"), catalog::loaded), metrics, slo),
            BidRoute.mode(config), system),
        EventServiceHandlerFactory.partial(MeteredServices.counted(EventService.class,
            new EventServiceImpl(ingest, s.maxEventBatch(), catalog::loaded), EngineMetrics.EVENT_SERVICE, metrics),
            EventService.name, system),
        AdminServiceHandlerFactory.partial(MeteredServices.counted(AdminService.class,
            new AdminServiceImpl(system, catalog, features, ranking, s.snapshotStaleAfter(), s.askTimeout(),
                NodeState.get(system)::ready, ledger::openReservations, experimentAdmin, experiments, modelAdmin,
                new AdminServiceImpl.Ops(nodeId, sloSettings)),
            EngineMetrics.ADMIN_SERVICE, metrics), AdminService.name, system),
        ServerReflection.create(List.of(AuctionService.description, EventService.description,
            AdminService.description), system));
    ServerBinding binding = Http.get(system).newServerAt(s.grpcInterface(), s.grpcPort())
        .bind(ResponseCompression.apply(handler, config))
        .toCompletableFuture().get(30, TimeUnit.SECONDS); // ok to block: start-up, on the caller's thread
    NodeState.get(system).readiness(List.of(
        new NodeState.Check(NodeState.REPLICA, () -> catalog.loaded()
            ? NodeState.Status.ok(catalog.current().campaignCount() + " campaigns")
            : NodeState.Status.failing("the catalog replica is not loaded yet")),
        new NodeState.Check(NodeState.MODEL, () -> modelStatus(ranking.models().current(), stage2AtStart.isDone(),
            java.time.Duration.ofNanos(System.nanoTime() - startedNanos), s.stage2ReadyWait())),
        new NodeState.Check(NodeState.CASSANDRA, cassandraProbe)));
    metrics.startSampling(new EngineMetrics.Sources(system, ledger, features, s.snapshotStaleAfter(), drift,
        featureLog, models), config.getDuration("adengine.metrics.sample-interval"));
    var management = PekkoManagement.get(system).start().toCompletableFuture()
        .get(30, TimeUnit.SECONDS); // ok to block: start-up, on the caller's thread
    system.log().info("adengine node {} serving gRPC on {}", nodeId, binding.localAddress());
    return new EngineNode(system, session, binding, s, catalog, ledger, nodeId, experiments, slo,
        management.port());
  }

  /**
   * The readiness check {@code model}: failing with no active model, or while the compiled stage 2
   * built at start is not ready and the node has waited less than {@code readyWait} for it; else ok,
   * saying which stage-2 path serves.
   */
  static NodeState.Status modelStatus(dev.adengine.models.scoring.CtrModel model, boolean stage2Built,
      java.time.Duration waited, java.time.Duration readyWait) {
    if (model == null) {
      return NodeState.Status.failing("no model is active");
    }
    if (!stage2Built) {
      if (waited.compareTo(readyWait) < 0) {
        return NodeState.Status.failing("serving " + model.version() + "; its compiled stage 2 is being built"
            + " (vector-stage2 = on)");
      }
      return NodeState.Status.ok("serving " + model.version() + ", stage 2 scalar while its compiled stage 2 is"
          + " built (longer than stage2-ready-wait " + readyWait.toSeconds() + " s)");
    }
    return NodeState.Status.ok("serving " + model.version() + ", stage 2 "
        + (model.stage2Vectorized() ? "compiled (" + model.stage2Path() + ")" : "scalar"));
  }

  /** The registry's active model as a node loads it at start: the model and its activation (or none). */
  private record ActiveAtStart(dev.adengine.models.scoring.CtrModel model, long seq) {}

  /**
   * Reads and loads the registry's active version; start-up only (blocks the caller, bounded by
   * {@code load-at-start-timeout}). A registry without one (a new cluster) is bootstrapped with the
   * {@code configured} model: registered and activated, so that every version a node ever serves
   * is in the registry and the first deploy can be rolled back. When the registry cannot be read
   * in time, the node starts on {@code configured} and its deployer keeps trying.
   */
  private static ActiveAtStart activeAtStart(ModelRegistry registry, LifecycleSettings ls, DriftMonitor drift,
      dev.adengine.models.scoring.CtrModel configured) {
    try {
      var active = registry.active(ModelDeployer.ACTIVE_SCOPE).toCompletableFuture()
          .get(ls.loadAtStartTimeout().toMillis(), TimeUnit.MILLISECONDS); // ok to block: start-up, on the caller's thread
      if (active.isEmpty()) {
        var boot = registry.bootstrap(configured, ls.gitCommit()).toCompletableFuture()
            .get(ls.loadAtStartTimeout().toMillis(), TimeUnit.MILLISECONDS); // ok to block: start-up, on the caller's thread
        return new ActiveAtStart(configured, boot.seq());
      }
      ModelRegistry.LoadedModel m = registry.load(active.get().version()).toCompletableFuture()
          .get(ls.loadAtStartTimeout().toMillis(), TimeUnit.MILLISECONDS); // ok to block: start-up, on the caller's thread
      if (m.reference() != null) {
        drift.reference(m.model().version(), m.reference());
      }
      return new ActiveAtStart(m.model(), active.get().seq());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new ActiveAtStart(configured, 0);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      org.slf4j.LoggerFactory.getLogger(EngineNode.class).warn("the registry's active model was not loaded at"
          + " start (serving the configured model until the deployer loads it): {}", e.toString());
      return new ActiveAtStart(configured, 0);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  private static void joinCluster(ActorSystem<?> system, Config config) {
    Cluster cluster = Cluster.get(system);
    String seeds = config.hasPath("adengine.seed-nodes") ? config.getString("adengine.seed-nodes") : "";
    List<Address> addresses = new ArrayList<>();
    for (String seed : seeds.split(",")) {
      if (!seed.isBlank()) {
        addresses.add(AddressFromURIString.parse(seed.trim()));
      }
    }
    if (!config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      return; // Pekko joins the configured seed nodes by itself
    }
    if (addresses.isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    } else {
      cluster.manager().tell(new JoinSeedNodes(addresses));
    }
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** This node incarnation's name in allowances and served records. */
  public String nodeId() {
    return nodeId;
  }

  public int grpcPort() {
    return binding.localAddress().getPort();
  }

  /** The port of Pekko Management's HTTP endpoints (/ready, /alive, /cluster/...). */
  public int managementPort() {
    return managementPort;
  }

  /** This node's SLO counts of bid outcomes. */
  public SloTracker slo() {
    return slo;
  }

  public EngineSettings settings() {
    return settings;
  }

  public Catalog catalog() {
    return catalog;
  }

  /** The experiment config this node serves and its per-arm stats. */
  public ServingExperiments experiments() {
    return experiments;
  }

  public BudgetLedger ledger() {
    return ledger;
  }

  public CqlSession session() {
    return session;
  }

  /** Unbinds gRPC, terminates the actor system and closes the Cassandra session. */
  public CompletionStage<Void> stop() {
    return binding.unbind()
        .thenCompose(done -> {
          system.terminate();
          return system.getWhenTerminated();
        })
        .thenCompose(done -> session.closeAsync())
        .thenApply(done -> (Void) null)
        .exceptionally(err -> null);
  }

}
