package dev.adengine.models.scoring;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A deployable pCTR model: the two ranking stages and their calibrations, with the feature schema
 * they were trained on. Stage 1 is a logistic regression cheap enough for every candidate; stage 2
 * is a gradient-boosted tree ensemble (trained with Smile, compiled to a {@link FlatForest}) that
 * re-scores the stage-1 top K. Stage 2's probability is a {@link Blend} of both models' log-odds,
 * fitted on held-out rows: the trees add what the regression misses without losing what it has
 * (on the simulator's logs the regression alone ranks better than the trees alone;
 * docs/benchmarks/models.md). Immutable and thread-safe; scoring is allocation-free.
 *
 * <p>Binary format ({@link #write}): magic, format version, then version, schema hash, feature
 * names, metadata (string pairs: training provenance and metrics), the regression, its Platt
 * calibration, the trees and the blend.
 */
public final class CtrModel {
  private static final int MAGIC = 0x41444354; // "ADCT"
  private static final int FORMAT = 1;

  private final String version;
  private final String schemaHash;
  private final List<String> featureNames;
  private final Map<String, String> metadata;
  private final LogisticModel stage1;
  private final Platt stage1Calibration;
  private final FlatForest stage2;
  private final Blend stage2Blend;
  /** Stage 2's trees for batches: the scalar path until {@link #withCompiledStage2()}. */
  private final RankForest stage2Batch;
  /** Each thread's working memory for {@link #stage2Batch}, dropped with this model. */
  private final ThreadLocal<RankForest.Scratch> batchScratch;

  public CtrModel(String version, String schemaHash, List<String> featureNames, Map<String, String> metadata,
      LogisticModel stage1, Platt stage1Calibration, FlatForest stage2, Blend stage2Blend) {
    this(version, schemaHash, featureNames, metadata, stage1, stage1Calibration, stage2, stage2Blend,
        RankForest.scalar(stage2, "not compiled (CtrModel.withCompiledStage2)"));
  }

  private CtrModel(String version, String schemaHash, List<String> featureNames, Map<String, String> metadata,
      LogisticModel stage1, Platt stage1Calibration, FlatForest stage2, Blend stage2Blend,
      RankForest stage2Batch) {
    if (stage1.features() != featureNames.size()) {
      throw new IllegalArgumentException("stage 1 has " + stage1.features() + " features, schema "
          + featureNames.size());
    }
    if (!List.of(stage2.featureNames()).equals(featureNames)) {
      throw new IllegalArgumentException("stage 2 reads other columns than the schema's " + featureNames.size());
    }
    this.version = version;
    this.schemaHash = schemaHash;
    this.featureNames = List.copyOf(featureNames);
    this.metadata = Map.copyOf(metadata);
    this.stage1 = stage1;
    this.stage1Calibration = stage1Calibration;
    this.stage2 = stage2;
    this.stage2Blend = stage2Blend;
    this.stage2Batch = stage2Batch;
    this.batchScratch = ThreadLocal.withInitial(stage2Batch::newScratch);
  }

  /**
   * This model with its batch stage 2 ({@link #stage2(double[][], int, double[], double[], double[])})
   * on {@link RankForest#of} of its trees, warmed up so HotSpot has compiled the generated code:
   * a second or a few of work, for when a model is loaded, not for a request. When the JVM cannot
   * run the vector path the copy keeps the scalar one; {@link #stage2Path()} says which and why.
   */
  public CtrModel withCompiledStage2() {
    return withCompiledStage2(null);
  }

  /**
   * As {@link #withCompiledStage2()}, keeping the generated class in {@code classCache} (a directory,
   * or {@code null}) so that a restart on the same machine skips javac ({@link RankForest#of(FlatForest,
   * java.nio.file.Path)}).
   */
  public CtrModel withCompiledStage2(java.nio.file.Path classCache) {
    return withCompiledStage2(classCache, System.nanoTime(), Long.MAX_VALUE);
  }

  /**
   * As {@link #withCompiledStage2(java.nio.file.Path)}, cutting the warm-up short once
   * {@code budgetNanos} have passed since {@code startNanos} ({@link RankForest#warmUp(int, long, long)}):
   * the copy is then compiled but maybe not yet fast, which its caller measures.
   */
  public CtrModel withCompiledStage2(java.nio.file.Path classCache, long startNanos, long budgetNanos) {
    RankForest batch = RankForest.of(stage2, classCache);
    batch.warmUp(20_000, startNanos, budgetNanos);
    return new CtrModel(version, schemaHash, featureNames, metadata, stage1, stage1Calibration, stage2, stage2Blend,
        batch);
  }

  /** Runs the compiled batch stage 2 this many more batches (nothing on the scalar path): more JIT warm-up. */
  public void warmUpStage2(int batches) {
    stage2Batch.warmUp(batches);
  }

  /** As {@link #warmUpStage2(int)}, within a budget ({@link RankForest#warmUp(int, long, long)}). */
  public void warmUpStage2(int batches, long startNanos, long budgetNanos) {
    stage2Batch.warmUp(batches, startNanos, budgetNanos);
  }

  /** Which path the batch stage 2 takes ({@link RankForest#path()}). */
  public String stage2Path() {
    return stage2Batch.path();
  }

  /** Whether the batch stage 2 runs generated vector code (else the scalar trees). */
  public boolean stage2Vectorized() {
    return stage2Batch.vectorized();
  }

  /** Calibrated stage-1 (logistic regression) click probability. */
  public double stage1(double[] x) {
    return stage1Calibration.apply(stage1.margin(x));
  }

  /** Stage 1's uncalibrated log-odds: what {@link #stage1FromLogOdds} and the stage-2 blend take. */
  public double stage1LogOdds(double[] x) {
    return stage1.margin(x);
  }

  /** Calibrated stage-1 click probability from its log-odds. */
  public double stage1FromLogOdds(double logOdds) {
    return stage1Calibration.apply(logOdds);
  }

  /** Stage-2 click probability: the blend of the trees' and the regression's log-odds. */
  public double stage2(double[] x) {
    return stage2Blend.apply(stage1.margin(x), stage2.margin(x));
  }

  /**
   * {@link #stage2(double[])}, faster: with a caller-owned scratch array of {@link #scratchSize()}
   * and stage 1's log-odds of the same row, already computed by the caller.
   */
  public double stage2(double[] x, double[] scratch, double stage1LogOdds) {
    return stage2Blend.apply(stage1LogOdds, stage2.margin(x, scratch));
  }

  /**
   * {@link #stage2(double[], double[], double)} of {@code rows[i]} with {@code stage1LogOdds[i]}
   * into {@code out[i]}, for {@code i < count}, on the batch path: bit for bit on the scalar path,
   * within about 1e-14 once vectorized ({@link #withCompiledStage2()}, {@link RankForest}). The
   * batch path keeps its working memory per thread; {@code scratch} is not used by it (kept so that
   * callers can use one signature for both stage-2 methods).
   */
  public void stage2(double[][] rows, int count, double[] stage1LogOdds, double[] out, double[] scratch) {
    stage2Batch.margins(rows, 0, count, out, batchScratch.get());
    for (int i = 0; i < count; i++) {
      out[i] = stage2Blend.apply(stage1LogOdds[i], out[i]);
    }
  }

  /** Length of the scratch array either stage-2 method needs. */
  public int scratchSize() {
    return stage2.scratchSize();
  }

  /** Refuses a model trained on another feature layout than the extractor in use. */
  public void requireSchema(String expectedHash) {
    if (!schemaHash.equals(expectedHash)) {
      throw new IllegalStateException("model " + version + " was trained on feature schema " + schemaHash
          + ", this extractor is " + expectedHash);
    }
  }

  public String version() {
    return version;
  }

  public String schemaHash() {
    return schemaHash;
  }

  public List<String> featureNames() {
    return featureNames;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  public LogisticModel logistic() {
    return stage1;
  }

  public FlatForest forest() {
    return stage2;
  }

  public Platt stage1Calibration() {
    return stage1Calibration;
  }

  public Blend stage2Blend() {
    return stage2Blend;
  }

  public void write(OutputStream os) throws IOException {
    DataOutputStream out = new DataOutputStream(os);
    out.writeInt(MAGIC);
    out.writeInt(FORMAT);
    out.writeUTF(version);
    out.writeUTF(schemaHash);
    out.writeInt(featureNames.size());
    for (String n : featureNames) {
      out.writeUTF(n);
    }
    out.writeInt(metadata.size());
    for (Map.Entry<String, String> e : new java.util.TreeMap<>(metadata).entrySet()) {
      out.writeUTF(e.getKey());
      out.writeUTF(e.getValue());
    }
    stage1.write(out);
    out.writeDouble(stage1Calibration.a());
    out.writeDouble(stage1Calibration.b());
    stage2.write(out);
    out.writeDouble(stage2Blend.w1());
    out.writeDouble(stage2Blend.w2());
    out.writeDouble(stage2Blend.b());
    out.flush();
  }

  public byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      write(bytes);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return bytes.toByteArray();
  }

  public static CtrModel read(InputStream is) throws IOException {
    DataInputStream in = new DataInputStream(is);
    if (in.readInt() != MAGIC) {
      throw new IOException("not a CtrModel (bad magic)");
    }
    int format = in.readInt();
    if (format != FORMAT) {
      throw new IOException("unsupported CtrModel format " + format);
    }
    String version = in.readUTF();
    String hash = in.readUTF();
    int n = in.readInt();
    if (n < 1 || n > 10_000) {
      throw new IOException("bad feature count " + n);
    }
    String[] names = new String[n];
    for (int i = 0; i < n; i++) {
      names[i] = in.readUTF();
    }
    int m = in.readInt();
    if (m < 0 || m > 10_000) {
      throw new IOException("bad metadata count " + m);
    }
    Map<String, String> meta = new LinkedHashMap<>();
    for (int i = 0; i < m; i++) {
      meta.put(in.readUTF(), in.readUTF());
    }
    LogisticModel lr = LogisticModel.read(in);
    Platt c1 = new Platt(in.readDouble(), in.readDouble());
    FlatForest forest = FlatForest.read(in);
    Blend blend = new Blend(in.readDouble(), in.readDouble(), in.readDouble());
    return new CtrModel(version, hash, Arrays.asList(names), meta, lr, c1, forest, blend);
  }

  public static CtrModel fromBytes(byte[] bytes) throws IOException {
    return read(new ByteArrayInputStream(bytes));
  }
}
