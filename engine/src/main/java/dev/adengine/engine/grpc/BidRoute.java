package dev.adengine.engine.grpc;

import com.typesafe.config.Config;
import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.AuctionServiceHandlerFactory;
import dev.adengine.api.v1.BidRequest;
import java.util.Iterator;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.grpc.GrpcProtocol.GrpcProtocolReader;
import org.apache.pekko.grpc.javadsl.GrpcExceptionHandler;
import org.apache.pekko.grpc.javadsl.GrpcMarshalling;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SystemMaterializer;

/**
 * {@code AuctionService}'s request handler with the thread that runs {@code Bid} chosen here,
 * instead of by accident.
 *
 * <p>The handler Pekko gRPC generates ({@code AuctionServiceHandlerFactory}) composes the service
 * call on the unmarshalled request with {@code thenCompose}. That stage is a Scala future converted
 * to a {@code CompletableFuture}, which turns every non-async composition into an async one on the
 * JDK common pool ("so that completions cannot hold the Scala future's completer hostage"): each
 * request hops from the HTTP/2 connection's stream actor to a common-pool thread and back, a thread
 * wake-up each way (shared/STACK.md measured thread switches as most of the transport's CPU on this
 * VM). This handler does the same unmarshal, call, marshal and error mapping for {@code Bid}, with
 * the call run by a configured executor ({@link Mode}), and hands every other method to the
 * generated handler.
 *
 * <p>The modes are honest choices with different costs, which {@code bin/bench} measures
 * ({@code --variants}): {@link Mode#BID_POOL} (the default) hops to a pool of the engine's own, one
 * thread per core; {@link Mode#CALLING_THREAD} saves the hops, but runs the bid on the stream
 * actor's thread, so one connection's bids run one at a time (nothing on the bid path blocks, so
 * this costs only parallelism); {@link Mode#COMMON_POOL} is the generated handler's behaviour. The
 * Pekko gRPC reference server of the benchmark uses this same handler, so it measures the engine's
 * transport, not another one.
 *
 * <p>Why not the common pool: on JDK 17 its workers erase their thread locals after each task they
 * take (a common-pool worker is created with {@code clearThreadLocals}), so the bid path's per-thread
 * buffers (ranking's feature rows and the stage-2 scratch, {@code RankingPool}, {@code CtrModel})
 * were made again for about every bid: ~45% of the engine's allocation at 1,000 requests/s in the
 * JFR profile of {@code bin/bench} (docs/benchmarks/analysis.md). A pool of one's own keeps them.
 *
 * <p>The clock is read as the request comes off the connection, before the hop, and handed to a
 * {@link TimedAuctionService} with the caller's deadline ({@code grpc-timeout}): when the executor
 * is saturated, bids queue there, and the engine counts that wait against each bid's {@code
 * tmax_ms} and drops the bids whose caller gave up meanwhile ({@link AuctionServiceImpl}).
 */
public final class BidRoute {
  /** Where {@code Bid} runs once its request is unmarshalled. */
  public enum Mode {
    /** On the thread that completed the unmarshalling: the connection's stream actor. */
    CALLING_THREAD,
    /** On the JDK common pool, as the generated handler does (its workers drop their thread locals). */
    COMMON_POOL,
    /** On {@link #bidPool()}: the engine's own pool, whose threads keep their thread locals. */
    BID_POOL;

