package dev.adengine.experiments;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One experiment: which layer it lives in, how much of that layer it takes, its state and its
 * arms, all laid out in buckets.
 *
 * <p>A user is in the experiment when it is RUNNING and the user's layer bucket ({@code
 * XXH64(user, layer salt) mod 10000}) is in {@link #layerBuckets}; the arm is then chosen by a
 * second hash with the experiment's own {@link #salt}, so arms split the experiment's users
 * uniformly whatever buckets of the layer it holds, and a ramp of the allocation never re-deals
 * the arms.
 *
 * <p>A DRAFT experiment already reserves its layer buckets (so it is known to fit) but serves no
 * one; STOPPED gives them back ({@link #layerBuckets} empty) and keeps the arms for the report.
 * Experiments are built and changed through {@link ExperimentConfig}.
 *
 * @param allocationBasisPoints the share of the layer, in basis points; for a STOPPED experiment
 *     the share it had when it stopped
 */
public record ExperimentDef(String id, String layerId, String salt, State state, int allocationBasisPoints,
    BucketSet layerBuckets, List<ArmDef> arms) {

  /** DRAFT -> RUNNING -> STOPPED; DRAFT may also stop. A stopped experiment never restarts. */
  public enum State {
    DRAFT,
    RUNNING,
    STOPPED
  }

  /** Arm indexes are bytes on the hot path. */
  public static final int MAX_ARMS = 64;

  public ExperimentDef {
    if (id == null || !ArmDef.NAME.matcher(id).matches()) {
      throw new InvalidConfigException("experiments[" + id + "].id",
          "must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit");
    }
    String at = "experiments[" + id + "]";
    if (layerId == null || layerId.isEmpty()) {
      throw new InvalidConfigException(at + ".layerId", "is required");
    }
    if (salt == null || salt.isEmpty()) {
      throw new InvalidConfigException(at + ".salt", "is required");
    }
    Objects.requireNonNull(state, at + ".state");
    if (allocationBasisPoints < 0 || allocationBasisPoints > BucketSet.BUCKETS) {
      throw new InvalidConfigException(at + ".allocationBasisPoints",
          "must be in [0, 10000], got " + allocationBasisPoints);
    }
    if (layerBuckets == null) {
      throw new InvalidConfigException(at + ".layerBuckets", "is required (BucketSet.EMPTY for none)");
    }
    if (state == State.STOPPED && !layerBuckets.isEmpty()) {
      throw new InvalidConfigException(at + ".layerBuckets", "must be empty once STOPPED, holds "
          + layerBuckets.size());
    }
    if (state != State.STOPPED && layerBuckets.size() != allocationBasisPoints) {
      throw new InvalidConfigException(at + ".layerBuckets", "hold " + layerBuckets.size()
          + " buckets but allocationBasisPoints is " + allocationBasisPoints);
    }
    arms = List.copyOf(Objects.requireNonNull(arms, at + ".arms"));
    requireValidArms(at, arms);
  }

  private static void requireValidArms(String at, List<ArmDef> arms) {
    if (arms.size() < 2) {
      throw new InvalidConfigException(at + ".arms", "needs a control and at least one other arm, got "
          + arms.size());
    }
    if (arms.size() > MAX_ARMS) {
      throw new InvalidConfigException(at + ".arms", "at most " + MAX_ARMS + " arms, got " + arms.size());
    }
    Set<String> names = new HashSet<>();
    int controls = 0;
    int total = 0;
    BucketSet covered = BucketSet.EMPTY;
    for (ArmDef arm : arms) {
      String armAt = at + ".arms[" + arm.name() + "]";
      if (!names.add(arm.name())) {
        throw new InvalidConfigException(armAt + ".name", "is used by two arms");
      }
      if (arm.control()) {
        controls++;
        if (arm.basisPoints() == 0) {
          throw new InvalidConfigException(armAt + ".basisPoints", "the control arm needs traffic, got 0");
        }
      }
      total += arm.basisPoints();
      if (arm.buckets() == null) {
        throw new InvalidConfigException(armAt + ".buckets", "not laid out (create experiments with"
            + " ExperimentConfig.create)");
      }
      if (covered.intersects(arm.buckets())) {
        throw new InvalidConfigException(armAt + ".buckets", "overlap another arm's " + covered.intersection(
            arm.buckets()));
      }
      covered = covered.union(arm.buckets());
    }
    if (controls != 1) {
      throw new InvalidConfigException(at + ".arms", "exactly one arm must be the control, found " + controls);
    }
    if (total != BucketSet.BUCKETS) {
      throw new InvalidConfigException(at + ".arms", "basis points sum to " + total + ", must be 10000");
    }
  }

  /** The control arm. */
  public ArmDef control() {
    for (ArmDef arm : arms) {
      if (arm.control()) {
        return arm;
      }
    }
    throw new IllegalStateException("validated: one control");
  }

  public Optional<ArmDef> arm(String name) {
    return arms.stream().filter(a -> a.name().equals(name)).findFirst();
  }

  public boolean running() {
    return state == State.RUNNING;
  }

  ExperimentDef with(State newState, int newAllocation, BucketSet newLayerBuckets, List<ArmDef> newArms) {
    return new ExperimentDef(id, layerId, salt, newState, newAllocation, newLayerBuckets, newArms);
  }
}
