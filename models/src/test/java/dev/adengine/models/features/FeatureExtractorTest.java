package dev.adengine.models.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FeatureExtractorTest {
  static final RequestFeatures REQUEST =
      RequestFeatures.of(RequestFeatures.MOBILE, RequestFeatures.MAP_VIEW, 10, 3, "Cheap family hotel");

  static double value(double[] x, String name) {
    return x[FeatureExtractor.NAMES.indexOf(name)];
  }

  @Test
  void shouldEncodeRequestAdAndOnlineFeaturesWhenFilled() {
    // given
    double[] x = new double[FeatureExtractor.SIZE];

    // when
    FeatureExtractor.fill(x, REQUEST, 3, 4, 8.5, 200_000_000, 100_000_000, FeatureExtractor.ELSEWHERE, 1_000, 30,
        0, 0);

    // then
    assertEquals(1, value(x, "mobile"));
    assertEquals(0, value(x, "tablet"));
    assertEquals(1, value(x, "map_view"));
    assertEquals(Math.log(3), value(x, "log_position"), 1e-12);
    assertEquals(Math.log(3), value(x, "mobile_x_log_position"), 1e-12);
    assertEquals(Math.exp(-2), value(x, "checkin_soon"), 1e-12);
    assertEquals(3, value(x, "nights"));
    assertEquals(1, value(x, "q_budget"));
    assertEquals(1, value(x, "q_family"));
    assertEquals(0, value(x, "q_luxury"));
    assertEquals(Math.log(2), value(x, "log_price_ratio"), 1e-12);
    assertEquals(Math.log(2), value(x, "budget_x_log_price"), 1e-12);
    assertEquals(1, value(x, "family_x_mid_stars"));
    assertEquals(0, value(x, "in_destination"));
    assertEquals(0, value(x, "destination_unknown"));
    // ad CTR smoothed toward the campaign's (here the prior 2%, no campaign history): (30 + 0.02 x 200) / 1,200
    double adCtr = (30 + 0.02 * 200) / 1_200.0;
    assertEquals(Math.log(adCtr / (1 - adCtr)), value(x, "ad_ctr_logit"), 1e-12);
    assertEquals(Math.log1p(1_000), value(x, "log_ad_impressions"), 1e-12);
  }

  @Test
  void shouldMarkUnknownsWhenInputsAreMissing() {
    // given
    double[] x = new double[FeatureExtractor.SIZE];
    RequestFeatures r = RequestFeatures.of(RequestFeatures.DESKTOP, RequestFeatures.SEARCH_RESULTS, -1, 0, null);

    // when
    FeatureExtractor.fill(x, r, 1, 3, 7, 0, 100_000_000, FeatureExtractor.UNKNOWN_DESTINATION, 0, 0, 0, 0);

    // then
    assertEquals(0, value(x, "checkin_known"));
    assertEquals(0, value(x, "checkin_soon"));
    assertEquals(2, value(x, "nights"));
    assertEquals(0, value(x, "price_known"));
    assertEquals(0, value(x, "log_price_ratio"));
    assertEquals(1, value(x, "destination_unknown"));
    assertEquals(0, value(x, "log_position"));
  }

  @Test
  void shouldFindTermsWhateverTheCaseWhenParsingAQuery() {
    assertEquals(QueryTerms.LUXURY | QueryTerms.SPA, QueryTerms.parse("Five Star SPA resort"));
    assertEquals(QueryTerms.BUDGET | QueryTerms.HOSTEL, QueryTerms.parse("hostel near station"));
    assertEquals(0, QueryTerms.parse("  "));
    assertEquals(0, QueryTerms.parse(null));
  }

  @Test
  void shouldChangeTheSchemaHashWhenTheLayoutChanges() {
    // the hash is what a model is checked against; it must be stable and specific
    assertEquals(16, FeatureExtractor.SCHEMA_HASH.length());
    assertNotEquals(FeatureExtractor.SCHEMA_HASH, FeatureExtractor.hashOf(FeatureExtractor.NAMES.subList(1,
        FeatureExtractor.SIZE)));
    assertEquals(FeatureExtractor.SCHEMA_HASH, FeatureExtractor.hashOf(FeatureExtractor.NAMES));
  }

  @Test
  void shouldMatchAFillAtThatPositionWhenARowFilledAtPositionOneIsMoved() {
    // given: random requests, ads and histories
    SplittableRandom r = new SplittableRandom(7);
    double[] expected = new double[FeatureExtractor.SIZE];
    double[] moved = new double[FeatureExtractor.SIZE];
    for (int trial = 0; trial < 500; trial++) {
      RequestFeatures req = new RequestFeatures(1 + r.nextInt(3), 1 + r.nextInt(3), r.nextInt(-1, 90),
          r.nextInt(0, 15), r.nextInt(64));
      double stars = r.nextInt(6);
      double review = 10 * r.nextDouble();
      long price = r.nextInt(4) == 0 ? 0 : r.nextLong(10_000_000, 900_000_000);
      long median = r.nextLong(50_000_000, 300_000_000);
      int inDestination = r.nextInt(-1, 2);
      double adImps = r.nextInt(3) == 0 ? 0 : 5_000 * r.nextDouble();
      double adClicks = adImps * 0.03 * r.nextDouble();
      double campaignImps = adImps + 20_000 * r.nextDouble();
      double campaignClicks = campaignImps * 0.03 * r.nextDouble();
      for (int position = 1; position <= 6; position++) {
        // when
        FeatureExtractor.fill(expected, req, position, stars, review, price, median, inDestination, adImps,
            adClicks, campaignImps, campaignClicks);
        FeatureExtractor.fill(moved, req, 1, stars, review, price, median, inDestination, adImps, adClicks,
            campaignImps, campaignClicks);
        FeatureExtractor.setPosition(moved, position);

        // then: bit for bit, every column
        for (int j = 0; j < FeatureExtractor.SIZE; j++) {
          assertEquals(expected[j], moved[j], "trial " + trial + " position " + position + " column "
              + FeatureExtractor.NAMES.get(j));
        }
      }
    }
  }

  @Test
  void shouldRestoreTheServingRowWhenMovedBackToPositionOne() {
    // given: a mobile map-view row filled at position 1, moved to 4
    double[] served = new double[FeatureExtractor.SIZE];
    FeatureExtractor.fill(served, REQUEST, 1, 4, 8.5, 200_000_000, 100_000_000, FeatureExtractor.ELSEWHERE, 1_000,
        30, 0, 0);
    double[] x = served.clone();
    FeatureExtractor.setPosition(x, 4);
    assertEquals(Math.log(4), value(x, "mobile_x_log_position"), 1e-12);

    // when
    FeatureExtractor.setPosition(x, 1);

    // then
    for (int j = 0; j < FeatureExtractor.SIZE; j++) {
      assertEquals(served[j], x[j], FeatureExtractor.NAMES.get(j));
    }
  }
}
