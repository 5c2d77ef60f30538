package dev.adengine.engine.lifecycle;

import dev.adengine.api.v1.Device;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.persistence.FeatureLogRepository.Label;
import dev.adengine.persistence.FeatureLogRepository.LoggedRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Training rows built from the feature log, not recomputed: each shown ad's logged feature vector,
 * labelled by whether its impression was followed by a click (the labels joined by request and ad).
 * The one change to a logged row is its position: serving scores every candidate at position 1, and
 * training puts back the slot the ad was shown in ({@link FeatureExtractor#setPosition}), so the
 * model learns position bias and serving stays free of it.
 *
 * <p>Records with another feature schema than this extractor's are skipped and counted (a model
 * must be trained on the layout it will be served with).
 */
public final class TrainingData {

  /**
   * Labelled rows in serving-time order, with their slices; {@code loggedPctr} is the pCTR the
   * serving model gave the row (at position 1).
   */
  public record Rows(double[][] x, int[] y, long[] servedAtMs, String[] device, String[] destination,
      double[] loggedPctr, int clicks, int skippedSchema, int undecodable) {
    public int size() {
      return y.length;
    }

    /** Rows {@code [from, to)}. */
    public Rows slice(int from, int to) {
      int c = 0;
      for (int i = from; i < to; i++) {
        c += y[i];
      }
      return new Rows(Arrays.copyOfRange(x, from, to), Arrays.copyOfRange(y, from, to),
          Arrays.copyOfRange(servedAtMs, from, to), Arrays.copyOfRange(device, from, to),
          Arrays.copyOfRange(destination, from, to), Arrays.copyOfRange(loggedPctr, from, to), c, 0, 0);
    }

    /** Slice keys for per-slice metrics: {@code device=<name>} or {@code destination=<id>}. */
    public String[] sliceKeys(String dimension) {
      String[] src = "device".equals(dimension) ? device : destination;
      String[] out = new String[src.length];
      for (int i = 0; i < src.length; i++) {
        out[i] = dimension + "=" + src[i];
      }
      return out;
    }
  }

  private TrainingData() {}

  /** The shown ads of {@code logs} (position > 0 and an impression or click label), labelled. */
  public static Rows shown(List<LoggedRequest> logs, List<Label> labels) {
    Map<String, Label> byKey = new HashMap<>(labels.size() * 2);
    for (Label l : labels) {
      byKey.put(key(l.requestId(), l.adId()), l);
    }
    List<double[]> x = new ArrayList<>();
    List<Integer> y = new ArrayList<>();
    List<Long> at = new ArrayList<>();
    List<String> device = new ArrayList<>();
    List<String> destination = new ArrayList<>();
    List<Double> pctr = new ArrayList<>();
    int skipped = 0;
    int undecodable = 0;
    int clicks = 0;
    for (LoggedRequest r : logs) {
      if (!FeatureExtractor.SCHEMA_HASH.equals(r.schemaHash())) {
        skipped++;
        continue;
      }
      FeatureLogCodec.Context ctx;
      List<FeatureLogCodec.Candidate> candidates;
      try {
        ctx = FeatureLogCodec.decodeContext(r.context());
        candidates = FeatureLogCodec.decodeCandidates(r.candidates());
      } catch (IllegalArgumentException e) {
        undecodable++;
        continue;
      }
      for (FeatureLogCodec.Candidate c : candidates) {
        if (c.position() <= 0) {
          continue;
        }
        Label l = byKey.get(key(r.requestId(), c.adId()));
        if (l == null || (l.impressionAtMs() == null && l.clickAtMs() == null)) {
          continue; // won but never reported shown: not a training row
        }
        double[] row = c.features().clone();
        FeatureExtractor.setPosition(row, c.position());
        int label = l.clickAtMs() != null ? 1 : 0;
        clicks += label;
        x.add(row);
        y.add(label);
        at.add(r.servedAtMs());
        device.add(deviceName(ctx.device()));
        destination.add(ctx.destination());
        pctr.add(c.pctr());
      }
    }
    int n = x.size();
    int[] ys = new int[n];
    long[] ats = new long[n];
    double[] ps = new double[n];
    for (int i = 0; i < n; i++) {
      ys[i] = y.get(i);
      ats[i] = at.get(i);
      ps[i] = pctr.get(i);
    }
    return new Rows(x.toArray(new double[0][]), ys, ats, device.toArray(new String[0]),
        destination.toArray(new String[0]), ps, clicks, skipped, undecodable);
  }

  /**
   * The rows the serving model scored in stage 2 (position 1, as logged), at most {@code max}
   * evenly spread over {@code logs}: what the drift monitor will see live, so the reference
   * distributions are fitted on them.
   */
  public static double[][] scoredRows(List<LoggedRequest> logs, int max) {
    List<double[]> all = new ArrayList<>();
    for (LoggedRequest r : logs) {
      if (!FeatureExtractor.SCHEMA_HASH.equals(r.schemaHash())) {
        continue;
      }
      try {
        for (FeatureLogCodec.Candidate c : FeatureLogCodec.decodeCandidates(r.candidates())) {
          if (c.rescored()) {
            all.add(c.features());
          }
        }
      } catch (IllegalArgumentException e) {
        // counted by shown(); a reference can do without it
      }
    }
    if (all.size() <= max) {
      return all.toArray(new double[0][]);
    }
    double[][] out = new double[max][];
    for (int i = 0; i < max; i++) {
      out[i] = all.get((int) ((long) i * all.size() / max));
    }
    return out;
  }

  static String deviceName(int code) {
    Device d = Device.forNumber(code);
    return d == null ? Integer.toString(code) : d.name().toLowerCase(java.util.Locale.ROOT);
  }

  private static String key(String requestId, String adId) {
    return requestId + '\u0000' + adId;
  }
}
