package dev.adengine.engine.grpc;

import com.typesafe.config.Config;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.japi.function.Function;

/**
 * Whether the node's gRPC answers are gzip-compressed ({@code adengine.grpc.compress-responses}).
 *
 * <p>Pekko gRPC compresses a response whenever the request's {@code grpc-accept-encoding} lists
 * gzip, and grpc-java clients (the Netty backend of Pekko gRPC's own client too) list it on every
 * call by default. So every bid answer, a few hundred bytes, cost a new {@code Deflater} on the
 * node and an {@code Inflater} on the client. gRPC lets a server answer uncompressed whatever the
 * client accepts (the {@code grpc-encoding} of the answer says which), and grpc-java servers do so
 * unless told otherwise. Off, the header is removed before the request reaches the handlers, so
 * they answer {@code identity}; a request the client sent compressed ({@code grpc-encoding}) is
 * still decoded.
 */
public final class ResponseCompression {
  static final String ACCEPT_ENCODING = "grpc-accept-encoding";

  private ResponseCompression() {}

  /** {@code handler} as configured by {@code adengine.grpc.compress-responses}. */
  public static Function<HttpRequest, CompletionStage<HttpResponse>> apply(
      Function<HttpRequest, CompletionStage<HttpResponse>> handler, Config config) {
    return apply(handler, config.getBoolean("adengine.grpc.compress-responses"));
  }

  /** {@code handler} itself when {@code compress}, else one that never answers compressed. */
  public static Function<HttpRequest, CompletionStage<HttpResponse>> apply(
      Function<HttpRequest, CompletionStage<HttpResponse>> handler, boolean compress) {
    if (compress) {
      return handler;
    }
    return request -> handler.apply(request.getHeader(ACCEPT_ENCODING).isPresent()
        ? request.removeHeader(ACCEPT_ENCODING)
        : request);
  }
}
