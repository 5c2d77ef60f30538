package dev.adengine.experiments.stats;

import java.util.Random;

/**
 * A ground-truth model of one ad slot, for testing the report: every request has a few candidate
 * ads, each with a bid and a true click probability. The arm ranks them by {@code bid x
 * estimated CTR}, where the estimate is the truth times log-normal noise: an arm with less noise
 * ({@code rankingNoise}) ranks truly better. The winner is shown when its score clears the
 * reserve, is clicked with its true probability, and pays the generalized second price on a
 * click (CPC). The expected revenue per request and CTR of an arm are therefore fixed by its
 * noise; a better arm earns more in expectation.
 */
final class AuctionSimulator {

  private static final int CANDIDATES = 5;
  private static final double RESERVE_SCORE = 0.02; // $ per impression

  private final Random random;

  AuctionSimulator(long seed) {
    this.random = new Random(seed);
  }

  /** Serves one request of {@code userId} with an arm whose CTR estimates carry {@code rankingNoise} (log sd). */
  void serve(String userId, double rankingNoise, ArmStats.Recorder out) {
    double bestScore = -1;
    double secondScore = RESERVE_SCORE;
    double bestBid = 0;
    double bestCtr = 0;
    double bestEstimate = 0;
    for (int i = 0; i < CANDIDATES; i++) {
      double bid = 0.2 + 0.8 * random.nextDouble(); // $ per click
      double ctr = 0.01 + 0.08 * random.nextDouble();
      double estimate = ctr * Math.exp(rankingNoise * random.nextGaussian());
      double score = bid * estimate;
      if (score > bestScore) {
        secondScore = Math.max(secondScore, bestScore);
        bestScore = score;
        bestBid = bid;
        bestCtr = ctr;
        bestEstimate = estimate;
      } else if (score > secondScore) {
        secondScore = score;
      }
    }
    long latencyMicros = 1_500 + (long) (2_000 * -Math.log(1 - random.nextDouble()));
    boolean filled = bestScore >= RESERVE_SCORE;
    out.recordRequest(userId, filled, latencyMicros);
    if (!filled) {
      return;
    }
    out.recordImpressions(1);
    if (random.nextDouble() < bestCtr) {
      long priceMicros = Math.round(Math.min(bestBid, secondScore / bestEstimate) * 1e6);
      out.recordClicks(1);
      out.recordRequestRevenue(priceMicros);
      out.recordSpend(priceMicros);
    }
  }
}
