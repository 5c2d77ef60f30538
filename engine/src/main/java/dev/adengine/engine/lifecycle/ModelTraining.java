package dev.adengine.engine.lifecycle;

import dev.adengine.models.drift.ReferenceDistribution;
import dev.adengine.models.eval.Metrics;
import dev.adengine.models.eval.SliceMetrics;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.lifecycle.QualityGates;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.models.training.CtrTrainer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Trains a candidate model on a training window of the feature log and judges it on a later
 * hold-out window, next to the active model on the same hold-out rows: AUC, log loss, calibration
 * error, per device and per destination, and the quality gates ({@link QualityGates}). Pure and
 * CPU-heavy (seconds): the pipeline runs it on a thread of its own, never on an actor's.
 */
public final class ModelTraining {

  /**
   * @param trainer Smile hyper-parameters
   * @param calibrationShare the latest share of the training rows kept for calibration (Platt and
   *     the stage blend), not for fitting
   * @param excludedFeatures features the candidate may not use (an ablation: their columns are
   *     zeroed in the training rows, so neither stage learns from them)
   * @param minTrainRows fewer training rows than this fail the run before training
   * @param minSliceRows slices with fewer hold-out rows are not reported
   * @param referenceRows rows at most for the reference distributions
   */
  public record Options(CtrTrainer.Options trainer, double calibrationShare, Set<String> excludedFeatures,
      int minTrainRows, int minSliceRows, int referenceRows) {
    public Options {
      excludedFeatures = Set.copyOf(excludedFeatures);
      for (String f : excludedFeatures) {
        if (!FeatureExtractor.NAMES.contains(f)) {
          throw new IllegalArgumentException("unknown feature to exclude: " + f);
        }
      }
      if (!(calibrationShare > 0 && calibrationShare < 0.9)) {
        throw new IllegalArgumentException("calibration share must be in (0, 0.9): " + calibrationShare);
      }
    }

    public static Options defaults() {
      return new Options(CtrTrainer.Options.defaults().withTrees(100), 0.2, Set.of(), 2_000, 500, 50_000);
    }

    public Options withExcluded(Set<String> features) {
      return new Options(trainer, calibrationShare, features, minTrainRows, minSliceRows, referenceRows);
    }

    public Options withTrainer(CtrTrainer.Options t) {
      return new Options(t, calibrationShare, excludedFeatures, minTrainRows, minSliceRows, referenceRows);
    }

    public Options withMinTrainRows(int n) {
      return new Options(trainer, calibrationShare, excludedFeatures, n, minSliceRows, referenceRows);
    }

    /** The hyper-parameters as registry lineage records them. */
    public Map<String, String> asMap() {
      CtrTrainer.Options t = trainer;
      Map<String, String> m = new LinkedHashMap<>();
      m.put("lambda", Double.toString(t.lambda()));
      m.put("trees", Integer.toString(t.trees()));
      m.put("max_depth", Integer.toString(t.maxDepth()));
      m.put("max_nodes", Integer.toString(t.maxNodes()));
      m.put("node_size", Integer.toString(t.nodeSize()));
      m.put("shrinkage", Double.toString(t.shrinkage()));
      m.put("subsample", Double.toString(t.subsample()));
      m.put("seed", Long.toString(t.seed()));
      m.put("calibration_share", Double.toString(calibrationShare));
      m.put("excluded_features", String.join(",", new java.util.TreeSet<>(excludedFeatures)));
      return m;
    }
  }

