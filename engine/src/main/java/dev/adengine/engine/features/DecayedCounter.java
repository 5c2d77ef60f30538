package dev.adengine.engine.features;

/**
 * An exponentially decayed count with a half-life: every {@code halfLife} the weight of what was
 * counted before halves. Not thread-safe; lives inside one actor.
 */
public final class DecayedCounter {
  private final double lambdaPerMilli;
  private double value;
  private long atMillis;

  public DecayedCounter(java.time.Duration halfLife, long nowMillis) {
    this.lambdaPerMilli = Math.log(2) / Math.max(1, halfLife.toMillis());
    this.atMillis = nowMillis;
  }

  public void add(double amount, long nowMillis) {
    value = valueAt(nowMillis) + amount;
    atMillis = Math.max(atMillis, nowMillis);
  }

  public double valueAt(long nowMillis) {
    long dt = Math.max(0, nowMillis - atMillis);
    return value * Math.exp(-lambdaPerMilli * dt);
  }
}
