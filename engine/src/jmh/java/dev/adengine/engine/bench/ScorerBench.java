package dev.adengine.engine.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Click probability for one candidate row, by Smile's own {@code GradientTreeBoost.predict(Tuple,
 * double[])} and by the {@code FlatForest} compiled from the same model, on the same
 * {@value ScorerFixture#ROWS} rows taken in turn, the flat forest both without and with a per-thread
 * scratch array (see {@link ScorerFixture}), and by the {@code VectorForest} of the same forest in
 * batches of 8 rows and of 50 (a ranking's top K), and by the {@code RankForest} of the same forest
 * in batches of 8, 50 and 64 (one full vector of byte lanes), per row
 * ({@code @OperationsPerInvocation}), transposition into columns or ranks included. Smile gets its tuples
 * prebuilt over one shared schema, its fastest case (a new schema per row would make its formula
 * rebind on every call).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ScorerBench {
  @State(Scope.Benchmark)
  public static class Model {
    ScorerFixture fixture;

    @Setup(Level.Trial)
    public void build() {
      fixture = ScorerFixture.build();
    }
  }

  @State(Scope.Thread)
  public static class Cursor {
    final double[] posteriori = new double[2];
    double[] scratch;
    double[] vectorScratch;
    dev.adengine.models.scoring.RankForest.Scratch rankScratch;
    final double[] out = new double[64];
    int next;
    int nextBatch;

    @Setup(Level.Trial)
    public void scratch(Model m) {
      scratch = new double[m.fixture.flat().scratchSize()];
      vectorScratch = new double[m.fixture.vector().scratchSize()];
      rankScratch = m.fixture.rank().newScratch();
    }

    /** The first of {@code n} consecutive rows, moving on by {@code n} (wrapping before the end). */
    int batch(int n) {
      int first = nextBatch + n <= ScorerFixture.ROWS ? nextBatch : 0;
      nextBatch = first + n;
      return first;
    }

    int row() {
      next = (next + 1) & (ScorerFixture.ROWS - 1);
      return next;
    }
  }

  static final int BATCH = 50;

  @Benchmark
  public double smile(Model m, Cursor c) {
    m.fixture.model().predict(m.fixture.tuples()[c.row()], c.posteriori);
    return c.posteriori[1];
  }

  @Benchmark
  public double flat(Model m, Cursor c) {
    return m.fixture.flat().probability(m.fixture.rows()[c.row()]);
  }

  @Benchmark
  public double flatScratch(Model m, Cursor c) {
    return m.fixture.flat().probability(m.fixture.rows()[c.row()], c.scratch);
  }

  @Benchmark
  @OperationsPerInvocation(8)
  public double vector8(Model m, Cursor c) {
    m.fixture.vector().probabilities(m.fixture.rows(), c.batch(8), 8, c.out, c.vectorScratch);
    return c.out[7];
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public double vector50(Model m, Cursor c) {
    m.fixture.vector().probabilities(m.fixture.rows(), c.batch(BATCH), BATCH, c.out, c.vectorScratch);
    return c.out[BATCH - 1];
  }

  @Benchmark
  @OperationsPerInvocation(8)
  public double rank8(Model m, Cursor c) {
    m.fixture.rank().probabilities(m.fixture.rows(), c.batch(8), 8, c.out, c.rankScratch);
    return c.out[7];
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public double rank50(Model m, Cursor c) {
    m.fixture.rank().probabilities(m.fixture.rows(), c.batch(BATCH), BATCH, c.out, c.rankScratch);
    return c.out[BATCH - 1];
  }

  @Benchmark
  @OperationsPerInvocation(64)
  public double rank64(Model m, Cursor c) {
    m.fixture.rank().probabilities(m.fixture.rows(), c.batch(64), 64, c.out, c.rankScratch);
    return c.out[63];
  }
}
