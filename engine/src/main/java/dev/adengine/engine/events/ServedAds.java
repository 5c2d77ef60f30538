package dev.adengine.engine.events;

import com.datastax.oss.driver.api.core.cql.BoundStatement;
import dev.adengine.persistence.ChargeRepository;
import dev.adengine.persistence.ChargeRepository.Charge;
import dev.adengine.persistence.ServedRepository;
import dev.adengine.persistence.ServedRepository.ServedAd;
import dev.adengine.persistence.StatementBatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What this node served, so that events can be checked against it: a bounded local cache for
 * the recent past, and Cassandra (written after the reply, never waited on by the bid path) for
 * events that arrive at another node or after the cache evicted the record.
 *
 * <p>The Cassandra writes are bounded: when the writes of {@code maxInFlight} requests are
 * outstanding, further records stay local only and are counted in {@link #droppedWrites()}. A CPM
 * charge dropped that way is still in this node's ledger and reports; only if the node then dies is
 * it missing from the durable log its grant is settled from (the advertiser is then not billed for
 * it either).
 *
 * <p>The writes of several requests go to Cassandra together through a {@link StatementBatcher}
 * ({@code adengine.served.write-linger}, {@code write-batch-statements}): one request to Cassandra
 * per few answered bids instead of one or more per bid.
 */
public final class ServedAds {
  private final ServedRepository repository;
  private final ChargeRepository charges;
  private final StatementBatcher writes;
  private final int capacity;
  private final int maxInFlight;
  private final ConcurrentHashMap<String, ServedAd> recent = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
  private final AtomicInteger size = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong droppedWrites = new AtomicLong();
  private final AtomicLong failedWrites = new AtomicLong();

  /**
   * @param writes where the served records and charges go (its linger is how much later than the
   *     reply they may be durable)
   */
  public ServedAds(ServedRepository repository, ChargeRepository charges, StatementBatcher writes, int capacity,
      int maxInFlight) {
    this.repository = repository;
    this.charges = charges;
    this.writes = writes;
    this.capacity = capacity;
    this.maxInFlight = maxInFlight;
  }

  /**
   * Records the served ads of one request locally and queues their Cassandra writes with the
   * charges of its CPM wins (empty for none), all in the same batch; never blocks. The request's
   * writes take one in-flight slot; when none is free they stay local only and every ad counts in
   * {@link #droppedWrites()}.
   */
  public void recordAll(List<ServedAd> ads, List<Charge> winCharges) {
    for (ServedAd served : ads) {
      String key = key(served.requestId(), served.adId());
      if (recent.put(key, served) == null) {
        order.add(key);
        if (size.incrementAndGet() > capacity) {
          String oldest = order.poll();
          if (oldest != null && recent.remove(oldest) != null) {
            size.decrementAndGet();
          }
        }
      }
    }
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      droppedWrites.addAndGet(ads.size());
      return;
    }
    List<BoundStatement> statements = new ArrayList<>(ads.size() + winCharges.size());
    for (ServedAd served : ads) {
      statements.add(repository.statement(served));
    }
    for (Charge charge : winCharges) {
      statements.add(charges.statement(charge));
    }
    writes.add(statements).whenComplete((ok, err) -> {
      inFlight.decrementAndGet();
      if (err != null) {
        failedWrites.incrementAndGet();
      }
    });
  }

  /** Finds what was served for (request, ad): the local cache first, then Cassandra. */
  public CompletionStage<Optional<ServedAd>> find(String requestId, String adId) {
    ServedAd local = recent.get(key(requestId, adId));
    if (local != null) {
      return CompletableFuture.completedFuture(Optional.of(local));
    }
    return repository.find(requestId, adId);
  }

  public long droppedWrites() {
    return droppedWrites.get();
  }

  public long failedWrites() {
    return failedWrites.get();
  }

  private static String key(String requestId, String adId) {
    return requestId + '\u0000' + adId;
  }
}
