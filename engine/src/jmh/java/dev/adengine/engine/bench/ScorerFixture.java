package dev.adengine.engine.bench;

import dev.adengine.engine.sim.ClickLogGenerator;
import dev.adengine.engine.sim.Market;
import dev.adengine.engine.sim.MarketGenerator;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.scoring.FlatForest;
import dev.adengine.models.scoring.RankForest;
import dev.adengine.models.scoring.SmileFrames;
import dev.adengine.models.scoring.VectorForest;
import dev.adengine.models.training.CtrTrainer;
import java.time.LocalDate;
import java.util.Arrays;
import smile.classification.GradientTreeBoost;
import smile.data.Tuple;
import smile.data.type.StructType;
import smile.math.MathEx;

/**
 * The click model {@link ScorerBench} scores and the rows it scores it on: a Smile
 * gradient-boosted forest trained with the shipped stage-2 model's hyper-parameters
 * ({@link CtrTrainer.Options#defaults()}) on the simulator's click logs, its {@link FlatForest} and
 * {@link VectorForest} (which must be on its vector path: the fork JVM adds the module), and
 * {@value #ROWS} held-out impressions both as {@code double[]} and as Smile tuples. (The
 * shipped model keeps only the compiled forest, so the Smile model is retrained here.)
 */
public record ScorerFixture(GradientTreeBoost model, FlatForest flat, VectorForest vector, RankForest rank, String[] names,
    double[][] rows, Tuple[] tuples) {
  /** Rows scored in turn (a power of two, so the benchmark cycles with a mask). */
  public static final int ROWS = 4096;
  static final int REQUESTS = 60_000;

  /**
   * Generates logs and trains (about a minute on 2 cores), compiles the model, and checks that
   * Smile, the flat forest and the vector forest give the same probability on every row, so the
   * benchmark compares equal work.
   */
  public static ScorerFixture build() {
    LocalDate today = LocalDate.of(2026, 11, 28);
    Market market = new MarketGenerator(42, MarketGenerator.DEFAULT_CAMPAIGNS, today).generate();
    ClickLogGenerator.Log log = new ClickLogGenerator(market, 7, today).generate(REQUESTS);
    String[] names = FeatureExtractor.names();
    CtrTrainer.Options o = CtrTrainer.Options.defaults();
    MathEx.setSeed(o.seed()); // Smile's subsampling draws from this thread's generator
    GradientTreeBoost model = GradientTreeBoost.fit(SmileFrames.formula(),
        SmileFrames.of(log.train().x(), log.train().y(), names), o.trees(), o.maxDepth(), o.maxNodes(), o.nodeSize(),
        o.shrinkage(), o.subsample());
    FlatForest flat = FlatForest.compile(model, names);

    double[][] rows = Arrays.copyOf(log.test().x(), ROWS);
    StructType schema = SmileFrames.schema(names);
    Tuple[] tuples = new Tuple[ROWS];
    double[] posteriori = new double[2];
    for (int i = 0; i < ROWS; i++) {
      tuples[i] = SmileFrames.row(rows[i], schema);
      model.predict(tuples[i], posteriori);
      double diff = Math.abs(posteriori[1] - flat.probability(rows[i]));
      if (!(diff <= 1e-9)) {
        throw new IllegalStateException("row " + i + ": Smile " + posteriori[1] + ", flat " + flat.probability(rows[i]));
      }
    }
    VectorForest vector = VectorForest.of(flat);
    if (!vector.vectorized()) {
      throw new IllegalStateException("VectorForest is not on its vector path: " + vector.path());
    }
    double[] p = new double[ROWS];
    vector.probabilities(rows, 0, ROWS, p, new double[vector.scratchSize()]);
    for (int i = 0; i < ROWS; i++) {
      if (Double.doubleToRawLongBits(p[i]) != Double.doubleToRawLongBits(flat.probability(rows[i]))) {
        throw new IllegalStateException("row " + i + ": flat " + flat.probability(rows[i]) + ", vector " + p[i]);
      }
    }
    RankForest rank = RankForest.of(flat);
    if (!rank.vectorized()) {
      throw new IllegalStateException("RankForest is not on its vector path: " + rank.path());
    }
    double[] q = new double[ROWS];
    rank.probabilities(rows, 0, ROWS, q, rank.newScratch());
    double worst = 0;
    for (int i = 0; i < ROWS; i++) {
      model.predict(tuples[i], posteriori);
      double diff = Math.abs(posteriori[1] - q[i]);
      if (!(diff <= 1e-9)) {
        throw new IllegalStateException("row " + i + ": Smile " + posteriori[1] + ", rank " + q[i]);
      }
      worst = Math.max(worst, diff);
    }
    vector.warmUp(20_000);
    rank.warmUp(20_000);
    System.out.printf("%n[scorer] %d trees, %d nodes, %d features; %s; %s; max |Smile - rank| %.3g%n", flat.trees(),
        flat.nodes(), flat.features(), vector.path(), rank.path(), worst);
    return new ScorerFixture(model, flat, vector, rank, names, rows, tuples);
  }
}
