package dev.adengine.engine.grpc;

import dev.adengine.api.v1.EventAck;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventService;
import dev.adengine.engine.events.EventIngest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Translates Report calls to the event path and back. */
public final class EventServiceImpl implements EventService {
  private final EventIngest ingest;
  private final int maxBatch;

  public EventServiceImpl(EventIngest ingest, int maxBatch) {
    this.ingest = ingest;
    this.maxBatch = maxBatch;
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
    return ingest.report(in).exceptionallyCompose(t -> CompletableFuture.failedFuture(GrpcErrors.convertError(t)));
  }
}
