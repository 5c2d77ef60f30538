package dev.adengine.chaos.harness;

import dev.adengine.api.v1.BidRequest;
import dev.adengine.api.v1.BidResponse;
import dev.adengine.api.v1.Device;
import dev.adengine.api.v1.Event;
import dev.adengine.api.v1.EventAck;
import dev.adengine.api.v1.EventBatch;
import dev.adengine.api.v1.EventType;
import dev.adengine.api.v1.NoBid;
import dev.adengine.api.v1.NoBidReason;
import dev.adengine.api.v1.Winner;
import dev.adengine.api.v1.AuctionServiceClient;
import dev.adengine.api.v1.EventServiceClient;
import dev.adengine.api.v1.Placement;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A publisher's traffic against a set of live nodes, and its own books of what happened.
 *
 * <p>Bids go round-robin over the live nodes at a fixed rate. For every winner an IMPRESSION is
 * reported 50-400 ms later (when the page shows it), and with {@code clickProbability} a CLICK up to 2.5 s later, each to a
 * random live node (not necessarily the one that served). A share of events is resent with the
 * same event id to another random node, half of them at the same moment as the original. A report
 * that fails in transport (a dead node, a deadline) or is answered "temporarily unable ... retry"
 * is retried at another live node, as a publisher would: its outcome was unknown.
 *
 * <p>Every report's outcome is kept per event id, and every winner with the node that served it
 * and its price.
 */
public final class BillingTraffic {
  /**
   * Retries of a report whose outcome is unknown: about 16 s in all, longer than the cluster takes
   * to down a killed node (after which clicks on its ads are accepted), shorter than the click window.
   */
  public static final int MAX_ATTEMPTS = 12;

  /** A node the publisher sends bids and events to, by name, with its gRPC clients. */
  public interface Target {
    String name();

    AuctionServiceClient auction();

    EventServiceClient events();
  }

  /** A winner as the publisher saw it, with the node that served it. */
  public record Win(String requestId, String adId, String campaignId, long priceMicros, String servedBy, long atMs) {}

  public enum Outcome {
    ACCEPTED,
    DUPLICATE,
    REJECTED,
    /** Transport failure: the outcome is unknown, the event may have been stored. */
    FAILED
  }

  /** One report of one event to one node, and what came of it. */
  public record Report(String eventId, String node, Outcome outcome, String reason, long sentMs, long answeredMs) {}

  /** An event the publisher reports, with the win it refers to. */
  public record Sent(Event event, Win win) {}

