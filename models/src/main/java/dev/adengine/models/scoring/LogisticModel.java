package dev.adengine.models.scoring;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * A trained logistic regression: {@code sigmoid(bias + sum w_i (x_i - mean_i) / scale_i)} with
 * the weights per standard deviation it was trained with (what a model card shows, and what is
 * stored). Scoring uses the same function with the standardization folded in ({@code w_i /
 * scale_i}, and the means moved into the bias): one multiply-add per feature, no division;
 * allocation-free.
 */
public final class LogisticModel {
  private final double[] mean;
  private final double[] scale;
  private final double[] weights;
  private final double bias;
  private final double[] folded;
  private final double foldedBias;

  public LogisticModel(double[] mean, double[] scale, double[] weights, double bias) {
    if (mean.length != scale.length || mean.length != weights.length) {
      throw new IllegalArgumentException("mean, scale and weights differ in length");
    }
    this.mean = mean.clone();
    this.scale = scale.clone();
    this.weights = weights.clone();
    this.bias = bias;
    this.folded = new double[weights.length];
    double b = bias;
    for (int i = 0; i < weights.length; i++) {
      folded[i] = weights[i] / scale[i];
      b -= folded[i] * mean[i];
    }
    this.foldedBias = b;
  }

  public double margin(double[] x) {
    double z = foldedBias;
    for (int i = 0; i < folded.length; i++) {
      z += folded[i] * x[i];
    }
    return z;
  }

  public double probability(double[] x) {
    return Platt.sigmoid(margin(x));
  }

  public int features() {
    return weights.length;
  }

  public void write(DataOutput out) throws IOException {
    out.writeInt(weights.length);
    for (int i = 0; i < weights.length; i++) {
      out.writeDouble(mean[i]);
      out.writeDouble(scale[i]);
      out.writeDouble(weights[i]);
    }
    out.writeDouble(bias);
  }

  public static LogisticModel read(DataInput in) throws IOException {
    int n = in.readInt();
    if (n < 1 || n > 100_000) {
      throw new IOException("bad feature count " + n);
    }
    double[] mean = new double[n];
    double[] scale = new double[n];
    double[] weights = new double[n];
    for (int i = 0; i < n; i++) {
      mean[i] = in.readDouble();
      scale[i] = in.readDouble();
      weights[i] = in.readDouble();
    }
    return new LogisticModel(mean, scale, weights, in.readDouble());
  }
}
