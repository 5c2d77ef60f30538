package dev.adengine.experiments;

import dev.adengine.experiments.ArmParams.AuctionType;
import dev.adengine.experiments.ExperimentDef.State;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A compact, stable binary form of {@link ExperimentConfig}: what is stored in Cassandra (one blob
 * per version) and replicated to every node. Decoding validates like the constructors do, so
 * bytes that decode are a valid config.
 *
 * <p>Format 1, big-endian ({@link DataOutputStream}; strings as modified UTF-8 with a 2-byte
 * length): {@code "ADXC"}, format byte {@code 1}, version (long), holdout (bp int, salt), layers
 * (count int, then id and salt each), experiments (count int, then each: id, layer id, salt, state
 * code byte, allocation bp int, layer buckets, arms (count int, then each: name, bp int, control
 * boolean, params, buckets))). Buckets: pair count int then start/end shorts. Params: a presence
 * byte (bit 0 model, 1 auction type, 2 reserve, 3 quality factor, 4 top K, 5 shadow model) then
 * the present fields in that order (string, code byte, long, double, int, string). Enum codes are
 * fixed numbers, not ordinals. A change of layout gets a new format byte; old formats stay readable.
 */
public final class ExperimentConfigCodec {

  private static final int MAGIC = 0x41445843; // "ADXC"
  private static final byte FORMAT = 1;

  private ExperimentConfigCodec() {}

  public static byte[] encode(ExperimentConfig config) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeByte(FORMAT);
      out.writeLong(config.version());
      out.writeInt(config.holdout().basisPoints());
      out.writeUTF(config.holdout().salt());
      out.writeInt(config.layers().size());
      for (Layer layer : config.layers()) {
        out.writeUTF(layer.id());
        out.writeUTF(layer.salt());
      }
      out.writeInt(config.experiments().size());
      for (ExperimentDef e : config.experiments()) {
        out.writeUTF(e.id());
        out.writeUTF(e.layerId());
        out.writeUTF(e.salt());
        out.writeByte(stateCode(e.state()));
        out.writeInt(e.allocationBasisPoints());
        writeBuckets(out, e.layerBuckets());
        out.writeInt(e.arms().size());
        for (ArmDef arm : e.arms()) {
          out.writeUTF(arm.name());
          out.writeInt(arm.basisPoints());
          out.writeBoolean(arm.control());
          writeParams(out, arm.params());
          writeBuckets(out, arm.buckets());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode config version " + config.version(), e);
    }
    return bytes.toByteArray();
  }

