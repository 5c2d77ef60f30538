package dev.adengine.engine.lifecycle;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes of one feature-log record's {@code context} and {@code candidates} columns. A versioned
 * binary layout (a format byte first) rather than JSON: a record holds tens of feature vectors, and
 * doubles must come back bit for bit, or the training set would not be the features the model was
 * served with.
 */
public final class FeatureLogCodec {
  private static final int CONTEXT_FORMAT = 1;
  /**
   * What {@link CandidatesWriter} writes. 3: each double against the same slot of the previous
   * candidate (request-level features repeat in every candidate), integers as varints, float-exact
   * values in 4 bytes, position and price as varints: a quarter to two fifths of format 2's bytes
   * (the more the online counts differ between candidates, the more). The decoder also reads 2
   * (records written before 3 stay in Cassandra, and are training data, for the table's TTL): ids
   * in UTF-8 (1 wrote Java's modified UTF-8 through DataOutputStream, at twice the cost), every
   * double in 8 bytes.
   */
  private static final int CANDIDATES_FORMAT = 3;
  private static final int CANDIDATES_FORMAT_2 = 2;
  /** The doubles of a candidate before its features: stage-1 pCTR, pCTR, shadow pCTR, score, the four online inputs. */
  private static final int FIXED_DOUBLES = 8;
  /** Format 3's value tags, 2 bits each. SAME: the raw bits of the previous candidate's value in the slot. */
  private static final int SAME = 0;
  /** An int (not -0.0) as a zigzag varint. */
  private static final int INT = 1;
  /** A value that is a float exactly (not NaN) as the float's 4 bytes. */
  private static final int FLOAT = 2;
  /** The double's raw 8 bytes. */
  private static final int RAW = 3;
  /** Longest varint of an int (5 x 7 bits) and of a long (10 x 7 bits). */
  private static final int INT_VARINT_BYTES = 5;
  private static final int LONG_VARINT_BYTES = 10;

  private FeatureLogCodec() {}

  /**
   * What a request asked for: everything the request's part of the feature row is computed from,
   * plus what slices and audits need. No user id: the log holds no personal data.
   *
   * @param checkinEpochDay the check-in date as an epoch day, or -1 when the request had none
   * @param servingEpochDay the UTC day the request was served (days to check-in count from it)
   * @param medianPriceMicros the searched destination's median nightly price at serving time
   */
  public record Context(String destination, int device, int placement, long checkinEpochDay, long servingEpochDay,
      int nights, String query, int slots, long reserveMicros, long medianPriceMicros) {}

  /**
   * One scored candidate: the campaign's best ad that stage 1 scored; {@code rescored} when stage 2
   * re-scored it (it entered the auction). {@code position} is its slot in the response (1-based), 0
   * when it did not win. The online inputs are the decayed counts the features were computed from.
   * {@code features} is the row the model scored (position 1, as serving scores every candidate).
   * {@code shadowPctr} is NaN when no shadow model scored it.
   */
  public record Candidate(String adId, String campaignId, String advertiserId, boolean rescored, int position,
      long priceMicros, double stage1, double pctr, double shadowPctr, double score, double adImpressions,
      double adClicks, double campaignImpressions, double campaignClicks, double[] features) {}

