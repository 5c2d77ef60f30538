package dev.adengine.engine.ranking;

import dev.adengine.models.features.FeatureExtractor;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A ranking worker: scores the batches of requests' stage-2 candidates it is sent, on the ranking
 * dispatcher, apart from the threads the gRPC transport runs on. Stateless apart from a scratch
 * feature row, so one worker per core is enough and none ever blocks.
 */
public final class RankingWorker {
  /** Score batch {@code batch} of {@code job}; the job delivers the result to its request. */
  public record Score(RankingJob job, int batch) {}

  private RankingWorker() {}

  /** A thread's scratch array for the trees, grown to what the current model needs. */
  static final class Scratch {
    private double[] array = new double[0];

    double[] forSize(int size) {
      if (array.length < size) {
        array = new double[size];
      }
      return array;
    }
  }

  public static Behavior<Score> create() {
    return Behaviors.setup(ctx -> {
      double[] row = new double[FeatureExtractor.SIZE];
      Scratch scratch = new Scratch();
      return Behaviors.receiveMessage(m -> {
        m.job().scoreBatch(m.batch(), row, scratch);
        return Behaviors.same();
      });
    });
  }
}
