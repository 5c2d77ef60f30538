package dev.adengine.engine.ranking;

import java.util.concurrent.atomic.LongAdder;

/** Counters of the ranking stage on this node; lock-free. */
public final class RankingMetrics {
  /** Requests ranked. */
  final LongAdder requests = new LongAdder();
  /** Requests whose stage 2 ran on the caller's thread (too few candidates to pay for a hop). */
  final LongAdder inline = new LongAdder();
  /** Requests answered before every stage-2 batch was back (deadline). */
  final LongAdder partialAnswers = new LongAdder();
  /** Batches a worker dequeued after their request was answered or out of time, and skipped. */
  final LongAdder lateBatches = new LongAdder();
  /** Batches whose scoring threw; their candidates kept the stage-1 score. */
  final LongAdder failedBatches = new LongAdder();

  public long requests() {
    return requests.sum();
  }

  public long inline() {
    return inline.sum();
  }

  public long partialAnswers() {
    return partialAnswers.sum();
  }

  public long lateBatches() {
    return lateBatches.sum();
  }

  public long failedBatches() {
    return failedBatches.sum();
  }
}
