package dev.adengine.engine.sim;

import dev.adengine.api.v1.AdminService;
import dev.adengine.api.v1.Advertiser;
import dev.adengine.api.v1.Campaign;
import dev.adengine.api.v1.ClusterStatusRequest;
import dev.adengine.api.v1.ClusterStatusResponse;
import dev.adengine.api.v1.UpsertAdvertiserRequest;
import dev.adengine.api.v1.UpsertCampaignRequest;
import io.grpc.Status;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Creates a {@link Market} in a running engine through {@code AdminService}: every advertiser,
 * then every campaign, with bounded concurrency. Stops at the first rejection and reports the
 * call, the id and the engine's status (whose description names the offending field).
 * Public so that other drivers (the load generator in chaos-tests) create the same market.
 */
public final class MarketSetup {

  /** The engine refused part of the market. */
  public static final class SetupException extends Exception {
    SetupException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** How long one admin call of the set-up may take. */
  public static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
  /** How long to wait for a node's replica to hold the whole market. */
  public static final Duration REPLICA_WAIT = Duration.ofSeconds(60);

  private final AdminService admin;
  private final int concurrency;
  private final Duration timeout;
  private final PrintStream out;

  public MarketSetup(AdminService admin, int concurrency, Duration timeout, PrintStream out) {
    this.admin = admin;
    this.concurrency = concurrency;
    this.timeout = timeout;
    this.out = out;
  }

  public void create(Market market) throws SetupException, InterruptedException {
    long start = System.nanoTime();
    upsertAll("UpsertAdvertiser", market.advertisers(), Advertiser::getAdvertiserId,
        a -> admin.upsertAdvertiser(UpsertAdvertiserRequest.newBuilder().setAdvertiser(a).build()));
    upsertAll("UpsertCampaign", market.campaigns(), Campaign::getCampaignId,
        c -> admin.upsertCampaign(UpsertCampaignRequest.newBuilder().setCampaign(c).build()));
    out.printf("[sim] setup: %d advertisers, %d campaigns, %d ads upserted in %d ms%n",
        market.advertisers().size(), market.campaigns().size(), market.adCount(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  private <T> void upsertAll(String call, List<T> items, Function<T, String> id, Function<T, CompletionStage<?>> upsert)
      throws SetupException, InterruptedException {
    Semaphore permits = new Semaphore(concurrency);
    AtomicReference<SetupException> failure = new AtomicReference<>();
    for (T item : items) {
      if (!permits.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new SetupException(call + ": no answer within " + timeout + " for " + concurrency + " calls in flight", null);
      }
      if (failure.get() != null) {
        permits.release();
        break;
      }
      CompletionStage<?> answer;
      try {
        answer = withRetries(() -> upsert.apply(item), UNAVAILABLE_ATTEMPTS);
      } catch (RuntimeException e) {
        permits.release();
        throw new SetupException(call + " " + id.apply(item) + " failed: " + describe(e), e);
      }
      answer.whenComplete((ok, error) -> {
        if (error != null) {
          failure.compareAndSet(null, new SetupException(call + " " + id.apply(item) + " failed: " + describe(error), error));
        }
        permits.release();
      });
    }
    if (!permits.tryAcquire(concurrency, timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new SetupException(call + ": calls still outstanding after " + timeout, null);
    }
    if (failure.get() != null) {
      throw failure.get();
    }
  }

  /** Attempts at most per upsert answered UNAVAILABLE (the owner of the entity is moving, e.g. a node just joined). */
  static final int UNAVAILABLE_ATTEMPTS = 4;

  /**
   * An upsert is idempotent, so one answered UNAVAILABLE (its entity's shard being handed over
   * between nodes) is sent again after a pause, as any client of the admin API would.
   */
  private static CompletionStage<?> withRetries(java.util.function.Supplier<CompletionStage<?>> call, int attempts) {
    return call.get().handle((ok, error) -> {
      Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
          ? error.getCause() : error;
      if (error == null) {
        return java.util.concurrent.CompletableFuture.completedFuture((Object) ok);
      }
      if (attempts > 1 && io.grpc.Status.fromThrowable(cause).getCode() == io.grpc.Status.Code.UNAVAILABLE) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> null,
                java.util.concurrent.CompletableFuture.delayedExecutor(500, TimeUnit.MILLISECONDS))
            .thenCompose(x -> withRetries(call, attempts - 1));
      }
      return java.util.concurrent.CompletableFuture.failedFuture(cause);
    }).thenCompose(x -> x);
  }

  /**
   * Waits until the node's read replica holds at least {@code campaigns} campaigns and says it is
   * ready, polling {@code ClusterStatus} once a second. Returns false (after printing why) when
   * {@code maxWait} passes first; traffic then starts anyway and the fill rate shows it.
   */
  public boolean awaitReplica(int campaigns, Duration maxWait) throws InterruptedException {
    long deadline = System.nanoTime() + maxWait.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      try {
        ClusterStatusResponse status = admin.clusterStatus(ClusterStatusRequest.getDefaultInstance())
            .toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS); // ok to block: the simulator's own driver thread, not an actor or handler
        last = "ready=" + status.getReady() + " replica_campaigns=" + status.getReplicaCampaigns();
        if (status.getReady() && status.getReplicaCampaigns() >= campaigns) {
          out.printf("[sim] node ready: %d campaigns, %d ads in its replica%n", status.getReplicaCampaigns(), status.getReplicaAds());
          return true;
        }
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        last = describe(e);
      }
      Thread.sleep(1_000); // ok to block: the simulator's own driver thread, not an actor or handler
    }
    out.printf("[sim] warning: replica not complete after %ds (%s); starting traffic anyway%n", maxWait.toSeconds(), last);
    return false;
  }

  static String describe(Throwable error) {
    Status status = Status.fromThrowable(error);
    return status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription());
  }
}
