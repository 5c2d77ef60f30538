package dev.adengine.models.training;

import dev.adengine.models.scoring.Blend;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.models.scoring.FlatForest;
import dev.adengine.models.scoring.LogisticModel;
import dev.adengine.models.scoring.Platt;
import dev.adengine.models.scoring.SmileFrames;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import smile.classification.GradientTreeBoost;
import smile.classification.LogisticRegression;
import smile.math.MathEx;

/**
 * Trains the two ranking stages with Smile on labelled feature rows: a logistic regression on
 * standardized features (stage 1) and gradient-boosted trees (stage 2), compiled for serving; then
 * fits stage 1's Platt calibration and stage 2's {@link Blend} of both on a separate calibration
 * set, so the model's pCTR is a
 * probability on rows it was not fitted on. CPU-heavy: callers run it off any actor's thread.
 */
public final class CtrTrainer {

  /** Hyper-parameters; {@link #defaults()} are the ones the shipped model was trained with. */
  public record Options(double lambda, int trees, int maxDepth, int maxNodes, int nodeSize, double shrinkage,
      double subsample, long seed) {
    public static Options defaults() {
      return new Options(0.5, 200, 6, 8, 50, 0.08, 0.7, 42);
    }

    public Options withTrees(int n) {
      return new Options(lambda, n, maxDepth, maxNodes, nodeSize, shrinkage, subsample, seed);
    }

    public Options withMaxNodes(int n) {
      return new Options(lambda, trees, maxDepth, n, nodeSize, shrinkage, subsample, seed);
    }
  }

  /** A trained model and what training cost. */
  public record Trained(CtrModel model, long logisticMillis, long treesMillis) {}

  private CtrTrainer() {}

  /**
   * @param names feature names, one per column of {@code x}
   * @param schemaHash the feature extractor's schema hash, recorded in the model
   */
  public static Trained train(String version, List<String> names, String schemaHash, double[][] x, int[] y,
      double[][] calibrationX, int[] calibrationY, Options o, Map<String, String> provenance) {
    if (x.length == 0 || x.length != y.length) {
      throw new IllegalArgumentException("need as many labels as rows, and at least one row");
    }
    long t0 = System.nanoTime();
    LogisticModel lr = logistic(x, y, o.lambda());
    long t1 = System.nanoTime();

    MathEx.setSeed(o.seed());
    Properties p = new Properties();
    p.setProperty("smile.gradient_boost.trees", Integer.toString(o.trees()));
    p.setProperty("smile.gradient_boost.max_depth", Integer.toString(o.maxDepth()));
    p.setProperty("smile.gradient_boost.max_nodes", Integer.toString(o.maxNodes()));
    p.setProperty("smile.gradient_boost.node_size", Integer.toString(o.nodeSize()));
    p.setProperty("smile.gradient_boost.shrinkage", Double.toString(o.shrinkage()));
    p.setProperty("smile.gradient_boost.sampling_rate", Double.toString(o.subsample()));
    String[] columns = names.toArray(new String[0]);
    GradientTreeBoost gbt = GradientTreeBoost.fit(SmileFrames.formula(), SmileFrames.of(x, y, columns), p);
    FlatForest forest = FlatForest.compile(gbt, columns);
    long t2 = System.nanoTime();

    double[] m1 = new double[calibrationX.length];
    double[] m2 = new double[calibrationX.length];
    for (int i = 0; i < calibrationX.length; i++) {
      m1[i] = lr.margin(calibrationX[i]);
      m2[i] = forest.margin(calibrationX[i]);
    }
    Platt c1 = Platt.fit(m1, calibrationY);
    Blend blend = Blend.fit(m1, m2, calibrationY);

    Map<String, String> meta = new LinkedHashMap<>(provenance);
    meta.put("training.rows", Integer.toString(x.length));
    meta.put("calibration.rows", Integer.toString(calibrationX.length));
    meta.put("options", String.format(Locale.ROOT,
        "lambda=%s trees=%d maxDepth=%d maxNodes=%d nodeSize=%d shrinkage=%s subsample=%s seed=%d",
        o.lambda(), o.trees(), o.maxDepth(), o.maxNodes(), o.nodeSize(), o.shrinkage(), o.subsample(), o.seed()));
    CtrModel model = new CtrModel(version, schemaHash, names, meta, lr, c1, forest, blend);
    return new Trained(model, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
  }

  /** L2-regularized logistic regression on standardized columns (constant columns get scale 1). */
  static LogisticModel logistic(double[][] x, int[] y, double lambda) {
    int n = x.length;
    int d = x[0].length;
    double[] mean = new double[d];
    double[] scale = new double[d];
    for (double[] row : x) {
      for (int j = 0; j < d; j++) {
        mean[j] += row[j];
      }
    }
    for (int j = 0; j < d; j++) {
      mean[j] /= n;
    }
    for (double[] row : x) {
      for (int j = 0; j < d; j++) {
        double c = row[j] - mean[j];
        scale[j] += c * c;
      }
    }
    for (int j = 0; j < d; j++) {
      double sd = Math.sqrt(scale[j] / n);
      scale[j] = sd > 1e-12 ? sd : 1.0;
    }
    double[][] z = new double[n][d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        z[i][j] = (x[i][j] - mean[j]) / scale[j];
      }
    }
    LogisticRegression.Binomial fit = LogisticRegression.binomial(z, y, lambda, 1e-6, 500);
    double[] w = fit.coefficients();
    double[] weights = new double[d];
    System.arraycopy(w, 0, weights, 0, d);
    return new LogisticModel(mean, scale, weights, w[d]);
  }
}
