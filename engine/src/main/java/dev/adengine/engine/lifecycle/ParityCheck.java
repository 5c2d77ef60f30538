package dev.adengine.engine.lifecycle;

import dev.adengine.engine.catalog.AdDef;
import dev.adengine.engine.catalog.CatalogSnapshot;
import dev.adengine.models.features.FeatureExtractor;
import dev.adengine.models.features.RequestFeatures;
import dev.adengine.engine.ranking.RankingFeatures;
import dev.adengine.persistence.FeatureLogRepository.LoggedRequest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Offline/online parity: recomputes the features of a sample of logged candidates offline, from
 * the logged request context, the ad as the catalog holds it now and the logged online counts, and
 * compares them with the vectors the engine logged when it served them. A mismatch is reported per
 * feature (how many rows differ, the largest difference): it means training rows and served rows
 * would differ, e.g. because the catalog changed an ad's price since (expected, and visible here)
 * or because extraction code differs between the two paths (a bug).
 */
public final class ParityCheck {

  /** Per feature: rows compared, rows that differ by more than the tolerance, the largest difference. */
  public record FeatureParity(String feature, int compared, int mismatches, double maxAbsDiff) {}

  /** The result: candidates compared, those whose ad is gone from the catalog, and per-feature parity. */
  public record Report(int compared, int adsMissing, Map<String, FeatureParity> features) {
    public int mismatchedRows() {
      return features.values().stream().mapToInt(FeatureParity::mismatches).max().orElse(0);
    }

    /** Features with at least one mismatch. */
    public List<FeatureParity> mismatched() {
      return features.values().stream().filter(f -> f.mismatches() > 0).toList();
    }
  }

  /** Differences at or below this count as equal (the two paths run the same arithmetic). */
  public static final double TOLERANCE = 1e-12;

  private ParityCheck() {}

  /** Compares up to {@code maxCandidates} logged candidates with features recomputed from {@code catalog}. */
  public static Report run(List<LoggedRequest> logs, CatalogSnapshot catalog, int maxCandidates) {
    int n = FeatureExtractor.SIZE;
    int[] mismatches = new int[n];
    double[] maxDiff = new double[n];
    int compared = 0;
    int missing = 0;
    double[] x = new double[n];
    outer:
    for (LoggedRequest r : logs) {
      if (!FeatureExtractor.SCHEMA_HASH.equals(r.schemaHash())) {
        continue;
      }
      FeatureLogCodec.Context ctx;
      List<FeatureLogCodec.Candidate> candidates;
      try {
        ctx = FeatureLogCodec.decodeContext(r.context());
        candidates = FeatureLogCodec.decodeCandidates(r.candidates());
      } catch (IllegalArgumentException e) {
        continue;
      }
      int days = ctx.checkinEpochDay() < 0 ? -1 : (int) Math.max(0, ctx.checkinEpochDay() - ctx.servingEpochDay());
      RequestFeatures request = RequestFeatures.of(ctx.device(), ctx.placement(), days, ctx.nights(), ctx.query());
      for (FeatureLogCodec.Candidate c : candidates) {
        if (compared >= maxCandidates) {
          break outer;
        }
        CatalogSnapshot.AdLocation loc = catalog.ad(c.adId());
        if (loc == null) {
          missing++;
          continue;
        }
        AdDef ad = loc.ad();
        RankingFeatures.fill(x, request, ctx.destination(), ctx.medianPriceMicros(), ad, 1, c.adImpressions(),
            c.adClicks(), c.campaignImpressions(), c.campaignClicks());
        compared++;
        for (int f = 0; f < n; f++) {
          double d = Math.abs(x[f] - c.features()[f]);
          if (d > TOLERANCE || Double.isNaN(d)) {
            mismatches[f]++;
            maxDiff[f] = Math.max(maxDiff[f], Double.isNaN(d) ? Double.POSITIVE_INFINITY : d);
          }
        }
      }
    }
    Map<String, FeatureParity> out = new LinkedHashMap<>();
    for (int f = 0; f < n; f++) {
      out.put(FeatureExtractor.NAMES.get(f), new FeatureParity(FeatureExtractor.NAMES.get(f), compared, mismatches[f],
          maxDiff[f]));
    }
    return new Report(compared, missing, out);
  }
}
