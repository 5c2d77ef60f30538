package dev.adengine.chaos.reference;

import dev.adengine.api.v1.AuctionService;
import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Reference server 2: {@code AuctionService.Bid} on plain grpc-java over Netty (the shaded
 * transport the Pekko gRPC client already brings), on grpc-java's default executor, answering
 * {@link ReferenceResponse} from memory. The fastest gRPC transport on the JVM: the practical
 * limit on this machine. The service is declared by hand from the same {@code .proto} messages
 * (method {@code adengine.v1.AuctionService/Bid}), so clients cannot tell it from the engine.
 *
 * <p>Run: {@code bin/reference-server grpc-java --port 8090} ({@link ReferenceServers}).
 */
public final class GrpcJavaReferenceServer implements AutoCloseable {
  public static final String NAME = "grpc-java";
  private final Server server;

  private GrpcJavaReferenceServer(Server server) {
    this.server = server;
  }

  public static GrpcJavaReferenceServer start(String host, int port) throws IOException {
    MethodDescriptor<BidRequest, BidResponse> bid = MethodDescriptor.<BidRequest, BidResponse>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(AuctionService.name, "Bid"))
        .setRequestMarshaller(ProtoUtils.marshaller(BidRequest.getDefaultInstance()))
        .setResponseMarshaller(ProtoUtils.marshaller(BidResponse.getDefaultInstance()))
        .build();
    ServerServiceDefinition service = ServerServiceDefinition.builder(AuctionService.name)
        .addMethod(bid, new UnaryBid())
        .build();
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port)).addService(service).build()
        .start();
    return new GrpcJavaReferenceServer(server);
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdown();
    if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
      server.shutdownNow();
    }
  }

  /** A unary call: take the one request, answer the fixed response, close OK. */
  private static final class UnaryBid implements ServerCallHandler<BidRequest, BidResponse> {
    @Override
    public ServerCall.Listener<BidRequest> startCall(ServerCall<BidRequest, BidResponse> call, Metadata headers) {
      call.request(2); // a unary client sends one message; asking for two detects a misbehaving one
      return new ServerCall.Listener<>() {
        private BidRequest request;

        @Override
        public void onMessage(BidRequest message) {
          if (request != null) {
            call.close(Status.INTERNAL.withDescription("more than one request on a unary call"), new Metadata());
            return;
          }
          request = message;
        }

        @Override
        public void onHalfClose() {
          if (request == null) {
            call.close(Status.INTERNAL.withDescription("no request"), new Metadata());
            return;
          }
          call.sendHeaders(new Metadata());
          call.sendMessage(ReferenceResponse.forRequest(request.getRequestId()));
          call.close(Status.OK, new Metadata());
        }
      };
    }
  }
}