  /**
   * @throws IllegalArgumentException when the bytes are not an encoded config (wrong magic,
   *     unknown format, truncated, trailing bytes), or {@link InvalidConfigException} when they
   *     decode to a config that breaks a rule
   */
  public static ExperimentConfig decode(byte[] data) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      if (in.readInt() != MAGIC) {
        throw new IllegalArgumentException("not an experiment config: wrong magic");
      }
      byte format = in.readByte();
      if (format != FORMAT) {
        throw new IllegalArgumentException("unknown experiment config format " + format);
      }
      long version = in.readLong();
      Holdout holdout = new Holdout(in.readInt(), in.readUTF());
      int layerCount = count(in);
      List<Layer> layers = new ArrayList<>(layerCount);
      for (int i = 0; i < layerCount; i++) {
        layers.add(new Layer(in.readUTF(), in.readUTF()));
      }
      int experimentCount = count(in);
      List<ExperimentDef> experiments = new ArrayList<>(experimentCount);
      for (int i = 0; i < experimentCount; i++) {
        String id = in.readUTF();
        String layerId = in.readUTF();
        String salt = in.readUTF();
        State state = state(in.readByte());
        int allocation = in.readInt();
        BucketSet layerBuckets = readBuckets(in);
        int armCount = count(in);
        List<ArmDef> arms = new ArrayList<>(armCount);
        for (int a = 0; a < armCount; a++) {
          String name = in.readUTF();
          int bp = in.readInt();
          boolean control = in.readBoolean();
          ArmParams params = readParams(in);
          arms.add(new ArmDef(name, bp, control, params, readBuckets(in)));
        }
        experiments.add(new ExperimentDef(id, layerId, salt, state, allocation, layerBuckets, arms));
      }
      if (in.read() != -1) {
        throw new IllegalArgumentException("trailing bytes after experiment config version " + version);
      }
      return new ExperimentConfig(version, holdout, layers, experiments);
    } catch (EOFException e) {
      throw new IllegalArgumentException("truncated experiment config", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("unreadable experiment config: " + e.getMessage(), e);
    }
  }

  private static void writeParams(DataOutputStream out, ArmParams p) throws IOException {
    int mask = (p.modelVersion() != null ? 1 : 0)
        | (p.auctionType() != null ? 2 : 0)
        | (p.reserveMicros() != null ? 4 : 0)
        | (p.qualityFactor() != null ? 8 : 0)
        | (p.topK() != null ? 16 : 0)
        | (p.shadowModelVersion() != null ? 32 : 0);
    out.writeByte(mask);
    if (p.modelVersion() != null) {
      out.writeUTF(p.modelVersion());
    }
    if (p.auctionType() != null) {
      out.writeByte(p.auctionType() == AuctionType.GSP ? 1 : 2);
    }
    if (p.reserveMicros() != null) {
      out.writeLong(p.reserveMicros());
    }
    if (p.qualityFactor() != null) {
      out.writeDouble(p.qualityFactor());
    }
    if (p.topK() != null) {
      out.writeInt(p.topK());
    }
    if (p.shadowModelVersion() != null) {
      out.writeUTF(p.shadowModelVersion());
    }
  }

  private static ArmParams readParams(DataInputStream in) throws IOException {
    int mask = in.readUnsignedByte();
    if ((mask & ~63) != 0) {
      throw new IllegalArgumentException("unknown arm parameter bits " + Integer.toBinaryString(mask));
    }
    String model = (mask & 1) != 0 ? in.readUTF() : null;
    AuctionType type = null;
    if ((mask & 2) != 0) {
      byte code = in.readByte();
      type = switch (code) {
        case 1 -> AuctionType.GSP;
        case 2 -> AuctionType.FIRST_PRICE;
        default -> throw new IllegalArgumentException("unknown auction type code " + code);
      };
    }
    Long reserve = (mask & 4) != 0 ? in.readLong() : null;
    Double quality = (mask & 8) != 0 ? in.readDouble() : null;
    Integer topK = (mask & 16) != 0 ? in.readInt() : null;
    String shadow = (mask & 32) != 0 ? in.readUTF() : null;
    return new ArmParams(model, type, reserve, quality, topK, shadow);
  }

  private static void writeBuckets(DataOutputStream out, BucketSet set) throws IOException {
    int[] bounds = set.bounds();
    out.writeInt(bounds.length / 2);
    for (int b : bounds) {
      out.writeShort(b);
    }
  }

  private static BucketSet readBuckets(DataInputStream in) throws IOException {
    int pairs = count(in);
    int[] bounds = new int[pairs * 2];
    for (int i = 0; i < bounds.length; i++) {
      bounds[i] = in.readUnsignedShort();
    }
    return BucketSet.of(bounds);
  }

  private static int count(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > 100_000) {
      throw new IllegalArgumentException("implausible element count " + n);
    }
    return n;
  }

  private static int stateCode(State s) {
    return switch (s) {
      case DRAFT -> 1;
      case RUNNING -> 2;
      case STOPPED -> 3;
    };
  }

  private static State state(byte code) {
    return switch (code) {
      case 1 -> State.DRAFT;
      case 2 -> State.RUNNING;
      case 3 -> State.STOPPED;
      default -> throw new IllegalArgumentException("unknown experiment state code " + code);
    };
  }
}