    static Mode parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "adengine.grpc.bid-executor must be bid-pool, calling-thread or common-pool: " + value, e);
      }
    }

    Executor executor() {
      return switch (this) {
        case CALLING_THREAD -> Runnable::run;
        case COMMON_POOL -> ForkJoinPool.commonPool();
        case BID_POOL -> bidPool();
      };
    }
  }

  /**
   * The threads {@link Mode#BID_POOL} runs bids on, shared by every server of this JVM: a
   * {@link ForkJoinPool} in FIFO (async) mode with one worker per available processor (what {@link
   * Runtime#availableProcessors()} says: the machine's cores, a container's limit or {@code
   * -XX:ActiveProcessorCount}), daemon threads named {@code adengine-bid-N}. Nothing on the bid path
   * blocks, so more threads than cores would only add switches.
   */
  public static ForkJoinPool bidPool() {
    return BidPool.POOL;
  }

  private static final class BidPool {
    static final ForkJoinPool POOL = new ForkJoinPool(Runtime.getRuntime().availableProcessors(), pool -> {
      ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
      t.setName("adengine-bid-" + t.getPoolIndex());
      return t;
    }, (thread, error) -> org.slf4j.LoggerFactory.getLogger(BidRoute.class)
        .error("uncaught on {}", thread.getName(), error), true);
  }

  private static final String BID = "Bid";
  private static final String GRPC_TIMEOUT = "grpc-timeout";
  private static final CompletionStage<HttpResponse> UNSUPPORTED_MEDIA_TYPE = CompletableFuture.completedFuture(
      HttpResponse.create().withStatus(StatusCodes.UNSUPPORTED_MEDIA_TYPE));

  private BidRoute() {}

  /** The mode configured at {@code adengine.grpc.bid-executor}. */
  public static Mode mode(Config config) {
    return Mode.parse(config.getString("adengine.grpc.bid-executor"));
  }

  /**
   * A partial handler for {@code AuctionService} (for {@code ServiceHandler.concatOrNotFound}):
   * {@code Bid} as described above, anything else of the service by the generated handler, requests
   * for other services not matched.
   */
  public static Function<HttpRequest, CompletionStage<HttpResponse>> partial(AuctionService service, Mode mode,
      ClassicActorSystemProvider system) {
    return partial(service, mode, system, SystemMaterializer.get(system).materializer());
  }

  /** As above, with the materializer that streamed request entities are read with. */
  static Function<HttpRequest, CompletionStage<HttpResponse>> partial(AuctionService service, Mode mode,
      ClassicActorSystemProvider system, Materializer mat) {
    return partial(service, mode.executor(), system, mat);
  }

  /**
   * As above, with the executor that runs each bid. A {@link TimedAuctionService} is told when the
   * request came off the connection, before the hop to {@code executor}.
   */
  static Function<HttpRequest, CompletionStage<HttpResponse>> partial(AuctionService service, Executor executor,
      ClassicActorSystemProvider system, Materializer mat) {
    Function<HttpRequest, CompletionStage<HttpResponse>> generated =
        AuctionServiceHandlerFactory.partial(service, AuctionService.name, system);
    TimedAuctionService timed = TimedAuctionService.of(service);
    var errors = GrpcExceptionHandler.defaultMapper();
    return request -> {
      Iterator<String> segments = request.getUri().pathSegments().iterator();
      if (!(segments.hasNext() && segments.next().equals(AuctionService.name) && segments.hasNext()
          && segments.next().equals(BID) && !segments.hasNext())) {
        return generated.apply(request);
      }
      long receivedNanos = System.nanoTime();
      long callerTimeoutNanos = callerTimeoutNanos(request);
      return GrpcMarshalling.negotiated(request, (reader, writer) ->
              unmarshal(request.entity(), reader, mat)
                  .thenComposeAsync(in -> timed.bid(in, receivedNanos, callerTimeoutNanos), executor)
                  .thenApply(response -> GrpcMarshalling.marshal(response,
                      AuctionService.Serializers.BidResponseSerializer, writer, system, errors))
                  .exceptionally(e -> GrpcExceptionHandler.standard(e, errors, writer, system)))
          .orElseGet(() -> UNSUPPORTED_MEDIA_TYPE);
    };
  }

  /**
   * The caller's deadline, from its {@code grpc-timeout} header (the gRPC over HTTP/2 protocol: at
   * most 8 digits and a unit, {@code H M S m u n}), in nanoseconds from now; {@link
   * TimedAuctionService#NO_TIMEOUT} when there is none or it is malformed (then the caller is
   * served as one without a deadline, never refused for it).
   */
  static long callerTimeoutNanos(HttpRequest request) {
    Optional<HttpHeader> header = request.getHeader(GRPC_TIMEOUT);
    return header.isPresent() ? parseTimeoutNanos(header.get().value()) : TimedAuctionService.NO_TIMEOUT;
  }

  /** A {@code grpc-timeout} value in nanoseconds, or {@link TimedAuctionService#NO_TIMEOUT} when malformed. */
  static long parseTimeoutNanos(String value) {
    int n = value.length();
    if (n < 2 || n > 9) {
      return TimedAuctionService.NO_TIMEOUT;
    }
    long amount = 0;
    for (int i = 0; i < n - 1; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return TimedAuctionService.NO_TIMEOUT;
      }
      amount = amount * 10 + (c - '0');
    }
    TimeUnit unit = switch (value.charAt(n - 1)) {
      case 'H' -> TimeUnit.HOURS;
      case 'M' -> TimeUnit.MINUTES;
      case 'S' -> TimeUnit.SECONDS;
      case 'm' -> TimeUnit.MILLISECONDS;
      case 'u' -> TimeUnit.MICROSECONDS;
      case 'n' -> TimeUnit.NANOSECONDS;
      default -> null;
    };
    return unit == null ? TimedAuctionService.NO_TIMEOUT : unit.toNanos(amount);
  }

  /**
   * The request, decoded from a strict entity in place, or by Pekko gRPC's stream otherwise.
   *
   * <p>With {@code pekko.http.server.http2.min-collect-strict-entity-size = 1} (grpc.conf) a request
   * whose body came in one DATA frame (as the grpc-java clients send a unary call) arrives as a
   * strict entity. Pekko gRPC 1.1.1's {@code GrpcMarshalling.unmarshal} still runs a stream over it:
   * a materialization per request, with an actor created, started and stopped for it. Decoding the
   * one frame here gives the same request, or the same failure (mapped to a status by the caller),
   * without it.
   */
  static CompletionStage<BidRequest> unmarshal(HttpEntity entity, GrpcProtocolReader reader, Materializer mat) {
    if (entity instanceof HttpEntity.Strict strict && !strict.getData().isEmpty()) {
      try {
        return CompletableFuture.completedFuture(AuctionService.Serializers.BidRequestSerializer.deserialize(
            reader.decodeSingleFrame().apply(strict.getData())));
      } catch (Throwable t) {
        // A truncated frame throws Pekko gRPC's MissingParameterException, a Throwable that is no
        // Exception (the generated handler maps it to INVALID_ARGUMENT); errors are not ours to map.
        if (t instanceof Error e) {
          throw e;
        }
        return CompletableFuture.failedFuture(t);
      }
    }
    return GrpcMarshalling.unmarshal(entity, AuctionService.Serializers.BidRequestSerializer, mat, reader);
  }
}
