package dev.adengine.engine.ranking;

import dev.adengine.models.features.FeatureExtractor;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A ranking worker: scores the batches of requests' stage-2 candidates it is sent, on the ranking
 * dispatcher, apart from the threads the gRPC transport runs on. Stateless apart from scratch
 * buffers, so one worker per core is enough and none ever blocks.
 */
public final class RankingWorker {
  /** Score batch {@code batch} of {@code job}; the job delivers the result to its request. */
  public record Score(RankingJob job, int batch) {}

  private RankingWorker() {}

  /**
   * A thread's buffers for stage 2, grown to what the current model and batch need: the trees'
   * scratch array, and the batch's feature rows, stage-1 log-odds and results.
   */
  static final class Scratch {
    private double[] array = new double[0];
    private double[][] rows = new double[0][];
    private double[] logOdds = new double[0];
    private double[] out = new double[0];

    double[] forSize(int size) {
      if (array.length < size) {
        array = new double[size];
      }
      return array;
    }

    /** At least {@code n} feature rows of {@link FeatureExtractor#SIZE}. */
    double[][] rows(int n) {
      if (rows.length < n) {
        double[][] grown = java.util.Arrays.copyOf(rows, Math.max(n, 2 * rows.length));
        for (int i = rows.length; i < grown.length; i++) {
          grown[i] = new double[FeatureExtractor.SIZE];
        }
        rows = grown;
      }
      return rows;
    }

    double[] logOdds(int n) {
      if (logOdds.length < n) {
        logOdds = new double[Math.max(n, 2 * logOdds.length)];
      }
      return logOdds;
    }

    double[] out(int n) {
      if (out.length < n) {
        out = new double[Math.max(n, 2 * out.length)];
      }
      return out;
    }
  }

  public static Behavior<Score> create() {
    return Behaviors.setup(ctx -> {
      Scratch scratch = new Scratch();
      return Behaviors.receiveMessage(m -> {
        m.job().scoreBatch(m.batch(), scratch);
        return Behaviors.same();
      });
    });
  }
}
