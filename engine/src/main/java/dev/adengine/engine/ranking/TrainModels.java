package dev.adengine.engine.ranking;

import dev.adengine.engine.sim.ClickLogGenerator;
import dev.adengine.engine.sim.Market;
import dev.adengine.engine.sim.MarketGenerator;
import dev.adengine.models.eval.Metrics;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.scoring.CtrModel;
import dev.adengine.models.training.CtrTrainer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/train}: generates labelled impressions with the simulator ({@link ClickLogGenerator}),
 * trains the two ranking stages with Smile ({@link CtrTrainer}), evaluates them next to the
 * simulator's oracle on held-out rows, writes the model file and {@code docs/benchmarks/models.md}.
 * The default output is the model bundled in the engine jar.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Train the pCTR models on simulator logs and report their quality against the oracle.")
public final class TrainModels implements Callable<Integer> {

  @Option(names = "--requests", description = "Simulated requests to log (default ${DEFAULT-VALUE}).")
  int requests = 200_000;

  @Option(names = "--campaigns", description = "Campaigns in the market (default ${DEFAULT-VALUE}).")
  int campaigns = MarketGenerator.DEFAULT_CAMPAIGNS;

  @Option(names = "--market-seed", description = "Market seed; the engine's demo uses 42 (default ${DEFAULT-VALUE}).")
  long marketSeed = 42;

  @Option(names = "--seed", description = "Seed of the request stream, clicks and training (default ${DEFAULT-VALUE}).")
  long seed = 7;

  @Option(names = "--trees", description = "Boosted trees (default ${DEFAULT-VALUE}).")
  int trees = CtrTrainer.Options.defaults().trees();

  @Option(names = "--max-nodes", description = "Leaves per tree at most (default ${DEFAULT-VALUE}).")
  int maxNodes = CtrTrainer.Options.defaults().maxNodes();

  @Option(names = "--out", description = "Model file to write (default ${DEFAULT-VALUE}).")
  Path out = Path.of("engine/src/main/resources/models/ctr-default.bin");

  @Option(names = "--report", description = "Markdown report to write, or '-' for none (default ${DEFAULT-VALUE}).")
  String report = "docs/benchmarks/models.md";

  /** The evaluation of one trained model on the test split. */
  public record Evaluation(Metrics oracle, Metrics adCtrBaseline, Metrics logisticRaw, Metrics stage1,
      Metrics treesRaw, Metrics stage2, double[][] calibrationTable) {}

  public static void main(String[] args) {
    System.exit(new CommandLine(new TrainModels()).execute(args));
  }

