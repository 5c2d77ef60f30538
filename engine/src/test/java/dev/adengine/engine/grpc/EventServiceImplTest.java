package dev.adengine.engine.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventAck;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventType;
import io.grpc.Status;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The event service's edge on a node whose catalog replica is not loaded: a well-formed batch is
 * answered UNAVAILABLE (its events are valid and the client keeps them), never rejected event by
 * event as naming unknown ads; a malformed batch is still named. The ingest behind it (null here)
 * is never reached.
 */
class EventServiceImplTest {

  private static Throwable failure(CompletionStage<EventAck> answer) {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> answer.toCompletableFuture().get(5, TimeUnit.SECONDS));
    return e.getCause();
  }

  @Test
  void shouldAnswerUnavailableForAWellFormedBatchWhileTheCatalogIsNotLoaded() {
    EventServiceImpl service = new EventServiceImpl(null, 10, () -> false);
    Event click = Event.newBuilder().setEventId("ev-1").setRequestId("rq-1").setAdId("ad-1").setCampaignId("c-1")
        .setType(EventType.CLICK).setTimeMs(System.currentTimeMillis()).build();

    Throwable t = failure(service.report(EventBatch.newBuilder().addEvents(click).build()));

    assertEquals(Status.Code.UNAVAILABLE, GrpcErrors.codeOf(t));
    assertTrue(t.getMessage().contains("catalog replica is not loaded"), t.getMessage());
  }

  @Test
  void shouldStillNameAnEmptyBatchWhileTheCatalogIsNotLoaded() {
    EventServiceImpl service = new EventServiceImpl(null, 10, () -> false);

    Throwable t = failure(service.report(EventBatch.getDefaultInstance()));

    assertEquals(Status.Code.INVALID_ARGUMENT, GrpcErrors.codeOf(t));
    assertTrue(t.getMessage().contains("events"), t.getMessage());
  }
}
