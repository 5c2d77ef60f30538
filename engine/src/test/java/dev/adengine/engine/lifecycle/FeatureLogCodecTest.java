package dev.adengine.engine.lifecycle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The feature log's bytes come back exactly: training rows must be the served rows, bit for bit. */
class FeatureLogCodecTest {

  @Test
  void shouldReadBackEveryFieldExactlyWhenCandidatesAreEncoded() {
    // given candidates with awkward values: NaN shadow, -0.0, extremes, a non-ASCII id
    double[] a = {0.0, -0.0, 1e-300, Double.MAX_VALUE, Math.PI};
    double[] b = {Double.NaN, 1, 2, 3, 4};
    List<FeatureLogCodec.Candidate> in = List.of(
        new FeatureLogCodec.Candidate("hôtel-ad-1", "c1", "adv-1", true, 2, 1_234_567L, 0.01, 0.02, Double.NaN, 2_500.5,
            10.5, 0.25, 1_000, 20, a),
        new FeatureLogCodec.Candidate("ad-2", "c2", "", false, 0, 0, 0.03, 0.03, 0.04, 0, 0, 0, 0, 0, b));

    // when
    List<FeatureLogCodec.Candidate> out = FeatureLogCodec.decodeCandidates(FeatureLogCodec.encodeCandidates(in, 5));

    // then
    assertEquals(2, out.size());
    for (int i = 0; i < 2; i++) {
      FeatureLogCodec.Candidate x = in.get(i);
      FeatureLogCodec.Candidate y = out.get(i);
      assertEquals(List.of(x.adId(), x.campaignId(), x.advertiserId(), x.rescored(), x.position(), x.priceMicros()),
          List.of(y.adId(), y.campaignId(), y.advertiserId(), y.rescored(), y.position(), y.priceMicros()));
      assertArrayEquals(new double[] {x.stage1(), x.pctr(), x.shadowPctr(), x.score(), x.adImpressions(),
          x.adClicks(), x.campaignImpressions(), x.campaignClicks()}, new double[] {y.stage1(), y.pctr(),
          y.shadowPctr(), y.score(), y.adImpressions(), y.adClicks(), y.campaignImpressions(), y.campaignClicks()});
      for (int f = 0; f < 5; f++) {
        assertEquals(Double.doubleToRawLongBits(x.features()[f]), Double.doubleToRawLongBits(y.features()[f]),
            "feature " + f + " of candidate " + i);
      }
    }
  }

  @Test
  void shouldEncodeEachRecordAsAFreshWriterWouldWhenOneWriterIsResetAndReused() {
    // given one writer, sized for one candidate, used for a record that makes it grow and then a smaller one
    FeatureLogCodec.CandidatesWriter w = new FeatureLogCodec.CandidatesWriter(3, 1);
    double[] x = {1, 2, 3};
    for (int i = 0; i < 40; i++) {
      w.add("ad-" + "x".repeat(i), "c" + i, "adv", i % 2 == 0, i % 5, i, 0.1, 0.2, 0.3, i, 1, 2, 3, 4, x);
    }
    byte[] first = w.toBytes();
    byte[] firstCopy = first.clone();

    // when it is reset and writes another record
    w.reset().add("ad-z", "cz", "adv-z", true, 1, 7, 0.5, 0.6, Double.NaN, 9, 0, 0, 0, 0, x);
    byte[] second = w.toBytes();

    // then the second record is byte for byte what a new writer makes, and the first is untouched
    FeatureLogCodec.CandidatesWriter fresh = new FeatureLogCodec.CandidatesWriter(3, 1);
    fresh.add("ad-z", "cz", "adv-z", true, 1, 7, 0.5, 0.6, Double.NaN, 9, 0, 0, 0, 0, x);
    assertArrayEquals(fresh.toBytes(), second);
    assertArrayEquals(firstCopy, first);
    assertEquals(40, FeatureLogCodec.decodeCandidates(first).size());
    assertEquals(List.of("ad-z"), FeatureLogCodec.decodeCandidates(second).stream().map(FeatureLogCodec.Candidate::adId)
        .toList());
  }

  @Test
  void shouldReadBackTheContextWhenEncoded() {
    FeatureLogCodec.Context c = new FeatureLogCodec.Context("paris", 2, 3, 20_500, 20_480, 4, "cheap hotel", 3,
        50_000, 120_000_000);
    assertEquals(c, FeatureLogCodec.decodeContext(FeatureLogCodec.encodeContext(c)));
  }

  @Test
  void shouldRefuseTruncatedOrForeignBytesWithAClearError() {
    byte[] bytes = FeatureLogCodec.encodeCandidates(List.of(new FeatureLogCodec.Candidate("ad", "c", "a", true, 1, 1,
        0, 0, 0, 0, 0, 0, 0, 0, new double[3])), 3);
    IllegalArgumentException truncated = assertThrows(IllegalArgumentException.class,
        () -> FeatureLogCodec.decodeCandidates(Arrays.copyOf(bytes, bytes.length - 4)));
    assertTrue(truncated.getMessage().startsWith("truncated"), truncated.getMessage());
    byte[] foreign = bytes.clone();
    foreign[0] = 9;
    IllegalArgumentException format = assertThrows(IllegalArgumentException.class,
        () -> FeatureLogCodec.decodeCandidates(foreign));
    assertTrue(format.getMessage().contains("format 9"), format.getMessage());
  }
}
