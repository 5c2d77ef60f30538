package dev.adengine.models;

/**
 * Beta-smoothed click-through estimate: {@code (clicks + prior * strength) / (impressions + strength)}.
 *
 * <p>A campaign without history scores at the prior; as impressions accumulate, the estimate moves
 * to the observed CTR. This is the engine's first-stage pCTR until trained models take over, and
 * later an online feature for them. Pure and allocation-free: safe on the bid path.
 */
public final class CtrPrior {
  private final double prior;
  private final double strength;

  public CtrPrior(double prior, double strength) {
    if (!(prior > 0 && prior < 1)) {
      throw new IllegalArgumentException("prior must be in (0,1): " + prior);
    }
    if (!(strength > 0)) {
      throw new IllegalArgumentException("strength must be > 0: " + strength);
    }
    this.prior = prior;
    this.strength = strength;
  }

  /** Estimated CTR given observed (possibly decayed) counts; clicks above impressions are capped. */
  public double estimate(double impressions, double clicks) {
    double imps = Math.max(0, impressions);
    double clk = Math.min(Math.max(0, clicks), imps);
    return (clk + prior * strength) / (imps + strength);
  }

  /** The same estimate around another prior mean (e.g. the campaign's CTR, refined by an ad's own counts). */
  public double estimate(double impressions, double clicks, double priorMean) {
    double imps = Math.max(0, impressions);
    double clk = Math.min(Math.max(0, clicks), imps);
    return (clk + priorMean * strength) / (imps + strength);
  }

  public double prior() {
    return prior;
  }
}
