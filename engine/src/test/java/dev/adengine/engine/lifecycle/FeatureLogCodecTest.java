package dev.adengine.engine.lifecycle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
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

  /** Doubles a lossy or careless encoding would change: compared by raw bits, never by value. */
  private static final double[] SPECIAL = {
      Double.longBitsToDouble(0x7ff0_0000_0000_0123L), // signalling NaN, payload in the low bits
      Double.longBitsToDouble(0x7ff8_0000_2000_0000L), // quiet NaN whose payload a float could hold
      Double.longBitsToDouble(0xfff8_0000_0000_0001L), // negative NaN
      Double.NaN, -0.0, 0.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MIN_VALUE, -Double.MIN_VALUE,
      Double.MIN_NORMAL, Double.MAX_VALUE, -Double.MAX_VALUE, 1e-310, Math.nextUp(3.0), Math.nextDown(3.0),
      Math.nextUp(-1.0), Math.nextDown(0.0), Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE + 1.0,
      Integer.MIN_VALUE - 1.0, Float.MIN_VALUE, -Float.MAX_VALUE, Float.MIN_NORMAL, 0.5, -2.5, 0.1, -7, 1, 300,
      Math.PI};

  @Test
  void shouldReadBackEveryDoubleByItsRawBitsWhenCandidatesRepeatRequestValuesAndHoldSpecialDoubles() {
    // given a record built like the writer's: request-level features the same in every candidate,
    // candidate-level ones varying, integers, negatives and every special double, in every slot
    int features = 37;
    List<FeatureLogCodec.Candidate> in = new ArrayList<>();
    for (int i = 0; i < 3 * SPECIAL.length; i++) {
      double[] x = new double[features];
      for (int f = 0; f < features; f++) {
        x[f] = f < 12 ? requestLevel(f) : SPECIAL[(i + f) % SPECIAL.length];
      }
      x[20] = SPECIAL[i / 3]; // runs of three of a special value, then the next
      x[21] = SPECIAL[(i / 2) % SPECIAL.length];
      x[22] = i % 2 == 0 ? -0.0 : 0.0; // equal as values, not as bits
      x[23] = i; // integers that grow
      x[24] = -i * 1_000;
      double s = SPECIAL[i % SPECIAL.length];
      in.add(new FeatureLogCodec.Candidate("ad-" + i, "c-" + i / 2, "adv", i % 3 != 0, i % 5, i * 1_000_003L, s,
          SPECIAL[(i + 1) % SPECIAL.length], i % 2 == 0 ? Double.NaN : s, 0.1 * i, i, i / 10, 1_000.25 + i, s, x));
    }
    in.add(new FeatureLogCodec.Candidate("ad-x", "c-x", "adv-x", true, Integer.MAX_VALUE, Long.MAX_VALUE, 0, 0, 0, 0,
        0, 0, 0, 0, new double[features]));
    in.add(new FeatureLogCodec.Candidate("ad-y", "c-y", "adv-y", false, Integer.MIN_VALUE, Long.MIN_VALUE, 0, 0, 0, 0,
        0, 0, 0, 0, new double[features]));
    in.add(new FeatureLogCodec.Candidate("ad-z", "c-z", "adv-z", false, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0,
        new double[features]));

    // when
    byte[] bytes = FeatureLogCodec.encodeCandidates(in, features);
    List<FeatureLogCodec.Candidate> out = FeatureLogCodec.decodeCandidates(bytes);

    // then
    assertEquals(3, bytes[0], "format");
    assertSameCandidates(in, out, features);
  }

  @Test
  void shouldStillReadFormat2RecordsWrittenBeforeFormat3() {
    // given a record in format 2, as nodes wrote it before format 3 (it stays in Cassandra for the TTL)
    int features = 5;
    List<FeatureLogCodec.Candidate> in = new ArrayList<>();
    for (int i = 0; i < 2 * SPECIAL.length; i++) {
      double[] x = new double[features];
      for (int f = 0; f < features; f++) {
        x[f] = SPECIAL[(i + f) % SPECIAL.length];
      }
      in.add(new FeatureLogCodec.Candidate("hôtel-" + i, "c" + i, "adv", i % 2 == 0, i % 4, 1_000L * i,
          SPECIAL[i % SPECIAL.length], 0.02, Double.NaN, -0.0, i, 0.5, 1e6, 3, x));
    }
    byte[] format2 = format2(in, features);

    // when
    List<FeatureLogCodec.Candidate> out = FeatureLogCodec.decodeCandidates(format2);

    // then
    assertSameCandidates(in, out, features);
  }

  @Test
  void shouldRefuseEveryTruncationOfAFormat3Record() {
    // given a format-3 record with varints, repeated values, floats and raw doubles
    byte[] bytes = FeatureLogCodec.encodeCandidates(realistic(4, 37, new Random(1)), 37);

    // when / then every shorter prefix is refused as truncated
    for (int length = 0; length < bytes.length; length++) {
      byte[] prefix = Arrays.copyOf(bytes, length);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> FeatureLogCodec.decodeCandidates(prefix), "prefix of " + length + " bytes");
      assertTrue(e.getMessage().startsWith("truncated"), e.getMessage());
    }
  }

  @Test
  void shouldRefuseCorruptFormat3Records() {
    // given a record of one candidate ("ad", "c", "a", rescored, position 1, price 1, eleven zeros):
    // header (7 bytes), ids (10), rescored (1), position (1) at 18, price (1), then three tag bytes at 20
    byte[] bytes = FeatureLogCodec.encodeCandidates(List.of(new FeatureLogCodec.Candidate("ad", "c", "a", true, 1, 1,
        0, 0, 0, 0, 0, 0, 0, 0, new double[3])), 3);
    assertEquals(7 + 10 + 3 + 3 + 11, bytes.length);

    // when the first candidate's values claim to repeat a previous candidate's
    byte[] same = bytes.clone();
    same[20] = 0;
    // when a varint never ends, or holds more bits than an int
    byte[] endless = bytes.clone();
    Arrays.fill(endless, 18, endless.length, (byte) 0xFF);
    byte[] wide = bytes.clone();
    System.arraycopy(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F}, 0, wide, 18, 5);
    // when the count is absurd, or more than the bytes can hold
    byte[] huge = bytes.clone();
    ByteBuffer.wrap(huge).putInt(3, Integer.MAX_VALUE);
    byte[] many = bytes.clone();
    ByteBuffer.wrap(many).putInt(3, 100_000);

    // then each is an IllegalArgumentException that says what is wrong
    assertTrue(decodeError(same).contains("first candidate"), decodeError(same));
    assertTrue(decodeError(endless).contains("varint"), decodeError(endless));
    assertTrue(decodeError(wide).contains("varint"), decodeError(wide));
    assertTrue(decodeError(huge).contains("candidates"), decodeError(huge));
    assertTrue(decodeError(many).startsWith("truncated"), decodeError(many));
  }

  @Test
  void shouldGiveAnIllegalArgumentOrTheCandidatesWhenAnyByteOfARecordIsCorrupt() {
    // given a realistic record
    Random random = new Random(42);
    byte[] bytes = FeatureLogCodec.encodeCandidates(realistic(6, 37, random), 37);

    // when bytes are overwritten at random, then decoding fails only with IllegalArgumentException
    for (int trial = 0; trial < 5_000; trial++) {
      byte[] corrupt = bytes.clone();
      for (int k = 0, n = 1 + random.nextInt(3); k < n; k++) {
        corrupt[random.nextInt(corrupt.length)] = (byte) random.nextInt(256);
      }
      try {
        FeatureLogCodec.decodeCandidates(corrupt);
      } catch (IllegalArgumentException expected) {
        // refused: fine
      }
    }
  }

  @Test
  void shouldStoreARepeatedCandidateInItsIdsFieldsAndTagsOnlyAndARealisticRecordInFewerBytesThanFormat2() {
    // given a realistic record, and a candidate whose doubles all repeat the one before it
    List<FeatureLogCodec.Candidate> record = realistic(40, 37, new Random(3));
    FeatureLogCodec.Candidate first = record.get(0);
    FeatureLogCodec.Candidate again = new FeatureLogCodec.Candidate("ad-2", "c-2", "adv", false, 0, 0, first.stage1(),
        first.pctr(), first.shadowPctr(), first.score(), first.adImpressions(), first.adClicks(),
        first.campaignImpressions(), first.campaignClicks(), first.features().clone());

    // when
    int one = FeatureLogCodec.encodeCandidates(List.of(first), 37).length;
    int two = FeatureLogCodec.encodeCandidates(List.of(first, again), 37).length;
    byte[] format3 = FeatureLogCodec.encodeCandidates(record, 37);

    // then the repeat takes its ids (three lengths and 10 bytes), rescored, position and price (1 byte
    // each) and its 12 tag bytes: none for its 45 values
    assertEquals(3 * 2 + 10 + 1 + 1 + 1 + 12, two - one);
    // and the record is smaller than in format 2 (generously: the layout's point, not a measurement)
    assertTrue(format3.length < format2(record, 37).length, format3.length + " bytes");
    assertSameCandidates(record, FeatureLogCodec.decodeCandidates(format3), 37);
  }

  private static String decodeError(byte[] bytes) {
    return assertThrows(IllegalArgumentException.class, () -> FeatureLogCodec.decodeCandidates(bytes)).getMessage();
  }

  /** A request-level feature: the same in every candidate of a record (flags, days, nights, a raw double). */
  private static double requestLevel(int f) {
    return switch (f % 4) {
      case 0 -> 1;
      case 1 -> 0;
      case 2 -> 0.123_456_789 * f;
      default -> -0.0;
    };
  }

  /** Candidates like the writer's: request-level features repeated, scores raw, some ints, half-integers, -0.0. */
  private static List<FeatureLogCodec.Candidate> realistic(int n, int features, Random random) {
    List<FeatureLogCodec.Candidate> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double[] x = new double[features];
      for (int f = 0; f < features; f++) {
        x[f] = f < 20 ? requestLevel(f) : switch (f % 4) {
          case 0 -> random.nextInt(6); // stars
          case 1 -> random.nextInt(11) / 2.0 - 2.5; // half-integer crosses
          case 2 -> random.nextBoolean() ? -0.0 : random.nextGaussian();
          default -> random.nextDouble();
        };
      }
      double pctr = random.nextDouble() * 0.05;
      out.add(new FeatureLogCodec.Candidate("ad-" + random.nextInt(100_000), "campaign-" + i, "advertiser-" + i % 7,
          i < n / 2, i < 3 ? i + 1 : 0, i < 3 ? 1_000_000L + random.nextInt(1_000_000) : 0, pctr * 0.9, pctr,
          Double.NaN, pctr * 2_000_000, random.nextInt(5_000), random.nextInt(100), random.nextDouble() * 20_000,
          random.nextDouble() * 400, x));
    }
    return out;
  }

  /** Format 2, as FeatureLogCodec wrote it before format 3 (kept here to test that old records still decode). */
  private static byte[] format2(List<FeatureLogCodec.Candidate> candidates, int features) {
    ByteBuffer b = ByteBuffer.allocate(7 + candidates.size() * (200 + 8 * (8 + features)));
    b.put((byte) 2).putShort((short) features).putInt(candidates.size());
    for (FeatureLogCodec.Candidate c : candidates) {
      for (String id : List.of(c.adId(), c.campaignId(), c.advertiserId())) {
        byte[] utf8 = id.getBytes(StandardCharsets.UTF_8);
        b.putShort((short) utf8.length).put(utf8);
      }
      b.put((byte) (c.rescored() ? 1 : 0)).putShort((short) c.position()).putLong(c.priceMicros())
          .putDouble(c.stage1()).putDouble(c.pctr()).putDouble(c.shadowPctr()).putDouble(c.score())
          .putDouble(c.adImpressions()).putDouble(c.adClicks()).putDouble(c.campaignImpressions())
          .putDouble(c.campaignClicks());
      for (int f = 0; f < features; f++) {
        b.putLong(Double.doubleToRawLongBits(c.features()[f]));
      }
    }
    return Arrays.copyOf(b.array(), b.position());
  }

  private static void assertSameCandidates(List<FeatureLogCodec.Candidate> expected,
      List<FeatureLogCodec.Candidate> actual, int features) {
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      FeatureLogCodec.Candidate x = expected.get(i);
      FeatureLogCodec.Candidate y = actual.get(i);
      assertEquals(List.of(x.adId(), x.campaignId(), x.advertiserId(), x.rescored(), x.position(), x.priceMicros()),
          List.of(y.adId(), y.campaignId(), y.advertiserId(), y.rescored(), y.position(), y.priceMicros()),
          "candidate " + i);
      assertArrayEquals(rawBits(x, features), rawBits(y, features), "doubles of candidate " + i);
    }
  }

  /** A candidate's 8 fixed doubles and its features, as raw bits. */
  private static long[] rawBits(FeatureLogCodec.Candidate c, int features) {
    long[] bits = new long[8 + features];
    double[] fixed = {c.stage1(), c.pctr(), c.shadowPctr(), c.score(), c.adImpressions(), c.adClicks(),
        c.campaignImpressions(), c.campaignClicks()};
    for (int k = 0; k < 8; k++) {
      bits[k] = Double.doubleToRawLongBits(fixed[k]);
    }
    for (int f = 0; f < features; f++) {
      bits[8 + f] = Double.doubleToRawLongBits(c.features()[f]);
    }
    return bits;
  }
}