  @Override
  public Integer call() throws IOException {
    PrintStream log = System.out;
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    long t0 = System.nanoTime();
    Market market = new MarketGenerator(marketSeed, campaigns, today).generate();
    ClickLogGenerator.Log data = new ClickLogGenerator(market, seed, today).generate(requests);
    long genMillis = (System.nanoTime() - t0) / 1_000_000;
    log.printf(Locale.ROOT, "[train] %d requests -> %d train, %d calibration, %d test impressions in %d ms%n",
        requests, data.train().size(), data.calibration().size(), data.test().size(), genMillis);

    CtrTrainer.Options options = CtrTrainer.Options.defaults().withTrees(trees).withMaxNodes(maxNodes);
    String version = "ctr-" + today.toString().replace("-", "") + "-s" + seed;
    Map<String, String> provenance = new LinkedHashMap<>();
    provenance.put("source", "simulator: market seed " + marketSeed + ", " + campaigns + " campaigns, request seed "
        + seed + ", " + requests + " requests, exploration logging (random order)");
    provenance.put("trained.at", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    CtrTrainer.Trained trained = CtrTrainer.train(version, FeatureExtractor.NAMES, FeatureExtractor.SCHEMA_HASH,
        data.train().x(), data.train().y(), data.calibration().x(), data.calibration().y(), options, provenance);
    log.printf(Locale.ROOT, "[train] logistic regression %d ms, %d trees %d ms%n", trained.logisticMillis(), trees,
        trained.treesMillis());

    Evaluation e = evaluate(trained.model(), data.test());
    print(log, e);
    Files.createDirectories(out.toAbsolutePath().getParent());
    try (OutputStream os = Files.newOutputStream(out)) {
      trained.model().write(os);
    }
    log.printf(Locale.ROOT, "[train] wrote %s (%d bytes), version %s%n", out, Files.size(out), version);
    if (!"-".equals(report)) {
      writeReport(Path.of(report), trained, e, data, genMillis, options);
      log.printf("[train] wrote %s%n", report);
    }
    return 0;
  }

  /** Scores every test row with each model and the oracle. */
  public static Evaluation evaluate(CtrModel model, ClickLogGenerator.Rows test) {
    int n = test.size();
    double[] base = new double[n];
    double[] lrRaw = new double[n];
    double[] s1 = new double[n];
    double[] gbRaw = new double[n];
    double[] s2 = new double[n];
    int adCtr = FeatureExtractor.NAMES.indexOf("ad_ctr_logit");
    for (int i = 0; i < n; i++) {
      double[] x = test.x()[i];
      base[i] = 1 / (1 + Math.exp(-x[adCtr]));
      lrRaw[i] = model.logistic().probability(x);
      s1[i] = model.stage1(x);
      gbRaw[i] = model.forest().probability(x);
      s2[i] = model.stage2(x);
    }
    return new Evaluation(Metrics.of(test.truth(), test.y()), Metrics.of(base, test.y()), Metrics.of(lrRaw, test.y()),
        Metrics.of(s1, test.y()), Metrics.of(gbRaw, test.y()), Metrics.of(s2, test.y()), deciles(s2, test.y()));
  }

  /** Stage-2 calibration by decile of predicted CTR: {mean predicted, observed rate, rows}. */
  static double[][] deciles(double[] p, int[] y) {
    Integer[] order = new Integer[p.length];
    for (int i = 0; i < p.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(p[a], p[b]));
    double[][] t = new double[10][3];
    for (int d = 0; d < 10; d++) {
      int from = (int) ((long) p.length * d / 10);
      int to = (int) ((long) p.length * (d + 1) / 10);
      double sp = 0;
      double sy = 0;
      for (int k = from; k < to; k++) {
        sp += p[order[k]];
        sy += y[order[k]];
      }
      int rows = Math.max(1, to - from);
      t[d] = new double[] {sp / rows, sy / rows, to - from};
    }
    return t;
  }

  private static void print(PrintStream out, Evaluation e) {
    for (String[] row : rows(e)) {
      out.println("[train] " + String.join("  ", row));
    }
  }

  private static List<String[]> rows(Evaluation e) {
    List<String[]> rows = new ArrayList<>();
    rows.add(row("oracle (true click probability)", e.oracle(), e.oracle()));
    rows.add(row("baseline: the ad's smoothed CTR", e.adCtrBaseline(), e.oracle()));
    rows.add(row("stage 1: logistic regression, raw", e.logisticRaw(), e.oracle()));
    rows.add(row("stage 1: logistic regression, calibrated", e.stage1(), e.oracle()));
    rows.add(row("boosted trees alone (Smile GradientTreeBoost)", e.treesRaw(), e.oracle()));
    rows.add(row("stage 2: blend of trees and stage 1", e.stage2(), e.oracle()));
    return rows;
  }

  private static String[] row(String name, Metrics m, Metrics oracle) {
    return new String[] {name, f4(m.auc()), String.format(Locale.ROOT, "%.3f", m.auc() / oracle.auc()),
        String.format(Locale.ROOT, "%.5f", m.logLoss()), String.format(Locale.ROOT, "%.5f", m.calibrationError()),
        String.format(Locale.ROOT, "%.3f", m.calibrationRatio())};
  }

  private static String f4(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }

  private void writeReport(Path path, CtrTrainer.Trained trained, Evaluation e, ClickLogGenerator.Log data,
      long genMillis, CtrTrainer.Options o) throws IOException {
    CtrModel m = trained.model();
    StringBuilder sb = new StringBuilder();
    sb.append("# pCTR models against the simulator's oracle\n\n");
    sb.append("Written by `bin/train` (`dev.adengine.engine.ranking.TrainModels`) on ")
        .append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append(", commit `").append(commit())
        .append("`, ").append(Runtime.getRuntime().availableProcessors()).append(" cores, JVM ")
        .append(System.getProperty("java.version")).append(". Reproduce: `bin/train")
        .append(requests != 200_000 ? " --requests " + requests : "")
        .append(trees != CtrTrainer.Options.defaults().trees() ? " --trees " + trees : "")
        .append(maxNodes != CtrTrainer.Options.defaults().maxNodes() ? " --max-nodes " + maxNodes : "")
        .append("` (deterministic up to Smile's parallel split search).\n\n");
    sb.append("## Data\n\n");
    sb.append(String.format(Locale.ROOT, "- %,d simulated requests (market seed %d, %,d campaigns, request seed %d), "
        + "logged with exploration: each request shows its `slots` eligible campaigns in a random order, so "
        + "position and ad quality are not confounded. Clicks are drawn from `GroundTruthClickModel`, which "
        + "also gives each row's true click probability (the oracle).%n", requests, marketSeed, campaigns, seed));
    sb.append(String.format(Locale.ROOT, "- Impressions: %,d train, %,d calibration, %,d test (split by request: "
        + "60/15/25). Test CTR %.3f%% (%,d clicks). Generated in %,d ms.%n", data.train().size(),
        data.calibration().size(), data.test().size(), 100 * e.oracle().observedRate(), e.oracle().positives(),
        genMillis));
    sb.append("- Features: `FeatureExtractor` (").append(FeatureExtractor.SIZE).append(" columns, schema `")
        .append(FeatureExtractor.SCHEMA_HASH).append("`), the code the bid path uses. Position is a training "
        + "feature; serving scores every candidate at position 1.\n\n");
    sb.append("## Models\n\n");
    sb.append("- Version `").append(m.version()).append("`; ").append(m.metadata().get("options")).append(".\n");
    sb.append(String.format(Locale.ROOT, "- Stage 1: Smile `LogisticRegression.binomial` on standardized "
        + "features, trained in %,d ms. Stage 2: Smile `GradientTreeBoost` (%d trees, %,d nodes), trained in "
        + "%,d ms, compiled to `FlatForest`, blended with stage 1.%n", trained.logisticMillis(), m.forest().trees(), m.forest().nodes(),
        trained.treesMillis()));
    sb.append(String.format(Locale.ROOT, "- Calibration, fitted on the calibration split: stage 1 Platt "
        + "scaling a=%.4f b=%.4f; stage 2 = sigmoid(w1 x stage-1 log-odds + w2 x tree margin + b) with "
        + "w1=%.4f w2=%.4f b=%.4f.%n%n", m.stage1Calibration().a(), m.stage1Calibration().b(),
        m.stage2Blend().w1(), m.stage2Blend().w2(), m.stage2Blend().b()));
    sb.append("## Quality on the test split\n\n");
    sb.append("Goal: AUC >= 0.97 x the oracle's. Calibration error: expected calibration error over 20 "
        + "equal-count bins; ratio: mean predicted / observed CTR.\n\n");
    sb.append("| model | AUC | AUC / oracle | log loss | calibration error | calibration ratio |\n");
    sb.append("|---|---:|---:|---:|---:|---:|\n");
    for (String[] r : rows(e)) {
      sb.append("| ").append(String.join(" | ", r)).append(" |\n");
    }
    sb.append(String.format(Locale.ROOT, "%nA calibration ratio is itself measured on %,d test clicks: its "
        + "standard error is about %.1f%%. The blend gives the trees weight w2 = %.3f next to stage 1's %.3f: "
        + "the simulator's click model is logistic in features the extractor computes (its query-term crosses "
        + "included), so the regression already has the right form here and the trees can only add "
        + "interactions it lacks. Trees alone reach %.3f of the oracle's AUC; blended, stage 2 ranks as well "
        + "as stage 1 (table above): on this simulator the trees buy no measurable quality, and what they cost "
        + "is in ranking.md.%n", e.oracle().positives(),
        100 / Math.sqrt(Math.max(1, e.oracle().positives())), m.stage2Blend().w2(), m.stage2Blend().w1(),
        e.treesRaw().auc() / e.oracle().auc()));
    sb.append("\nStage 2 (served pCTR of the top K) by decile of prediction:\n\n");
    sb.append("| decile | rows | mean predicted | observed |\n|---:|---:|---:|---:|\n");
    for (int d = 0; d < 10; d++) {
      double[] t = e.calibrationTable()[d];
      sb.append(String.format(Locale.ROOT, "| %d | %,d | %.4f | %.4f |%n", d + 1, (long) t[2], t[0], t[1]));
    }
    sb.append("\nThe observed rate of a decile is itself an estimate: with about 1% CTR, a decile of ")
        .append(String.format(Locale.ROOT, "%,d", data.test().size() / 10))
        .append(" rows has a standard error of about ")
        .append(String.format(Locale.ROOT, "%.4f", Math.sqrt(0.01 * 0.99 / Math.max(1, data.test().size() / 10))))
        .append(".\n");
    Files.createDirectories(path.toAbsolutePath().getParent());
    // the lifecycle's figures are measured by another run (bin/lifecycle-bench): keep them
    String lifecycle = Files.exists(path) ? section(Files.readString(path), LIFECYCLE_HEADING) : "";
    if (!lifecycle.isEmpty()) {
      sb.append('\n').append(lifecycle);
    }
    Files.writeString(path, sb.toString());
  }

  /** The heading of models.md's section that {@code bin/lifecycle-bench} writes. */
  public static final String LIFECYCLE_HEADING = "## The ML lifecycle";

  /** The section of {@code text} from {@code heading} to the next level-2 heading or the end; "" if absent. */
  static String section(String text, String heading) {
    int from = text.indexOf("\n" + heading + "\n");
    if (from < 0) {
      return text.startsWith(heading + "\n") ? until(text, 0) : "";
    }
    return until(text, from + 1);
  }

  private static String until(String text, int from) {
    int next = text.indexOf("\n## ", from + 3);
    return next < 0 ? text.substring(from) : text.substring(from, next + 1);
  }

  /** Replaces (or appends) the section under {@code heading} of {@code file} with {@code body}. */
  public static void writeSection(Path file, String heading, String body) throws IOException {
    String text = Files.exists(file) ? Files.readString(file) : "";
    String old = section(text, heading);
    String fresh = heading + "\n\n" + body.strip() + "\n";
    String out;
    if (old.isEmpty()) {
      out = text + (text.isEmpty() || text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n") + fresh;
    } else {
      int at = text.indexOf(old);
      String after = text.substring(at + old.length());
      out = text.substring(0, at) + fresh + (after.isEmpty() ? "" : "\n" + after);
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, out);
  }

  static String commit() {
    return dev.adengine.engine.lifecycle.LifecycleSettings.gitCommit("auto");
  }

}