  private final Supplier<? extends List<? extends Target>> live;
  private final List<String> destinations;
  private final int bidsPerSecond;
  private final double clickProbability;
  private final double resendProbability;
  private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2, r -> {
    Thread t = new Thread(r, "billing-traffic");
    t.setDaemon(true);
    return t;
  });
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicLong requestSeq = new AtomicLong();
  private final AtomicLong roundRobin = new AtomicLong();
  private volatile ScheduledFuture<?> bidding;

  public final AtomicLong bidsSent = new AtomicLong();
  public final AtomicLong bidsAnswered = new AtomicLong();
  public final Map<String, AtomicLong> bidFailures = new ConcurrentHashMap<>();
  public final Map<String, Win> wins = new ConcurrentHashMap<>();
  public final Map<String, Sent> events = new ConcurrentHashMap<>();
  public final Map<String, ConcurrentLinkedQueue<Report>> reports = new ConcurrentHashMap<>();
  public final Set<String> resent = ConcurrentHashMap.newKeySet();
  public final Map<String, Long> lastWinMs = new ConcurrentHashMap<>();
  public final Set<String> reportedExhausted = ConcurrentHashMap.newKeySet();
  /** The last reason each campaign lost a bid for (debug no-bids). */
  public final Map<String, NoBidReason> lastNoBid = new ConcurrentHashMap<>();
  /** Clicks scheduled but not yet reported, by the node that served their ad. */
  private final Map<String, AtomicInteger> clicksDue = new ConcurrentHashMap<>();

  public BillingTraffic(Supplier<? extends List<? extends Target>> live, List<String> destinations, int bidsPerSecond, double clickProbability,
      double resendProbability) {
    this.live = live;
    this.destinations = destinations;
    this.bidsPerSecond = bidsPerSecond;
    this.clickProbability = clickProbability;
    this.resendProbability = resendProbability;
  }

  public void start() {
    bidding = timer.scheduleAtFixedRate(this::bidOnce, 0, 1_000_000 / bidsPerSecond, TimeUnit.MICROSECONDS);
  }

  /** Stops bidding, then waits until every scheduled event, resend and retry has been answered. */
  public void stop(Duration max) {
    bidding.cancel(false);
    long deadline = System.nanoTime() + max.toNanos();
    while (pending.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    timer.shutdownNow();
    if (pending.get() > 0) {
      throw new IllegalStateException(pending.get() + " reports still outstanding after " + max);
    }
  }

  /** Runs {@code task} every {@code period} on the traffic's timer until {@link #stop}. */
  public void every(Duration period, Runnable task) {
    timer.scheduleWithFixedDelay(() -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        System.out.println("periodic task failed: " + e);
      }
    }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void bidOnce() {
    List<? extends Target> nodes = live.get();
    if (nodes.isEmpty()) {
      return;
    }
    Target node = nodes.get((int) Math.floorMod(roundRobin.getAndIncrement(), (long) nodes.size()));
    ThreadLocalRandom r = ThreadLocalRandom.current();
    String requestId = "rq-" + requestSeq.incrementAndGet();
    BidRequest request = BidRequest.newBuilder().setRequestId(requestId).setUserId("user-" + requestId)
        .setDestination(destinations.get(r.nextInt(destinations.size())))
        .setDevice(r.nextBoolean() ? Device.DESKTOP : Device.MOBILE).setPlacement(Placement.SEARCH_RESULTS)
        .setSlots(3).setTmaxMs(100).setCheckin("2027-03-01").setNights(2).setDebug(true).build();
    bidsSent.incrementAndGet();
    pending.incrementAndGet();
    try {
      node.auction().bid(request).whenComplete((response, err) -> {
        try {
          if (err != null) {
            bidFailures.computeIfAbsent(node.name() + ": " + status(err), k -> new AtomicLong()).incrementAndGet();
          } else {
            bidsAnswered.incrementAndGet();
            onBid(node, response);
          }
        } finally {
          pending.decrementAndGet();
        }
      });
    } catch (RuntimeException e) {
      pending.decrementAndGet();
      bidFailures.computeIfAbsent(node.name() + ": " + status(e), k -> new AtomicLong()).incrementAndGet();
    }
  }

  private void onBid(Target node, BidResponse response) {
    long now = System.currentTimeMillis();
    for (NoBid nb : response.getNoBidsList()) {
      lastNoBid.put(nb.getCampaignId(), nb.getReason());
      if (nb.getReason() == NoBidReason.BUDGET_EXHAUSTED) {
        reportedExhausted.add(nb.getCampaignId());
      }
    }
    ThreadLocalRandom r = ThreadLocalRandom.current();
    for (Winner w : response.getWinnersList()) {
      Win win = new Win(response.getRequestId(), w.getAdId(), w.getCampaignId(), w.getPriceMicros(), node.name(), now);
      wins.put(win.requestId() + "/" + win.adId(), win);
      lastWinMs.merge(win.campaignId(), now, Math::max);
      long shown = r.nextLong(50, 400);
      send(event(win, EventType.IMPRESSION, "imp", now + shown), shown);
      if (r.nextDouble() < clickProbability) {
        long delay = r.nextLong(300, 2500);
        AtomicInteger due = clicksDue.computeIfAbsent(node.name(), k -> new AtomicInteger());
        due.incrementAndGet();
        pending.incrementAndGet();
        timer.schedule(() -> {
          due.decrementAndGet();
          pending.decrementAndGet();
        }, delay, TimeUnit.MILLISECONDS);
        send(event(win, EventType.CLICK, "clk", now + delay), delay);
      }
    }
  }

  /** Clicks on ads {@code node} served that are not reported yet. */
  public int clicksDue(String node) {
    AtomicInteger due = clicksDue.get(node);
    return due == null ? 0 : due.get();
  }

  private Sent event(Win win, EventType type, String suffix, long timeMs) {
    Event e = Event.newBuilder().setEventId("ev-" + win.requestId() + "-" + win.adId() + "-" + suffix)
        .setRequestId(win.requestId()).setAdId(win.adId()).setCampaignId(win.campaignId()).setType(type)
        .setTimeMs(timeMs).build();
    Sent sent = new Sent(e, win);
    events.put(e.getEventId(), sent);
    return sent;
  }

  /** Schedules the event's report, and with {@code resendProbability} a second report of it. */
  private void send(Sent sent, long delayMs) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    schedule(sent, 1, null, delayMs);
    if (r.nextDouble() < resendProbability) {
      resent.add(sent.event().getEventId());
      schedule(sent, 1, null, r.nextBoolean() ? delayMs : delayMs + r.nextLong(100, 1500));
    }
  }

  private void schedule(Sent sent, int attempt, String avoid, long delayMs) {
    pending.incrementAndGet();
    timer.schedule(() -> {
      try {
        report(sent, attempt, avoid);
      } finally {
        pending.decrementAndGet();
      }
    }, delayMs, TimeUnit.MILLISECONDS);
  }

  private void report(Sent sent, int attempt, String avoid) {
    List<? extends Target> nodes = live.get().stream().filter(n -> !n.name().equals(avoid)).toList();
    if (nodes.isEmpty()) {
      nodes = live.get();
    }
    if (nodes.isEmpty()) {
      return;
    }
    Target node = nodes.get(ThreadLocalRandom.current().nextInt(nodes.size()));
    String id = sent.event().getEventId();
    long sentMs = System.currentTimeMillis();
    pending.incrementAndGet();
    try {
      node.events().report(EventBatch.newBuilder().addEvents(sent.event()).build()).whenComplete((ack, err) -> {
        try {
          onAck(sent, attempt, node, sentMs, ack, err);
        } finally {
          pending.decrementAndGet();
        }
      });
    } catch (RuntimeException e) {
      pending.decrementAndGet();
      onAck(sent, attempt, node, sentMs, null, e);
    }
  }

  private void onAck(Sent sent, int attempt, Target node, long sentMs, EventAck ack, Throwable err) {
    String id = sent.event().getEventId();
    long now = System.currentTimeMillis();
    Report report;
    boolean retry;
    if (err != null) {
      report = new Report(id, node.name(), Outcome.FAILED, status(err), sentMs, now);
      retry = true;
    } else if (ack.getAccepted() == 1) {
      report = new Report(id, node.name(), Outcome.ACCEPTED, null, sentMs, now);
      retry = false;
    } else if (ack.getDuplicate() == 1) {
      report = new Report(id, node.name(), Outcome.DUPLICATE, null, sentMs, now);
      retry = false;
    } else {
      String reason = ack.getRejectionsCount() > 0 ? ack.getRejections(0).getReason() : "no outcome in ack " + ack;
      report = new Report(id, node.name(), Outcome.REJECTED, reason, sentMs, now);
      retry = reason.startsWith("temporarily");
    }
    reports.computeIfAbsent(id, k -> new ConcurrentLinkedQueue<>()).add(report);
    if (retry && attempt < MAX_ATTEMPTS) {
      schedule(sent, attempt + 1, node.name(), Math.min(2_000L, 300L * attempt));
    }
  }

  private static String status(Throwable err) {
    Throwable c = err;
    while (c.getCause() != null && !(c instanceof StatusRuntimeException)) {
      c = c.getCause();
    }
    return c instanceof StatusRuntimeException s ? s.getStatus().getCode().name() : c.getClass().getSimpleName();
  }
}
