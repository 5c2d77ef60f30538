package dev.adengine.engine.grpc;

import dev.adengine.api.v1.EventAck;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventService;
import dev.adengine.engine.events.EventIngest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;

/**
 * Translates Report calls to the event path and back. A node whose catalog replica is not loaded
 * yet answers a well-formed batch UNAVAILABLE ({@link GrpcErrors#catalogNotLoaded}) rather than
 * rejecting its events as naming unknown ads: the events are valid, and the client keeps them.
 */
public final class EventServiceImpl implements EventService {
  private final EventIngest ingest;
  private final int maxBatch;
  private final BooleanSupplier catalogLoaded;

  public EventServiceImpl(EventIngest ingest, int maxBatch, BooleanSupplier catalogLoaded) {
    this.ingest = ingest;
    this.maxBatch = maxBatch;
    this.catalogLoaded = catalogLoaded;
  }

  @Override
  public CompletionStage<EventAck> report(EventBatch in) {
    if (in.getEventsCount() == 0) {
      return CompletableFuture.failedFuture(GrpcErrors.convertError(new InvalidArgument("events", "is empty")));
    }
    if (in.getEventsCount() > maxBatch) {
      return CompletableFuture.failedFuture(GrpcErrors.convertError(
          new InvalidArgument("events", "holds " + in.getEventsCount() + " events, at most " + maxBatch)));
    }
    if (!catalogLoaded.getAsBoolean()) {
      return CompletableFuture.failedFuture(GrpcErrors.catalogNotLoaded());
    }
    return ingest.report(in).exceptionallyCompose(t -> CompletableFuture.failedFuture(GrpcErrors.convertError(t)));
  }
}
