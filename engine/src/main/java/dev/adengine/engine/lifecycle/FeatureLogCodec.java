package dev.adengine.engine.lifecycle;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
  /** 2: ids in UTF-8 (1 wrote Java's modified UTF-8 through DataOutputStream, at twice the cost). */
  private static final int CANDIDATES_FORMAT = 2;

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
   * Encodes candidates one by one into a growing buffer, with no object per candidate (the
   * feature-log writer's hot loop). The writer thread keeps one and {@link #reset}s it per record, so
   * the buffer is allocated (and grown) once, not per record: a record then allocates only its
   * exact-size copy ({@link #toBytes}). Layout (big-endian): format byte, feature count (u16),
   * candidate count (i32), then per candidate: ad, campaign and advertiser ids (u16 length + UTF-8),
   * rescored (byte), position (i16), price (i64), stage-1 pCTR, pCTR, shadow pCTR, score, the four
   * online inputs, the features (f64 each).
   */
  public static final class CandidatesWriter {
    private final int featureCount;
    private java.nio.ByteBuffer buf;
    private int count;

    public CandidatesWriter(int featureCount, int expected) {
      this.featureCount = featureCount;
      // per candidate: 3 ids (~20 bytes of UTF-8 each, plus their lengths), 11 fixed fields, the features
      this.buf = java.nio.ByteBuffer.allocate(7 + Math.max(1, expected) * (160 + 8 * featureCount));
      reset();
    }

    /** Starts a new record in the same buffer (what {@link #toBytes} returned before stays valid: it is a copy). */
    public CandidatesWriter reset() {
      buf.clear();
      buf.put((byte) CANDIDATES_FORMAT).putShort((short) featureCount).putInt(0);
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
      // UTF-8 takes at most 3 bytes per char (a surrogate pair: 4 bytes for 2 chars)
      ensure(6 + 3 * (adId.length() + campaignId.length() + advertiserId.length()) + 1 + 2 + 8 + 8 * 8
          + 8 * featureCount);
      putString(adId);
      putString(campaignId);
      putString(advertiserId);
      buf.put((byte) (rescored ? 1 : 0)).putShort((short) position).putLong(priceMicros)
          .putDouble(stage1).putDouble(pctr).putDouble(shadowPctr).putDouble(score)
          .putDouble(adImpressions).putDouble(adClicks).putDouble(campaignImpressions).putDouble(campaignClicks);
      for (int f = 0; f < featureCount; f++) {
        buf.putDouble(features[f]);
      }
      count++;
    }

    public byte[] toBytes() {
      buf.putInt(3, count);
      return java.util.Arrays.copyOf(buf.array(), buf.position());
    }

    /** u16 length + UTF-8; an ASCII id (the usual case) is copied char by char, with no byte array made. */
    private void putString(String s) {
      int n = s.length();
      if (n <= 0xFFFF) {
        int start = buf.position();
        buf.putShort((short) n);
        int i = 0;
        for (; i < n; i++) {
          char c = s.charAt(i);
          if (c >= 0x80) {
            break;
          }
          buf.put((byte) c);
        }
        if (i == n) {
          return;
        }
        buf.position(start); // not ASCII: encode it whole
      }
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      if (b.length > 0xFFFF) {
        throw new IllegalArgumentException("id longer than 65,535 bytes");
      }
      buf.putShort((short) b.length).put(b);
    }

    private void ensure(int bytes) {
      if (buf.remaining() < bytes) {
        java.nio.ByteBuffer bigger = java.nio.ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + bytes));
        buf.flip();
        bigger.put(buf);
        buf = bigger;
      }
    }
  }

  public static List<Candidate> decodeCandidates(byte[] bytes) {
    try {
      java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
      int format = in.get() & 0xFF;
      if (format != CANDIDATES_FORMAT) {
        throw new IllegalArgumentException("feature-log candidates format " + format + ", this code reads "
            + CANDIDATES_FORMAT);
      }
      int features = in.getShort() & 0xFFFF;
      int n = in.getInt();
      if (n < 0 || n > 100_000) {
        throw new IllegalArgumentException("feature-log record with " + n + " candidates");
      }
      List<Candidate> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        String adId = getString(in);
        String campaignId = getString(in);
        String advertiserId = getString(in);
        boolean rescored = in.get() != 0;
        int position = in.getShort();
        long price = in.getLong();
        double stage1 = in.getDouble();
        double pctr = in.getDouble();
        double shadow = in.getDouble();
        double score = in.getDouble();
        double adImps = in.getDouble();
        double adClicks = in.getDouble();
        double campImps = in.getDouble();
        double campClicks = in.getDouble();
        double[] x = new double[features];
        for (int f = 0; f < features; f++) {
          x[f] = in.getDouble();
        }
        out.add(new Candidate(adId, campaignId, advertiserId, rescored, position, price, stage1, pctr, shadow, score,
            adImps, adClicks, campImps, campClicks, x));
      }
      return out;
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated feature-log candidates", e);
    }
  }

  private static String getString(java.nio.ByteBuffer in) {
    int len = in.getShort() & 0xFFFF;
    byte[] b = new byte[len];
    in.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
