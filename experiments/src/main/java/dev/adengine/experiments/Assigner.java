package dev.adengine.experiments;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Assigns users to arms under one {@link ExperimentConfig}: a pure function of (config, user id),
 * the same on every node and after every restart, with no remote call.
 *
 * <p>For a user id {@code u} (hashed as UTF-16LE with {@link XxHash64#hashChars}), with {@code
 * bucket(salt) = XXH64(u, seedOf(salt)) mod 10000} (the 64-bit hash taken as unsigned):
 *
 * <ol>
 *   <li>{@code bucket(holdout.salt) < holdout.basisPoints}: the user is in the global holdout,
 *       in every layer.
 *   <li>Otherwise, in each layer, the RUNNING experiment whose layer buckets hold {@code
 *       bucket(layer.salt)} (at most one: they are disjoint), if any;
 *   <li>and in it, the arm whose arm buckets hold {@code bucket(experiment.salt)}.
 * </ol>
 *
 * A null or empty user id is in no experiment ({@link LayerAssignment.Kind#NONE} everywhere): one
 * shared id would put every anonymous request in the same arm.
 *
 * <p>Built once per config version (the tables take 20 KB per layer and 10 KB per
 * running experiment; building them took ~0.3 ms for two layers here) and then immutable and thread-safe. On the hot path {@link #assign(String)} hashes
 * the id once per layer plus once per experiment it falls in, looks the buckets up in arrays, and
 * allocates one small {@link Assignment}; {@link #assign(String, int)} allocates nothing.
 * Measured roughly (a plain loop, not JMH, on this shared 2-core machine under load): 130-210 ns
 * for {@code assign} with a holdout and two layers on 36-character UUIDs, 75-140 ns for one layer.
 */
public final class Assigner {

  private static final short NO_EXPERIMENT = -1;

  private final ExperimentConfig config;
  private final int holdoutBasisPoints;
  private final long holdoutSeed;
  private final long[] layerSeeds;
  /** Per layer, per layer bucket: index into the running experiments, or -1. */
  private final short[][] experimentByBucket;
  private final long[] experimentSeeds;
  /** Per running experiment, per arm bucket: the arm's index. */
  private final byte[][] armByBucket;
  /** Per running experiment, per arm index: the shared result. */
  private final LayerAssignment[][] armResults;
  private final LayerAssignment[] noneResults;
  private final Assignment holdoutAssignment;
  private final Assignment noneAssignment;
  private final boolean anyRunning;

  private Assigner(ExperimentConfig config) {
    this.config = config;
    this.holdoutBasisPoints = config.holdout().basisPoints();
    this.holdoutSeed = XxHash64.seedOf(config.holdout().salt());
    List<Layer> layers = config.layers();
    int layerCount = layers.size();
    layerSeeds = new long[layerCount];
    experimentByBucket = new short[layerCount][];
    noneResults = new LayerAssignment[layerCount];
    LayerAssignment[] holdoutResults = new LayerAssignment[layerCount];
    List<ExperimentDef> running = new ArrayList<>();
    for (ExperimentDef e : config.experiments()) {
      if (e.running()) {
        running.add(e);
      }
    }
    if (running.size() > Short.MAX_VALUE) {
      throw new IllegalArgumentException("at most " + Short.MAX_VALUE + " running experiments, got " + running.size());
    }
    experimentSeeds = new long[running.size()];
    armByBucket = new byte[running.size()][];
    armResults = new LayerAssignment[running.size()][];
    for (int i = 0; i < layerCount; i++) {
      Layer layer = layers.get(i);
      layerSeeds[i] = XxHash64.seedOf(layer.salt());
      noneResults[i] = LayerAssignment.none(layer.id());
      holdoutResults[i] = LayerAssignment.holdout(layer.id());
      short[] table = new short[BucketSet.BUCKETS];
      Arrays.fill(table, NO_EXPERIMENT);
      experimentByBucket[i] = table;
    }
    for (int x = 0; x < running.size(); x++) {
      ExperimentDef e = running.get(x);
      int layerIndex = indexOfLayer(layers, e.layerId());
      fill(experimentByBucket[layerIndex], e.layerBuckets(), (short) x);
      experimentSeeds[x] = XxHash64.seedOf(e.salt());
      byte[] arms = new byte[BucketSet.BUCKETS];
      LayerAssignment[] results = new LayerAssignment[e.arms().size()];
      for (int a = 0; a < e.arms().size(); a++) {
        ArmDef arm = e.arms().get(a);
        fill(arms, arm.buckets(), (byte) a);
        results[a] = new LayerAssignment(e.layerId(), LayerAssignment.Kind.EXPERIMENT, e.id(), arm.name(),
            arm.control(), arm.params());
      }
      armByBucket[x] = arms;
      armResults[x] = results;
    }
    anyRunning = !running.isEmpty();
    holdoutAssignment = new Assignment(config.version(), true, holdoutResults);
    noneAssignment = new Assignment(config.version(), false, noneResults.clone());
  }

  /** Builds the lookup tables for {@code config}. */
  public static Assigner of(ExperimentConfig config) {
    return new Assigner(config);
  }

  public ExperimentConfig config() {
    return config;
  }

  /** The user's place in every layer of the config. */
  public Assignment assign(String userId) {
    if (userId == null || userId.isEmpty()) {
      return noneAssignment;
    }
    if (inHoldout(userId)) {
      return holdoutAssignment;
    }
    if (!anyRunning) {
      return noneAssignment;
    }
    LayerAssignment[] out = new LayerAssignment[layerSeeds.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = inLayer(userId, i);
    }
    return new Assignment(config.version(), false, out);
  }

  /** The user's place in layer {@code layerIndex} (config order), without allocating. */
  public LayerAssignment assign(String userId, int layerIndex) {
    if (userId == null || userId.isEmpty()) {
      return noneResults[layerIndex];
    }
    if (inHoldout(userId)) {
      return holdoutAssignment.layer(layerIndex);
    }
    return inLayer(userId, layerIndex);
  }

  /** True when the user is in the global holdout. */
  public boolean inHoldout(String userId) {
    return holdoutBasisPoints > 0 && bucket(userId, holdoutSeed) < holdoutBasisPoints;
  }

  /** The index of layer {@code id} in the config, or -1. */
  public int layerIndex(String id) {
    return indexOfLayer(config.layers(), id);
  }

  /** The bucket in [0, 10000) of {@code userId} under {@code salt}: {@code XXH64(u, seedOf(salt)) mod 10000}. */
  public static int bucket(String salt, String userId) {
    return bucket(userId, XxHash64.seedOf(salt));
  }

  private LayerAssignment inLayer(String userId, int layerIndex) {
    int x = experimentByBucket[layerIndex][bucket(userId, layerSeeds[layerIndex])];
    if (x == NO_EXPERIMENT) {
      return noneResults[layerIndex];
    }
    return armResults[x][armByBucket[x][bucket(userId, experimentSeeds[x])]];
  }

  private static int bucket(String userId, long seed) {
    return (int) Long.remainderUnsigned(XxHash64.hashChars(userId, seed), BucketSet.BUCKETS);
  }

  private static int indexOfLayer(List<Layer> layers, String id) {
    for (int i = 0; i < layers.size(); i++) {
      if (layers.get(i).id().equals(id)) {
        return i;
      }
    }
    return -1;
  }

  private static void fill(short[] table, BucketSet set, short value) {
    int[] b = set.bounds();
    for (int i = 0; i < b.length; i += 2) {
      Arrays.fill(table, b[i], b[i + 1], value);
    }
  }

  private static void fill(byte[] table, BucketSet set, byte value) {
    int[] b = set.bounds();
    for (int i = 0; i < b.length; i += 2) {
      Arrays.fill(table, b[i], b[i + 1], value);
    }
  }
}
