package dev.adengine.models.drift;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Drift of a {@link DriftWindow}'s rows against the model's {@link ReferenceDistribution}: the
 * {@link Psi} of each feature, in feature order, and of the score. With fewer rows than the report
 * was asked to require every PSI is NaN: a handful of rows would show noise as drift.
 *
 * @param rows rows in the window
 * @param featurePsi PSI per feature name, in the reference's feature order
 * @param scorePsi PSI of the score (pCTR)
 */
public record DriftReport(long rows, Map<String, Double> featurePsi, double scorePsi) {

  public DriftReport {
    featurePsi = Collections.unmodifiableMap(new LinkedHashMap<>(featurePsi));
  }

  /** Names of the features whose PSI exceeds {@code threshold}, in feature order; none without evidence. */
  public List<String> drifted(double threshold) {
    List<String> names = new ArrayList<>();
    for (Map.Entry<String, Double> e : featurePsi.entrySet()) {
      if (e.getValue() > threshold) {
        names.add(e.getKey());
      }
    }
    return names;
  }
}