  /**
   * What training produced and how it was judged.
   *
   * @param active the active model's hold-out metrics, null when there was no active model
   * @param slices the candidate's hold-out metrics per {@code device=} and {@code destination=} slice
   */
  public record Outcome(CtrModel candidate, int trainRows, int trainClicks, int calibrationRows, int holdoutRows,
      int holdoutClicks, Metrics holdout, Metrics active, Map<String, Metrics> slices, QualityGates.Result gates,
      ReferenceDistribution reference, long trainMillis) {

    /** The pipeline's TRAIN step record: what was trained on what, and how long it took. */
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "trained %s on %d shown ads (%d clicks), calibrated on %d, in %d ms",
          candidate.version(), trainRows, trainClicks, calibrationRows, trainMillis);
    }

    /** Metrics as the registry stores them: the candidate's, the active model's ({@code active_}) and slices'. */
    public Map<String, Double> metricsMap() {
      Map<String, Double> m = new LinkedHashMap<>();
      put(m, "", holdout);
      if (active != null) {
        put(m, "active_", active);
      }
      for (Map.Entry<String, Metrics> e : slices.entrySet()) {
        m.put("slice." + e.getKey() + ".auc", e.getValue().auc());
        m.put("slice." + e.getKey() + ".rows", (double) e.getValue().rows());
      }
      return m;
    }

    private static void put(Map<String, Double> m, String prefix, Metrics x) {
      m.put(prefix + "auc", x.auc());
      m.put(prefix + "log_loss", x.logLoss());
      m.put(prefix + "calibration_error", x.calibrationError());
      m.put(prefix + "calibration_ratio", x.calibrationRatio());
      m.put(prefix + "holdout_rows", (double) x.rows());
      m.put(prefix + "holdout_clicks", (double) x.positives());
    }
  }

  private ModelTraining() {}

  /**
   * Trains on {@code train}, evaluates on {@code holdout} (a later window) with {@code active} (may
   * be null) beside it, and applies the gates.
   *
   * @param scored the serving model's stage-2 rows of the training window, for the reference distributions
   */
  public static Outcome run(String version, TrainingData.Rows train, TrainingData.Rows holdout, double[][] scored,
      CtrModel active, Options options, QualityGates.Thresholds thresholds, Map<String, String> provenance) {
    if (train.size() < options.minTrainRows()) {
      throw new IllegalStateException("the training window has " + train.size() + " shown ads, fewer than the "
          + options.minTrainRows() + " required");
    }
    if (holdout.size() == 0 || holdout.clicks() == 0 || holdout.clicks() == holdout.size()) {
      throw new IllegalStateException("the hold-out window has " + holdout.size() + " shown ads and "
          + holdout.clicks() + " clicks: nothing to evaluate on");
    }
    int fit = (int) Math.round(train.size() * (1 - options.calibrationShare()));
    TrainingData.Rows fitRows = train.slice(0, fit);
    TrainingData.Rows calibration = train.slice(fit, train.size());
    double[][] x = ablate(fitRows.x(), options.excludedFeatures());
    double[][] cx = ablate(calibration.x(), options.excludedFeatures());
    long t0 = System.nanoTime();
    CtrTrainer.Trained trained = CtrTrainer.train(version, FeatureExtractor.NAMES, FeatureExtractor.SCHEMA_HASH, x,
        fitRows.y(), cx, calibration.y(), options.trainer(), provenance);
    long trainMillis = (System.nanoTime() - t0) / 1_000_000;
    CtrModel candidate = trained.model();

    double[] p = score(candidate, holdout.x());
    Metrics holdoutMetrics = Metrics.of(p, holdout.y());
    Metrics activeMetrics = active == null ? null : Metrics.of(score(active, holdout.x()), holdout.y());
    Map<String, Metrics> slices = new TreeMap<>();
    slices.putAll(SliceMetrics.bySlice(p, holdout.y(), holdout.sliceKeys("device"), options.minSliceRows()));
    slices.putAll(SliceMetrics.bySlice(p, holdout.y(), holdout.sliceKeys("destination"), options.minSliceRows()));
    QualityGates.Result gates = QualityGates.check(holdoutMetrics, activeMetrics, thresholds);

    ReferenceDistribution reference = reference(candidate, scored.length > 0 ? scored : train.x(),
        options.referenceRows());
    return new Outcome(candidate, fitRows.size(), fitRows.clicks(), calibration.size(), holdout.size(),
        holdout.clicks(), holdoutMetrics, activeMetrics, slices, gates, reference, trainMillis);
  }

  /** Bins per feature (and for the score) of the reference distributions. */
  public static final int REFERENCE_BINS = 10;

  /**
   * The reference distributions of {@code model}: the first {@code max} of {@code rows} (served
   * rows, position 1, as the drift monitor sees them live) and the model's stage-2 pCTR of each.
   */
  public static ReferenceDistribution reference(CtrModel model, double[][] rows, int max) {
    int n = Math.min(rows.length, max);
    double[] scores = new double[n];
    for (int i = 0; i < n; i++) {
      scores[i] = model.stage2(rows[i]);
    }
    return ReferenceDistribution.fit(FeatureExtractor.NAMES, rows, n, scores, REFERENCE_BINS);
  }

  /** Stage-2 pCTR of each row, as served for the top K. */
  static double[] score(CtrModel model, double[][] x) {
    double[] p = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      p[i] = model.stage2(x[i]);
    }
    return p;
  }

  private static double[][] ablate(double[][] x, Set<String> excluded) {
    if (excluded.isEmpty()) {
      return x;
    }
    List<String> names = FeatureExtractor.NAMES;
    int[] cols = excluded.stream().mapToInt(names::indexOf).toArray();
    double[][] out = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i].clone();
      for (int c : cols) {
        out[i][c] = 0;
      }
    }
    return out;
  }

  static String describe(Metrics m) {
    return String.format(Locale.ROOT, "AUC %.4f, log loss %.5f, calibration error %.5f (%d rows, %d clicks)",
        m.auc(), m.logLoss(), m.calibrationError(), m.rows(), m.positives());
  }
}
