package dev.adengine.engine.sim;

import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventAck;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventService;
import dev.adengine.api.v1.Rejection;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Batches events and sends them through {@code EventService.Report} asynchronously. Bounded: at
 * most {@code maxQueued} events wait (an offer beyond is dropped and counted) and at most
 * {@code maxInFlightBatches} reports are outstanding.
 */
final class EventReporter {

  static final int MAX_BATCH = 1_000;

  private final EventService events;
  private final SimStats stats;
  private final int batchSize;
  private final int maxQueued;
  private final int maxInFlightBatches;
  private final ConcurrentLinkedQueue<Event> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicInteger inFlightBatches = new AtomicInteger();

  EventReporter(EventService events, SimStats stats, int batchSize, int maxQueued, int maxInFlightBatches) {
    if (batchSize < 1 || batchSize > MAX_BATCH) {
      throw new IllegalArgumentException("batch size in 1.." + MAX_BATCH + ": " + batchSize);
    }
    this.events = events;
    this.stats = stats;
    this.batchSize = batchSize;
    this.maxQueued = maxQueued;
    this.maxInFlightBatches = maxInFlightBatches;
  }

  /** Queues an event for the next batch; false (and counted as dropped) when the queue is full. */
  boolean offer(Event event) {
    if (queued.incrementAndGet() > maxQueued) {
      queued.decrementAndGet();
      stats.eventsDropped.increment();
      return false;
    }
    queue.add(event);
    return true;
  }

  /** Sends full or partial batches while report slots are free. Called periodically. */
  synchronized void flush() {
    while (!queue.isEmpty() && inFlightBatches.get() < maxInFlightBatches) {
      EventBatch.Builder batch = EventBatch.newBuilder();
      Event e;
      while (batch.getEventsCount() < batchSize && (e = queue.poll()) != null) {
        queued.decrementAndGet();
        batch.addEvents(e);
      }
      if (batch.getEventsCount() == 0) {
        return;
      }
      send(batch.build());
    }
  }

  private void send(EventBatch batch) {
    inFlightBatches.incrementAndGet();
    stats.eventsSent.add(batch.getEventsCount());
    try {
      events.report(batch).whenComplete((ack, error) -> {
        inFlightBatches.decrementAndGet();
        if (error != null) {
          stats.recordEventBatchError(error);
        } else {
          tally(ack);
        }
      });
    } catch (RuntimeException error) {
      inFlightBatches.decrementAndGet();
      stats.recordEventBatchError(error);
    }
  }

  private void tally(EventAck ack) {
    stats.eventsAccepted.add(ack.getAccepted());
    stats.eventsDuplicate.add(ack.getDuplicate());
    stats.eventsRejected.add(ack.getRejected());
    for (Rejection r : ack.getRejectionsList()) {
      stats.recordRejection(r.getReason());
    }
  }

  /**
   * Flushes until nothing is queued or outstanding, or {@code timeout} passes; what is still
   * queued then counts as dropped.
   */
  void drain(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while ((!queue.isEmpty() || inFlightBatches.get() > 0) && System.nanoTime() < deadline) {
      flush();
      Thread.sleep(20); // ok to block: the simulator's own driver thread, not an actor or handler
    }
    Event e;
    while ((e = queue.poll()) != null) {
      queued.decrementAndGet();
      stats.eventsDropped.increment();
    }
  }

  int inFlightBatches() {
    return inFlightBatches.get();
  }
}
