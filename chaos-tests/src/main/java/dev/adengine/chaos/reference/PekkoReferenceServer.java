package dev.adengine.chaos.reference;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.engine.grpc.BidRoute;
import dev.adengine.engine.grpc.ResponseCompression;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.grpc.javadsl.ServiceHandler;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.japi.function.Function;

/**
 * Reference server 1: {@code AuctionService.Bid} on the engine's own transport, Pekko gRPC on
 * Pekko HTTP/2, with the engine's transport and dispatcher settings ({@code grpc.conf} and the
 * dispatcher block of {@code cluster.conf}, without the cluster) and the engine's own request
 * handler ({@link BidRoute}), answering {@link ReferenceResponse} from memory: what the engine's
 * transport alone costs.
 *
 * <p>Run: {@code bin/reference-server pekko-grpc --port 8091} ({@link ReferenceServers}).
 */
public final class PekkoReferenceServer implements AutoCloseable {
  public static final String NAME = "pekko-grpc";
  private final ActorSystem<Void> system;
  private final ServerBinding binding;

  private PekkoReferenceServer(ActorSystem<Void> system, ServerBinding binding) {
    this.system = system;
    this.binding = binding;
  }

  /**
   * The engine's transport configuration with a local (non-cluster) actor provider; JVM system
   * properties ({@code -Dpekko...}) override it, so the benchmark can try other settings.
   */
  static Config config() {
    return ConfigFactory.systemProperties().withFallback(ConfigFactory.parseString("""
            pekko.actor.provider = local
            pekko.loglevel = WARNING
            pekko.coordinated-shutdown.exit-jvm = off
            """)
        .withFallback(ConfigFactory.parseResources("grpc.conf"))
        .withFallback(ConfigFactory.parseResources("cluster.conf"))
        .withFallback(ConfigFactory.defaultReference()))
        .resolve();
  }

  public static PekkoReferenceServer start(String host, int port) throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "reference", config());
    AuctionService impl = new AuctionService() {
      @Override
      public CompletionStage<BidResponse> bid(BidRequest in) {
        return CompletableFuture.completedFuture(ReferenceResponse.forRequest(in.getRequestId()));
      }
    };
    Config config = system.settings().config();
    @SuppressWarnings("unchecked")
    Function<HttpRequest, CompletionStage<HttpResponse>> handler = ServiceHandler.concatOrNotFound(
        BidRoute.partial(impl, BidRoute.mode(config), system));
    ServerBinding binding = Http.get(system).newServerAt(host, port)
        .bind(ResponseCompression.apply(handler, config))
        .toCompletableFuture().get(30, TimeUnit.SECONDS); // start-up, on the caller's thread
    return new PekkoReferenceServer(system, binding);
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  @Override
  public void close() throws Exception {
    binding.terminate(Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
