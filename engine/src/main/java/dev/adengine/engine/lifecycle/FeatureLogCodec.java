package dev.adengine.engine.lifecycle;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
  private static final int CANDIDATES_FORMAT = 1;

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
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + candidates.size() * (120 + 8 * featureCount));
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(CANDIDATES_FORMAT);
      out.writeShort(featureCount);
      out.writeInt(candidates.size());
      for (Candidate c : candidates) {
        if (c.features().length != featureCount) {
          throw new IllegalArgumentException("candidate " + c.adId() + " has " + c.features().length
              + " features, the record " + featureCount);
        }
        out.writeUTF(c.adId());
        out.writeUTF(c.campaignId());
        out.writeUTF(c.advertiserId());
        out.writeBoolean(c.rescored());
        out.writeShort(c.position());
        out.writeLong(c.priceMicros());
        out.writeDouble(c.stage1());
        out.writeDouble(c.pctr());
        out.writeDouble(c.shadowPctr());
        out.writeDouble(c.score());
        out.writeDouble(c.adImpressions());
        out.writeDouble(c.adClicks());
        out.writeDouble(c.campaignImpressions());
        out.writeDouble(c.campaignClicks());
        for (double v : c.features()) {
          out.writeDouble(v);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static List<Candidate> decodeCandidates(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      int format = in.readUnsignedByte();
      if (format != CANDIDATES_FORMAT) {
        throw new IllegalArgumentException("feature-log candidates format " + format + ", this code reads "
            + CANDIDATES_FORMAT);
      }
      int features = in.readUnsignedShort();
      int n = in.readInt();
      if (n < 0 || n > 100_000) {
        throw new IllegalArgumentException("feature-log record with " + n + " candidates");
      }
      List<Candidate> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        String adId = in.readUTF();
        String campaignId = in.readUTF();
        String advertiserId = in.readUTF();
        boolean rescored = in.readBoolean();
        int position = in.readShort();
        long price = in.readLong();
        double stage1 = in.readDouble();
        double pctr = in.readDouble();
        double shadow = in.readDouble();
        double score = in.readDouble();
        double adImps = in.readDouble();
        double adClicks = in.readDouble();
        double campImps = in.readDouble();
        double campClicks = in.readDouble();
        double[] x = new double[features];
        for (int f = 0; f < features; f++) {
          x[f] = in.readDouble();
        }
        out.add(new Candidate(adId, campaignId, advertiserId, rescored, position, price, stage1, pctr, shadow, score,
            adImps, adClicks, campImps, campClicks, x));
      }
      return out;
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated feature-log candidates", e);
    }
  }
}
