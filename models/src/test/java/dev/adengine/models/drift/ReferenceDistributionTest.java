package dev.adengine.models.drift;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ReferenceDistributionTest {
  static final List<String> NAMES = List.of("mobile", "stars", "review", "ad_ctr_logit");

  /**
   * 1,000 rows: mobile on 30% of rows; stars 1 to 5, 200 rows each; review distinct Gaussian values;
   * ad_ctr_logit 0 on 80% of rows (no history) and 1, 2, ..., 200 on the rest. Scores are distinct.
   */
  static double[][] rows(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] x = new double[n][];
    for (int i = 0; i < n; i++) {
      x[i] = new double[] {i % 10 < 3 ? 1 : 0, 1 + i % 5, 8 + r.nextGaussian(), i < 800 ? 0 : i - 799};
    }
    return x;
  }

  static double[] scores(int n) {
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      s[i] = 0.001 + 0.00002 * ((i * 7919) % n);
    }
    return s;
  }

  static ReferenceDistribution fitted() {
    return ReferenceDistribution.fit(NAMES, rows(1_000, 1), 1_000, scores(1_000), 10);
  }

  @Test
  void shouldGiveABinaryFeatureOneBinPerValueWhenFitted() {
    // when
    ReferenceDistribution ref = fitted();

    // then: 0 and 1, split halfway, plus the (empty) NaN bin
    assertEquals(3, ref.bins(0));
    assertArrayEquals(new double[] {0.5}, ref.edges(0));
    assertArrayEquals(new double[] {0.7, 0.3, 0.0}, ref.expected(0), 1e-12);
    // small integers too: five values, four edges
    assertArrayEquals(new double[] {1.5, 2.5, 3.5, 4.5}, ref.edges(1));
    assertArrayEquals(new double[] {0.2, 0.2, 0.2, 0.2, 0.2, 0.0}, ref.expected(1), 1e-12);
  }

  @Test
  void shouldCutEqualCountQuantileBinsWhenAFeatureIsContinuous() {
    // when
    ReferenceDistribution ref = fitted();

    // then: 1,000 distinct values in 10 bins of exactly 100 rows
    assertEquals(11, ref.bins(2));
    assertArrayEquals(new double[] {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.0}, ref.expected(2),
        1e-12);
    // the score is binned the same way
    assertEquals(11, ref.scoreBins());
    assertArrayEquals(ref.expected(2), ref.expectedScore(), 1e-12);
  }

  @Test
  void shouldMergeTiedQuantilesWhenOneValueHoldsMostRows() {
    // when: 800 zeros, then 1 .. 200; the deciles at rows 100 .. 700 are all 0, the minimum
    ReferenceDistribution ref = fitted();

    // then: cuts only at rows 800 (value 1) and 900 (value 101), no empty bin
    assertArrayEquals(new double[] {1, 101}, ref.edges(3));
    assertArrayEquals(new double[] {0.8, 0.1, 0.1, 0.0}, ref.expected(3), 1e-12);
  }

  @Test
  void shouldPutAnEdgeValueInTheBinAboveWhenBinning() {
    // given: stars edges 1.5 .. 4.5; ad_ctr_logit edges 1 and 101
    ReferenceDistribution ref = fitted();

    // when / then
    assertEquals(0, ref.bin(3, 0.999));
    assertEquals(1, ref.bin(3, 1));
    assertEquals(1, ref.bin(3, 100.999));
    assertEquals(2, ref.bin(3, 101));
    assertEquals(2, ref.bin(3, Double.POSITIVE_INFINITY));
    assertEquals(0, ref.bin(3, Double.NEGATIVE_INFINITY));
    assertEquals(3, ref.bin(3, Double.NaN));
    assertEquals(0, ref.bin(1, 1));
    assertEquals(1, ref.bin(1, 1.5));
    assertEquals(4, ref.bin(1, 5));
    assertEquals(5, ref.bin(1, Double.NaN));
    assertEquals(ref.bin(0, 0.0), ref.bin(0, -0.0));
    assertEquals(ref.scoreBins() - 1, ref.scoreBin(Double.NaN));
  }

  @Test
  void shouldCountNaNInItsOwnBinWhenTheReferenceHasMissingValues() {
    // given: a column with a quarter NaN, the rest 0 or 1
    double[][] x = new double[8][];
    for (int i = 0; i < 8; i++) {
      x[i] = new double[] {i < 2 ? Double.NaN : i % 2};
    }

    // when
    ReferenceDistribution ref = ReferenceDistribution.fit(List.of("f"), x, 8, new double[8], 4);

    // then: 0 on rows 2, 4, 6; 1 on rows 3, 5, 7; the one score value alone in its bin
    assertArrayEquals(new double[] {3 / 8.0, 3 / 8.0, 2 / 8.0}, ref.expected(0), 1e-12);
    assertArrayEquals(new double[] {1, 0}, ref.expectedScore(), 1e-12);
  }

  @Test
  void shouldReadBackAnEqualDistributionWhenWrittenAndRead() throws IOException {
    // given
    ReferenceDistribution ref = fitted();

    // when
    ReferenceDistribution back = ReferenceDistribution.fromBytes(ref.toBytes());

    // then
    assertEquals(ref, back);
    assertEquals(ref.hashCode(), back.hashCode());
    assertEquals(NAMES, back.featureNames());
    assertEquals(1_000, back.rows());
    for (int f = 0; f < NAMES.size(); f++) {
      assertArrayEquals(ref.edges(f), back.edges(f));
      assertArrayEquals(ref.expected(f), back.expected(f));
    }
    assertArrayEquals(ref.scoreEdges(), back.scoreEdges());
    assertArrayEquals(ref.expectedScore(), back.expectedScore());
  }

  @Test
  void shouldRefuseBytesWhenTheyAreNotADistribution() {
    // given
    byte[] bytes = fitted().toBytes();
    bytes[0] ^= 1;

    // when / then
    IOException e = assertThrows(IOException.class, () -> ReferenceDistribution.fromBytes(bytes));
    assertEquals("not a ReferenceDistribution (bad magic)", e.getMessage());
  }
}
