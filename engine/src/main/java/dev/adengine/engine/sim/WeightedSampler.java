package dev.adengine.engine.sim;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/** Draws an index with probability proportional to its weight (cumulative table, binary search). */
final class WeightedSampler {

  private final double[] cumulative;

  WeightedSampler(double[] weights) {
    if (weights.length == 0) {
      throw new IllegalArgumentException("no weights");
    }
    cumulative = new double[weights.length];
    double sum = 0;
    for (int i = 0; i < weights.length; i++) {
      if (!(weights[i] >= 0)) {
        throw new IllegalArgumentException("weight " + i + " is negative or NaN: " + weights[i]);
      }
      sum += weights[i];
      cumulative[i] = sum;
    }
    if (!(sum > 0)) {
      throw new IllegalArgumentException("weights sum to zero");
    }
  }

  /** Weights {@code 1 / rank^exponent} for ranks 1..n: a Zipf distribution. */
  static WeightedSampler zipf(int n, double exponent) {
    double[] w = new double[n];
    for (int i = 0; i < n; i++) {
      w[i] = 1.0 / Math.pow(i + 1, exponent);
    }
    return new WeightedSampler(w);
  }

  int size() {
    return cumulative.length;
  }

  int sample(RandomGenerator random) {
    double u = random.nextDouble() * cumulative[cumulative.length - 1];
    int i = Arrays.binarySearch(cumulative, u);
    int index = i >= 0 ? i + 1 : -i - 1;
    // u == total can only come from rounding; zero-weight tails are skipped the same way
    while (index > 0 && (index >= cumulative.length || weightOf(index) == 0)) {
      index--;
    }
    return index;
  }

  private double weightOf(int index) {
    return index == 0 ? cumulative[0] : cumulative[index] - cumulative[index - 1];
  }
}
