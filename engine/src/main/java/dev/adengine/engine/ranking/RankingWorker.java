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

  public static Behavior<Score> create() {
    return Behaviors.setup(ctx -> {
      double[] scratch = new double[FeatureExtractor.SIZE];
      return Behaviors.receiveMessage(m -> {
        m.job().scoreBatch(m.batch(), scratch);
        return Behaviors.same();
      });
    });
  }
}
