package dev.adengine.engine.ranking;

import dev.adengine.models.features.RequestFeatures;
import dev.adengine.models.scoring.CtrModel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongSupplier;

/**
 * The per-request coordinator of stage 2: the top candidates, split into batches that ranking
 * workers score in parallel, merged when the last batch is back or when the deadline comes,
 * whichever is first. Partial results beat a timeout: a batch not back in time leaves its
 * candidates with their stage-1 pCTR, and the outcome says how many.
 *
 * <p>Thread-safety: workers write only their own batch's result array and publish it through an
 * {@link AtomicReferenceArray}; the one thread that wins {@link #complete} merges, so candidates
 * are never written concurrently.
 */
public final class RankingJob {
  /** What ranking produced: the stage-2 candidates with final scores, and whether the deadline cut it short. */
  public record Outcome(List<RankedCandidate> top, boolean partial, int unscored) {}

  private final List<RankedCandidate> top;
  private final RequestFeatures request;
  private final String destination;
  private final long medianPriceMicros;
  private final CtrModel model;
  private final double alpha;
  private final int batchSize;
  private final int batches;
  private final long deadlineNanos;
  private final LongSupplier nanoClock;
  private final RankingMetrics metrics;
  private final AtomicReferenceArray<double[]> results;
  private final AtomicInteger pending;
  private final AtomicBoolean done = new AtomicBoolean();
  final CompletableFuture<Outcome> future = new CompletableFuture<>();

  RankingJob(List<RankedCandidate> top, RequestFeatures request, String destination, long medianPriceMicros,
      CtrModel model, double alpha, int batchSize, long deadlineNanos, LongSupplier nanoClock,
      RankingMetrics metrics) {
    this.top = top;
    this.request = request;
    this.destination = destination;
    this.medianPriceMicros = medianPriceMicros;
    this.model = model;
    this.alpha = alpha;
    this.batchSize = batchSize;
    this.batches = (top.size() + batchSize - 1) / batchSize;
    this.deadlineNanos = deadlineNanos;
    this.nanoClock = nanoClock;
    this.metrics = metrics;
    this.results = new AtomicReferenceArray<>(batches);
    this.pending = new AtomicInteger(batches);
  }

  int batches() {
    return batches;
  }

  /** Scores one batch (on a worker's thread), unless the request is already answered or out of time. */
  void scoreBatch(int batch, RankingWorker.Scratch scratch) {
    try {
      if (done.get() || nanoClock.getAsLong() >= deadlineNanos) {
        metrics.lateBatches.increment();
      } else {
        int from = batch * batchSize;
        int to = Math.min(top.size(), from + batchSize);
        int n = to - from;
        double[] out = new double[n];
        double[] trees = scratch.forSize(model.scratchSize());
        double[][] rows = scratch.rows(n);
        double[] logOdds = scratch.logOdds(n);
        for (int i = 0; i < n; i++) {
          RankedCandidate c = top.get(from + i);
          RankingFeatures.fill(rows[i], request, destination, medianPriceMicros, c.ad, 1, c.adImpressions,
              c.adClicks, c.campaignImpressions, c.campaignClicks);
          logOdds[i] = c.stage1LogOdds;
        }
        model.stage2(rows, n, logOdds, out, trees); // the whole batch at once (vectorized when compiled)
        results.set(batch, out);
      }
    } catch (RuntimeException e) {
      // A failing scorer is data: its candidates keep their stage-1 score.
      metrics.failedBatches.increment();
    }
    if (pending.decrementAndGet() == 0) {
      complete();
    }
  }

  /** Merges what is back and answers; only the first call (last batch or deadline) does anything. */
  void complete() {
    if (!done.compareAndSet(false, true)) {
      return;
    }
    int unscored = 0;
    for (int b = 0; b < batches; b++) {
      double[] r = results.get(b);
      int from = b * batchSize;
      int to = Math.min(top.size(), from + batchSize);
      if (r == null) {
        unscored += to - from;
        continue;
      }
      for (int i = from; i < to; i++) {
        RankedCandidate c = top.get(i);
        c.pctr = r[i - from];
        c.rescored = true;
        c.score = RankingPool.score(c, alpha);
      }
    }
    if (unscored > 0) {
      metrics.partialAnswers.increment();
    }
    future.complete(new Outcome(top, unscored > 0, unscored));
  }
}