  public static byte[] encodeContext(Context c) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(96);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(CONTEXT_FORMAT);
      out.writeUTF(c.destination());
      out.writeByte(c.device());
      out.writeByte(c.placement());
      out.writeLong(c.checkinEpochDay());
      out.writeLong(c.servingEpochDay());
      out.writeShort(c.nights());
      out.writeUTF(c.query() == null ? "" : c.query());
      out.writeShort(c.slots());
      out.writeLong(c.reserveMicros());
      out.writeLong(c.medianPriceMicros());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static Context decodeContext(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      int format = in.readUnsignedByte();
      if (format != CONTEXT_FORMAT) {
        throw new IllegalArgumentException("feature-log context format " + format + ", this code reads "
            + CONTEXT_FORMAT);
      }
      return new Context(in.readUTF(), in.readUnsignedByte(), in.readUnsignedByte(), in.readLong(), in.readLong(),
          in.readShort(), in.readUTF(), in.readShort(), in.readLong(), in.readLong());
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated feature-log context", e);
    }
  }

  public static byte[] encodeCandidates(List<Candidate> candidates, int featureCount) {
    CandidatesWriter w = new CandidatesWriter(featureCount, candidates.size());
    for (Candidate c : candidates) {
      w.add(c.adId(), c.campaignId(), c.advertiserId(), c.rescored(), c.position(), c.priceMicros(), c.stage1(),
          c.pctr(), c.shadowPctr(), c.score(), c.adImpressions(), c.adClicks(), c.campaignImpressions(),
          c.campaignClicks(), c.features());
    }
    return w.toBytes();
  }

  /**
   * Encodes candidates one by one into a growing buffer, with no object per candidate or value (the
   * feature-log writer's hot loop). The writer thread keeps one and {@link #reset}s it per record, so
   * the buffer is allocated (and grown) once, not per record: a record then allocates only its
   * exact-size copy ({@link #toBytes}).
   *
   * <p>Layout, format 3 (big-endian): format byte (3), feature count F (u16), candidate count
   * (i32), then per candidate: ad, campaign and advertiser ids (u16 length + UTF-8), rescored (byte),
   * position and price (zigzag varints: LEB128, 7 bits a byte, low bits first), then its 8 + F
   * doubles (stage-1 pCTR, pCTR, shadow pCTR, score, the four online inputs, the features): first
   * their tags, 2 bits a value, four values a byte (the first value in the low bits; the last byte
   * padded with zeros), then the values in order, each as its tag says:
   *
   * <ul>
   *   <li>0: nothing, the same raw bits ({@link Double#doubleToRawLongBits}) as the previous
   *       candidate's value in that slot (never in a record's first candidate);
   *   <li>1: an int whose double has the value's raw bits (so not -0.0), as a zigzag varint;
   *   <li>2: a value that is a float exactly (a float's double has its raw bits; never NaN, whose
   *       payload a conversion may not keep), as the float's raw bits (4 bytes);
   *   <li>3: the raw bits (8 bytes).
   * </ul>
   *
   * Every double comes back bit for bit: NaN payloads, -0.0, infinities and subnormals included.
   * Format 2, which the decoder still reads: the same header (format byte 2), then per candidate
   * the ids, rescored (byte), position (i16), price (i64) and the 8 + F doubles (8 bytes each).
   */
  public static final class CandidatesWriter {
    /** Big-endian longs and ints written straight into the buffer. */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private final int featureCount;
    private final int tagBytes;
    /** The raw bits of the last candidate's values, slot by slot (valid once {@code count > 0}). */
    private final long[] previous;
    private byte[] buf;
    private int pos;
    private int count;

    public CandidatesWriter(int featureCount, int expected) {
      this.featureCount = featureCount;
      this.tagBytes = tagBytes(FIXED_DOUBLES + featureCount);
      this.previous = new long[FIXED_DOUBLES + featureCount];
      // per candidate: 3 ids (~20 bytes of UTF-8 each, plus their lengths), fields and tags, values: ample for format 3
      this.buf = new byte[7 + Math.max(1, expected) * (160 + 8 * featureCount)];
      reset();
    }

    /** Starts a new record in the same buffer (what {@link #toBytes} returned before stays valid: it is a copy). */
    public CandidatesWriter reset() {
      buf[0] = (byte) CANDIDATES_FORMAT;
      buf[1] = (byte) (featureCount >>> 8);
      buf[2] = (byte) featureCount;
      pos = 7; // the count (i32) at 3 is written by toBytes
      count = 0;
      return this;
    }

    public void add(String adId, String campaignId, String advertiserId, boolean rescored, int position,
        long priceMicros, double stage1, double pctr, double shadowPctr, double score, double adImpressions,
        double adClicks, double campaignImpressions, double campaignClicks, double[] features) {
      if (features.length < featureCount) {
        throw new IllegalArgumentException("candidate " + adId + " has " + features.length + " features, the record "
            + featureCount);
      }
      // UTF-8 takes at most 3 bytes per char (a surrogate pair: 4 bytes for 2 chars); every value at most 8 bytes
      ensure(6 + 3 * (adId.length() + campaignId.length() + advertiserId.length()) + 1 + INT_VARINT_BYTES
          + LONG_VARINT_BYTES + tagBytes + 8 * (FIXED_DOUBLES + featureCount));
      putString(adId);
      putString(campaignId);
      putString(advertiserId);
      buf[pos++] = (byte) (rescored ? 1 : 0);
      putVarint((position << 1 ^ position >> 31) & 0xFFFFFFFFL);
      putVarint(priceMicros << 1 ^ priceMicros >> 63);
      int tagAt = pos;
      pos += tagBytes;
      boolean first = count == 0;
      // the 8 fixed values fill the first two tag bytes, so the features' tags start on a byte
      buf[tagAt] = (byte) (value(0, stage1, first) | value(1, pctr, first) << 2 | value(2, shadowPctr, first) << 4
          | value(3, score, first) << 6);
      buf[tagAt + 1] = (byte) (value(4, adImpressions, first) | value(5, adClicks, first) << 2
          | value(6, campaignImpressions, first) << 4 | value(7, campaignClicks, first) << 6);
      int tags = 0;
      for (int f = 0; f < featureCount; f++) {
        tags |= value(FIXED_DOUBLES + f, features[f], first) << ((f & 3) << 1);
        if ((f & 3) == 3) {
          buf[tagAt + 2 + (f >>> 2)] = (byte) tags;
          tags = 0;
        }
      }
      if ((featureCount & 3) != 0) {
        buf[tagAt + 2 + (featureCount >>> 2)] = (byte) tags;
      }
      count++;
    }

    /** Writes one double of the current candidate (format 3) and returns its tag. */
    private int value(int slot, double v, boolean first) {
      long bits = Double.doubleToRawLongBits(v);
      if (!first && bits == previous[slot]) {
        return SAME;
      }
      previous[slot] = bits;
      int i = (int) v;
      if (Double.doubleToRawLongBits(i) == bits) {
        putVarint((i << 1 ^ i >> 31) & 0xFFFFFFFFL);
        return INT;
      }
      float f = (float) v;
      if (v == v && Double.doubleToRawLongBits(f) == bits) {
        INTS.set(buf, pos, Float.floatToRawIntBits(f));
        pos += 4;
        return FLOAT;
      }
      LONGS.set(buf, pos, bits);
      pos += 8;
      return RAW;
    }

    /** {@code v} as an unsigned LEB128 varint. */
    private void putVarint(long v) {
      byte[] b = buf;
      int p = pos;
      while ((v & ~0x7FL) != 0) {
        b[p++] = (byte) (v | 0x80);
        v >>>= 7;
      }
      b[p++] = (byte) v;
      pos = p;
    }

    public byte[] toBytes() {
      INTS.set(buf, 3, count);
      return java.util.Arrays.copyOf(buf, pos);
    }

    /** u16 length + UTF-8; an ASCII id (the usual case) is copied char by char, with no byte array made. */
    private void putString(String s) {
      int n = s.length();
      if (n <= 0xFFFF) {
        int start = pos;
        putShort(n);
        int i = 0;
        for (; i < n; i++) {
          char c = s.charAt(i);
          if (c >= 0x80) {
            break;
          }
          buf[pos++] = (byte) c;
        }
        if (i == n) {
          return;
        }
        pos = start; // not ASCII: encode it whole
      }
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      if (b.length > 0xFFFF) {
        throw new IllegalArgumentException("id longer than 65,535 bytes");
      }
      putShort(b.length);
      System.arraycopy(b, 0, buf, pos, b.length);
      pos += b.length;
    }

    private void putShort(int v) {
      buf[pos++] = (byte) (v >>> 8);
      buf[pos++] = (byte) v;
    }

    private void ensure(int bytes) {
      if (buf.length - pos < bytes) {
        buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, pos + bytes));
      }
    }
  }

  /** Reads formats 2 and 3; anything else, or bytes that are not a whole record, is an IllegalArgumentException. */
  public static List<Candidate> decodeCandidates(byte[] bytes) {
    try {
      java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
      int format = in.get() & 0xFF;
      if (format != CANDIDATES_FORMAT && format != CANDIDATES_FORMAT_2) {
        throw new IllegalArgumentException("feature-log candidates format " + format + ", this code reads "
            + CANDIDATES_FORMAT_2 + " and " + CANDIDATES_FORMAT);
      }
      int features = in.getShort() & 0xFFFF;
      int n = in.getInt();
      if (n < 0 || n > 100_000) {
        throw new IllegalArgumentException("feature-log record with " + n + " candidates");
      }
      int slots = FIXED_DOUBLES + features;
      int tagBytes = tagBytes(slots);
      // the fewest bytes a candidate can take: a count the blob cannot hold fails before anything is allocated
      long least = format == CANDIDATES_FORMAT_2 ? 6 + 1 + 2 + 8 + 8L * slots : 6 + 1 + 1 + 1 + tagBytes;
      if (n * least > in.remaining()) {
        throw new IllegalArgumentException("truncated feature-log candidates: " + n + " candidates in "
            + in.remaining() + " bytes");
      }
      List<Candidate> out = new ArrayList<>(n);
      // the raw bits of the candidate being read (format 3: its SAME values are still the last one's)
      long[] v = new long[slots];
      for (int i = 0; i < n; i++) {
        String adId = getString(in);
        String campaignId = getString(in);
        String advertiserId = getString(in);
        boolean rescored = in.get() != 0;
        int position;
        long price;
        double[] x = new double[features];
        if (format == CANDIDATES_FORMAT_2) {
          position = in.getShort();
          price = in.getLong();
          for (int k = 0; k < FIXED_DOUBLES; k++) {
            v[k] = in.getLong();
          }
          for (int f = 0; f < features; f++) {
            x[f] = in.getDouble();
          }
        } else {
          int z = (int) getVarint(in, INT_VARINT_BYTES);
          position = z >>> 1 ^ -(z & 1);
          long zl = getVarint(in, LONG_VARINT_BYTES);
          price = zl >>> 1 ^ -(zl & 1);
          getValues(in, v, tagBytes, i == 0);
          for (int f = 0; f < features; f++) {
            x[f] = Double.longBitsToDouble(v[FIXED_DOUBLES + f]);
          }
        }
        out.add(new Candidate(adId, campaignId, advertiserId, rescored, position, price, Double.longBitsToDouble(v[0]),
            Double.longBitsToDouble(v[1]), Double.longBitsToDouble(v[2]), Double.longBitsToDouble(v[3]),
            Double.longBitsToDouble(v[4]), Double.longBitsToDouble(v[5]), Double.longBitsToDouble(v[6]),
            Double.longBitsToDouble(v[7]), x));
      }
      return out;
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated feature-log candidates", e);
    }
  }

  /** A format-3 candidate's tags and values into {@code v} (its SAME slots keep the previous candidate's bits). */
  private static void getValues(java.nio.ByteBuffer in, long[] v, int tagBytes, boolean first) {
    if (in.remaining() < tagBytes) {
      throw new java.nio.BufferUnderflowException();
    }
    int tagAt = in.position();
    in.position(tagAt + tagBytes);
    for (int slot = 0; slot < v.length; slot++) {
      int tag = in.get(tagAt + (slot >>> 2)) >>> ((slot & 3) << 1) & 3;
      switch (tag) {
        case SAME -> {
          if (first) {
            throw new IllegalArgumentException("corrupt feature-log candidates: a value of the first candidate refers"
                + " to a previous one");
          }
        }
        case INT -> {
          int z = (int) getVarint(in, INT_VARINT_BYTES);
          v[slot] = Double.doubleToRawLongBits(z >>> 1 ^ -(z & 1));
        }
        case FLOAT -> v[slot] = Double.doubleToRawLongBits(Float.intBitsToFloat(in.getInt()));
        default -> v[slot] = in.getLong();
      }
    }
  }

  /** An unsigned LEB128 varint of at most {@code maxBytes} bytes ({@link #INT_VARINT_BYTES}: at most 32 bits). */
  private static long getVarint(java.nio.ByteBuffer in, int maxBytes) {
    long v = 0;
    for (int i = 0; i < maxBytes; i++) {
      int b = in.get();
      v |= (long) (b & 0x7F) << (7 * i);
      if (b >= 0) {
        if (maxBytes == INT_VARINT_BYTES ? v >>> 32 != 0 : i == LONG_VARINT_BYTES - 1 && b > 1) {
          break; // more bits than the value has
        }
        return v;
      }
    }
    throw new IllegalArgumentException("corrupt feature-log candidates: a varint longer than " + maxBytes + " bytes"
        + " or wider than its value");
  }

  private static int tagBytes(int values) {
    return (values + 3) >>> 2;
  }

  private static String getString(java.nio.ByteBuffer in) {
    int len = in.getShort() & 0xFFFF;
    byte[] b = new byte[len];
    in.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
