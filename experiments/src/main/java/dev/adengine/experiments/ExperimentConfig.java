package dev.adengine.experiments;

import dev.adengine.experiments.ExperimentDef.State;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Every experiment definition at one version: the global holdout, the layers and the experiments
 * (including stopped ones, kept for their reports). Immutable and validated on construction; each
 * change ({@link #withLayer}, {@link #create}, {@link #start}, {@link #ramp}, {@link #resplit},
 * {@link #stop}, {@link #withHoldout}) returns the next version. Persisted as {@link
 * ExperimentConfigCodec} bytes, one row per version; {@link Assigner} serves it.
 *
 * <h2>Rules</h2>
 *
 * <ul>
 *   <li>Ids of layers and experiments are unique; every salt (holdout, layers, experiments) is
 *       different, since equal salts would make assignments coincide.
 *   <li>In a layer, the experiments that are not STOPPED own disjoint bucket sets: at most 10,000
 *       basis points of the layer in all.
 *   <li>An experiment's arms sum to 10,000 basis points and own disjoint arm buckets; exactly one
 *       is the control, and it has traffic.
 *   <li>Two layers never fix the same {@link ArmParams} field (each parameter is varied in one
 *       layer only), so the parameters of a user in several layers are well defined.
 * </ul>
 *
 * <h2>Ramping keeps users where they are</h2>
 *
 * Allocations are stored as bucket sets, not recomputed from basis points. A ramp-up adds the
 * lowest free buckets of the layer to the experiment's set and a ramp-down gives up its highest
 * buckets ({@link BucketSet#takeLowest}, {@link BucketSet#dropHighest}); arms are chosen by the
 * experiment's own hash, which a ramp does not touch. So after a ramp-up every user who was in an
 * arm is in the same arm, and after a ramp-down every user still in the experiment is in the
 * same arm. A {@link #resplit} of the arms does the same in the arm space: an arm that grows keeps
 * all its users, one that shrinks keeps a subset, one that stays the same size keeps exactly its
 * users. (Deriving ranges from basis points alone would move users whenever a neighbour
 * changed.) After a resplit, compare arms only on data gathered since: the report's
 * sample-ratio check expects the current split.
 */
public final class ExperimentConfig {

  /** Version 0: no holdout, no layer, no experiment. */
  public static final ExperimentConfig EMPTY = new ExperimentConfig(0, Holdout.NONE, List.of(), List.of());

  private final long version;
  private final Holdout holdout;
  private final List<Layer> layers;
  private final List<ExperimentDef> experiments;

  /**
   * @throws InvalidConfigException naming the field that breaks a rule
   */
  public ExperimentConfig(long version, Holdout holdout, List<Layer> layers, List<ExperimentDef> experiments) {
    if (version < 0) {
      throw new InvalidConfigException("version", "must be >= 0, got " + version);
    }
    this.version = version;
    this.holdout = Objects.requireNonNull(holdout, "holdout");
    this.layers = List.copyOf(layers);
    this.experiments = List.copyOf(experiments);
    validate();
  }

  public long version() {
    return version;
  }

  public Holdout holdout() {
    return holdout;
  }

  public List<Layer> layers() {
    return layers;
  }

  /** Every experiment, in creation order. */
  public List<ExperimentDef> experiments() {
    return experiments;
  }

  public Optional<ExperimentDef> experiment(String id) {
    return experiments.stream().filter(e -> e.id().equals(id)).findFirst();
  }

  public Optional<Layer> layer(String id) {
    return layers.stream().filter(l -> l.id().equals(id)).findFirst();
  }

  /** Buckets of {@code layerId} that no DRAFT or RUNNING experiment holds. */
  public BucketSet freeBuckets(String layerId) {
    BucketSet held = BucketSet.EMPTY;
    for (ExperimentDef e : experiments) {
      if (e.layerId().equals(layerId)) {
        held = held.union(e.layerBuckets());
      }
    }
    return held.complement();
  }

  // ---- changes: each returns version + 1 ----

  public ExperimentConfig withHoldout(Holdout newHoldout) {
    return new ExperimentConfig(version + 1, newHoldout, layers, experiments);
  }

  public ExperimentConfig withLayer(Layer layer) {
    if (layer(layer.id()).isPresent()) {
      throw new InvalidConfigException("layers[" + layer.id() + "]", "already exists");
    }
    List<Layer> next = new ArrayList<>(layers);
    next.add(layer);
    return new ExperimentConfig(version + 1, holdout, next, experiments);
  }

  /** {@link #create(String, String, String, int, List)} salted with {@code "experiment:" + id}. */
  public ExperimentConfig create(String id, String layerId, int allocationBasisPoints, List<ArmDef> arms) {
    return create(id, layerId, "experiment:" + id, allocationBasisPoints, arms);
  }

  /**
   * Adds a DRAFT experiment that reserves the lowest {@code allocationBasisPoints} free buckets of
   * its layer; its arms (specs from {@link ArmDef#of}) take consecutive arm buckets in the order
   * given.
   *
   * @throws InvalidConfigException when the id is taken, the layer is unknown or too full, or an
   *     arm rule is broken
   */
  public ExperimentConfig create(String id, String layerId, String salt, int allocationBasisPoints,
      List<ArmDef> arms) {
    String at = "experiments[" + id + "]";
    Objects.requireNonNull(arms, at + ".arms");
    if (experiment(id).isPresent()) {
      throw new InvalidConfigException(at + ".id", "already exists (ids are never reused, even once stopped)");
    }
    if (layer(layerId).isEmpty()) {
      throw new InvalidConfigException(at + ".layerId", "unknown layer '" + layerId + "'");
    }
    if (allocationBasisPoints < 0 || allocationBasisPoints > BucketSet.BUCKETS) {
      throw new InvalidConfigException(at + ".allocationBasisPoints",
          "must be in [0, 10000], got " + allocationBasisPoints);
    }
    BucketSet free = freeBuckets(layerId);
    if (free.size() < allocationBasisPoints) {
      throw new InvalidConfigException(at + ".allocationBasisPoints", allocationBasisPoints
          + " requested but layer '" + layerId + "' has " + free.size() + " free");
    }
    int total = 0;
    for (ArmDef arm : arms) {
      total += arm.basisPoints();
    }
    if (total != BucketSet.BUCKETS) {
      throw new InvalidConfigException(at + ".arms", "basis points sum to " + total + ", must be 10000");
    }
    List<ArmDef> laidOut = new ArrayList<>(arms.size());
    int start = 0;
    for (ArmDef arm : arms) {
      int end = start + arm.basisPoints();
      laidOut.add(arm.withLayout(arm.basisPoints(), end > start ? BucketSet.range(start, end) : BucketSet.EMPTY));
      start = end;
    }
    ExperimentDef def = new ExperimentDef(id, layerId, salt, State.DRAFT, allocationBasisPoints,
        BucketSet.EMPTY.takeLowest(free, allocationBasisPoints), laidOut);
    List<ExperimentDef> next = new ArrayList<>(experiments);
    next.add(def);
    return new ExperimentConfig(version + 1, holdout, layers, next);
  }

  /** DRAFT -> RUNNING: the experiment starts serving its buckets. */
  public ExperimentConfig start(String id) {
    ExperimentDef e = require(id);
    if (e.state() != State.DRAFT) {
      throw new InvalidConfigException("experiments[" + id + "].state", "only a DRAFT experiment starts, this"
          + " one is " + e.state());
    }
    return replace(e.with(State.RUNNING, e.allocationBasisPoints(), e.layerBuckets(), e.arms()));
  }

  /**
   * Changes the experiment's share of its layer (DRAFT or RUNNING), keeping users where they are:
   * a ramp-up takes the lowest free buckets of the layer, a ramp-down gives up the highest it
   * holds.
   */
  public ExperimentConfig ramp(String id, int allocationBasisPoints) {
    ExperimentDef e = require(id);
    String at = "experiments[" + id + "]";
    if (e.state() == State.STOPPED) {
      throw new InvalidConfigException(at + ".state", "a STOPPED experiment cannot ramp; create a new one");
    }
    if (allocationBasisPoints < 0 || allocationBasisPoints > BucketSet.BUCKETS) {
      throw new InvalidConfigException(at + ".allocationBasisPoints",
          "must be in [0, 10000], got " + allocationBasisPoints);
    }
    int current = e.allocationBasisPoints();
    BucketSet buckets;
    if (allocationBasisPoints >= current) {
      BucketSet free = freeBuckets(e.layerId());
      int more = allocationBasisPoints - current;
      if (free.size() < more) {
        throw new InvalidConfigException(at + ".allocationBasisPoints", allocationBasisPoints + " requested: "
            + more + " more but layer '" + e.layerId() + "' has " + free.size() + " free");
      }
      buckets = e.layerBuckets().takeLowest(free, more);
    } else {
      buckets = e.layerBuckets().dropHighest(current - allocationBasisPoints);
    }
    return replace(e.with(e.state(), allocationBasisPoints, buckets, e.arms()));
  }

  /**
   * Changes the arms' shares (every arm named, summing to 10,000): an arm that shrinks gives up
   * its highest arm buckets, then each arm that grows takes the lowest freed ones, in arm order.
   */
  public ExperimentConfig resplit(String id, Map<String, Integer> basisPointsByArm) {
    ExperimentDef e = require(id);
    String at = "experiments[" + id + "]";
    if (e.state() == State.STOPPED) {
      throw new InvalidConfigException(at + ".state", "a STOPPED experiment cannot be resplit");
    }
    Map<String, Integer> wanted = new LinkedHashMap<>(basisPointsByArm);
    int total = 0;
    for (ArmDef arm : e.arms()) {
      Integer bp = wanted.remove(arm.name());
      if (bp == null) {
        throw new InvalidConfigException(at + ".arms[" + arm.name() + "].basisPoints", "missing from the resplit");
      }
      if (bp < 0 || bp > BucketSet.BUCKETS) {
        throw new InvalidConfigException(at + ".arms[" + arm.name() + "].basisPoints",
            "must be in [0, 10000], got " + bp);
      }
      total += bp;
    }
    if (!wanted.isEmpty()) {
      throw new InvalidConfigException(at + ".arms[" + wanted.keySet().iterator().next() + "]", "no such arm");
    }
    if (total != BucketSet.BUCKETS) {
      throw new InvalidConfigException(at + ".arms", "basis points sum to " + total + ", must be 10000");
    }
    List<BucketSet> kept = new ArrayList<>();
    BucketSet used = BucketSet.EMPTY;
    for (ArmDef arm : e.arms()) {
      int bp = basisPointsByArm.get(arm.name());
      BucketSet b = bp < arm.basisPoints() ? arm.buckets().dropHighest(arm.basisPoints() - bp) : arm.buckets();
      kept.add(b);
      used = used.union(b);
    }
    List<ArmDef> arms = new ArrayList<>();
    for (int i = 0; i < e.arms().size(); i++) {
      ArmDef arm = e.arms().get(i);
      int bp = basisPointsByArm.get(arm.name());
      BucketSet b = kept.get(i);
      if (bp > b.size()) {
        BucketSet grown = b.takeLowest(used.complement(), bp - b.size());
        used = used.union(grown);
        b = grown;
      }
      arms.add(arm.withLayout(bp, b));
    }
    return replace(e.with(e.state(), e.allocationBasisPoints(), e.layerBuckets(), arms));
  }

  /** DRAFT or RUNNING -> STOPPED: serves no one and frees its buckets; the definition stays. */
  public ExperimentConfig stop(String id) {
    ExperimentDef e = require(id);
    if (e.state() == State.STOPPED) {
      throw new InvalidConfigException("experiments[" + id + "].state", "already STOPPED");
    }
    return replace(e.with(State.STOPPED, e.allocationBasisPoints(), BucketSet.EMPTY, e.arms()));
  }

  private ExperimentDef require(String id) {
    return experiment(id).orElseThrow(() -> new InvalidConfigException("experiments[" + id + "]", "no such"
        + " experiment"));
  }

  private ExperimentConfig replace(ExperimentDef changed) {
    List<ExperimentDef> next = new ArrayList<>(experiments.size());
    for (ExperimentDef e : experiments) {
      next.add(e.id().equals(changed.id()) ? changed : e);
    }
    return new ExperimentConfig(version + 1, holdout, layers, next);
  }

  // ---- validation ----

  private void validate() {
    Map<String, String> salts = new HashMap<>();
    salts.put(holdout.salt(), "holdout.salt");
    Map<String, Layer> layerById = new HashMap<>();
    for (Layer layer : layers) {
      String at = "layers[" + layer.id() + "]";
      if (layerById.put(layer.id(), layer) != null) {
        throw new InvalidConfigException(at + ".id", "is used by two layers");
      }
      requireNewSalt(salts, layer.salt(), at + ".salt");
    }
    Map<String, ExperimentDef> byId = new HashMap<>();
    Map<String, BucketSet> heldByLayer = new HashMap<>();
    Map<String, String> paramLayer = new HashMap<>();
    for (ExperimentDef e : experiments) {
      String at = "experiments[" + e.id() + "]";
      if (byId.put(e.id(), e) != null) {
        throw new InvalidConfigException(at + ".id", "is used by two experiments");
      }
      if (!layerById.containsKey(e.layerId())) {
        throw new InvalidConfigException(at + ".layerId", "unknown layer '" + e.layerId() + "'");
      }
      requireNewSalt(salts, e.salt(), at + ".salt");
      BucketSet held = heldByLayer.getOrDefault(e.layerId(), BucketSet.EMPTY);
      if (held.intersects(e.layerBuckets())) {
        throw new InvalidConfigException(at + ".layerBuckets", "overlap buckets " + held.intersection(
            e.layerBuckets()) + " another experiment of layer '" + e.layerId() + "' holds");
      }
      heldByLayer.put(e.layerId(), held.union(e.layerBuckets()));
      if (e.state() == State.STOPPED) {
        continue;
      }
      for (ArmDef arm : e.arms()) {
        for (String field : arm.params().fieldsSet()) {
          String owner = paramLayer.putIfAbsent(field, e.layerId());
          if (owner != null && !owner.equals(e.layerId())) {
            throw new InvalidConfigException(at + ".arms[" + arm.name() + "].params." + field, "is already"
                + " varied in layer '" + owner + "'; a parameter may be set by the experiments of one layer only");
          }
        }
      }
    }
  }

  private static void requireNewSalt(Map<String, String> salts, String salt, String field) {
    String other = salts.putIfAbsent(salt, field);
    if (other != null) {
      throw new InvalidConfigException(field, "equals " + other + "; equal salts would make assignments coincide");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ExperimentConfig c && version == c.version && holdout.equals(c.holdout)
        && layers.equals(c.layers) && experiments.equals(c.experiments);
  }

  @Override
  public int hashCode() {
    return Objects.hash(version, holdout, layers, experiments);
  }

  @Override
  public String toString() {
    return "ExperimentConfig[version=" + version + ", holdout=" + holdout + ", layers=" + layers + ", experiments="
        + experiments + "]";
  }
}
