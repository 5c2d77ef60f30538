package dev.adengine.engine.metrics;

import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.engine.grpc.GrpcErrors;
import dev.adengine.engine.grpc.TimedAuctionService;
import dev.adengine.engine.slo.SloTracker;
import io.grpc.Status;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * gRPC service implementations wrapped so that every answer is counted by service, method and
 * status code ({@code adengine_grpc_responses_total}), and Bid's latency is timed: Bid by a
 * hand-written wrapper (the hot path: no reflection, one completion callback), the other services by
 * a {@link Proxy} (their calls are few). Calls that never reach the implementation (a request that
 * cannot be unmarshalled, an unknown method) are not counted.
 */
public final class MeteredServices {
  private MeteredServices() {}

  /**
   * {@code service} with each Bid timed from when the server received it ({@link
   * TimedAuctionService}: as the request came off the connection, so a wait for a thread counts)
   * to its answer (the response built, before marshalling), and counted by outcome and status
   * code; the same outcome and time feed the SLO tracker, from the one completion callback.
   */
  public static TimedAuctionService auction(AuctionService service, EngineMetrics metrics, SloTracker slo) {
    TimedAuctionService timed = TimedAuctionService.of(service);
    return new TimedAuctionService() {
      @Override
      public CompletionStage<BidResponse> bid(BidRequest in, long start, long callerTimeoutNanos) {
        CompletionStage<BidResponse> answer;
        try {
          answer = timed.bid(in, start, callerTimeoutNanos);
        } catch (RuntimeException e) {
          answered(in, start, null, e);
          throw e;
        }
        return answer.whenComplete((response, error) -> answered(in, start, response, error));
      }

      private void answered(BidRequest in, long start, BidResponse response, Throwable error) {
        long nanos = System.nanoTime() - start;
        Status.Code code = GrpcErrors.codeOf(error);
        metrics.bidAnswered(in.getPlacementValue(), nanos, response, code);
        slo.record(code, nanos);
      }
    };
  }

  /**
   * {@code impl} behind a proxy of {@code api} that counts each call's answer under {@code
   * service} and the gRPC method name (the Java method's name with its first letter upper-cased,
   * as the proto spells it).
   */
  public static <T> T counted(Class<T> api, T impl, String service, EngineMetrics metrics) {
    Map<Method, EngineMetrics.ResponseCounters> counters = new HashMap<>();
    for (Method m : api.getMethods()) {
      if (CompletionStage.class.isAssignableFrom(m.getReturnType())) {
        counters.put(m, metrics.responses(service, Character.toUpperCase(m.getName().charAt(0))
            + m.getName().substring(1)));
      }
    }
    InvocationHandler handler = (proxy, method, args) -> {
      EngineMetrics.ResponseCounters c = counters.get(method);
      Object result;
      try {
        result = method.invoke(impl, args);
      } catch (InvocationTargetException e) {
        if (c != null) {
          c.count(e.getCause());
        }
        throw e.getCause();
      }
      if (c != null && result instanceof CompletionStage<?> stage) {
        return stage.whenComplete((ok, error) -> c.count(error));
      }
      return result;
    };
    return api.cast(Proxy.newProxyInstance(api.getClassLoader(), new Class<?>[] {api}, handler));
  }
}
