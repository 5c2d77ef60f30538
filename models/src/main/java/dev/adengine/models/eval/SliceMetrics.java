package dev.adengine.models.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@link Metrics} per slice of the rows ("device=mobile", "destination=paris"): a model can be
 * better overall and worse where it matters, and an average over all traffic hides a segment it
 * has broken.
 *
 * <p>A slice is reported only with at least {@code minRows} rows and both a click and a non-click:
 * AUC is undefined with one class ({@link Metrics#auc} is NaN), and on a few rows every metric is
 * noise.
 */
public final class SliceMetrics {
  private SliceMetrics() {}

  /**
   * Metrics of predictions {@code p} against labels {@code y} per distinct {@code slice[i]}, for the
   * slices with at least {@code minRows} rows and both classes, sorted by slice key.
   */
  public static Map<String, Metrics> bySlice(double[] p, int[] y, String[] slice, int minRows) {
    if (p.length != y.length || p.length != slice.length) {
      throw new IllegalArgumentException("need one label and one slice per prediction: " + p.length + ", "
          + y.length + ", " + slice.length);
    }
    Map<String, List<Integer>> rows = new TreeMap<>();
    for (int i = 0; i < p.length; i++) {
      if (slice[i] == null) {
        throw new IllegalArgumentException("row " + i + " has no slice");
      }
      rows.computeIfAbsent(slice[i], k -> new ArrayList<>()).add(i);
    }
    Map<String, Metrics> out = new TreeMap<>();
    for (Map.Entry<String, List<Integer>> e : rows.entrySet()) {
      List<Integer> idx = e.getValue();
      int n = idx.size();
      if (n < minRows) {
        continue;
      }
      double[] sp = new double[n];
      int[] sy = new int[n];
      int positives = 0;
      for (int k = 0; k < n; k++) {
        sp[k] = p[idx.get(k)];
        sy[k] = y[idx.get(k)];
        positives += sy[k];
      }
      if (positives > 0 && positives < n) {
        out.put(e.getKey(), Metrics.of(sp, sy));
      }
    }
    return Collections.unmodifiableMap(out);
  }
}
