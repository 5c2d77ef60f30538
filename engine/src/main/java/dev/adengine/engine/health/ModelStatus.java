package dev.adengine.engine.health;

import dev.adengine.models.scoring.CtrModel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The readiness check {@link NodeState#MODEL}: a model is active and, with {@code vector-stage2 = on},
 * its compiled stage 2 has been built, or the node has waited {@code readyWait} for it.
 *
 * <p>Why wait: the build (javac, then warm-up until C2 has compiled the code) takes the cores the
 * first traffic would need, so a node waits for it before taking traffic. Why not wait longer: the
 * scalar path it serves meanwhile answers correctly with the same model (about 10x slower per row,
 * well inside a bid's budget at 200 candidates), and on a loaded machine the build took 132 s of a
 * restarted node's start in a chaos test (two other nodes, Cassandra and the load generator on 2
 * cores), keeping a node out of the cluster's serving set for that long. After the wait the build
 * goes on and its result is swapped in when it is ready; the detail says so.
 */
public final class ModelStatus implements Supplier<NodeState.Status> {
  private final Supplier<CtrModel> current;
  private final CompletableFuture<?> stage2AtStart;
  private final long readyWaitNanos;
  private final LongSupplier nanoTime;
  private final long since;

  /**
   * @param current the model serving now
   * @param stage2AtStart completes when the compiled stage 2's build at start is over (completed
   *     already when stage 2 is not compiled)
   * @param readyWait how long the check fails while that build runs, from now
   * @param nanoTime the clock ({@code System::nanoTime})
   */
  public ModelStatus(Supplier<CtrModel> current, CompletableFuture<?> stage2AtStart, Duration readyWait,
      LongSupplier nanoTime) {
    this.current = current;
    this.stage2AtStart = stage2AtStart;
    this.readyWaitNanos = readyWait.toNanos();
    this.nanoTime = nanoTime;
    this.since = nanoTime.getAsLong();
  }

  @Override
  public NodeState.Status get() {
    CtrModel model = current.get();
    if (model == null) {
      return NodeState.Status.failing("no model is active");
    }
    if (!stage2AtStart.isDone()) {
      long waited = nanoTime.getAsLong() - since;
      if (waited < readyWaitNanos) {
        return NodeState.Status.failing("serving " + model.version() + "; its compiled stage 2 is being built"
            + " (vector-stage2 = on; ready after at most " + readyWaitNanos / 1_000_000_000 + " s)");
      }
      return NodeState.Status.ok("serving " + model.version() + ", stage 2 scalar while its compiled code is"
          + " still being built (stopped waiting for it after " + readyWaitNanos / 1_000_000_000 + " s)");
    }
    return NodeState.Status.ok("serving " + model.version() + ", stage 2 "
        + (model.stage2Vectorized() ? "compiled (" + model.stage2Path() + ")" : "scalar"));
  }
}
