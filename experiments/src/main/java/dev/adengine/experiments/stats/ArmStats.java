package dev.adengine.experiments.stats;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * What one arm did, as plain sums: requests, filled requests, impressions, clicks, revenue (sum
 * and sum of squares of each request's revenue, for the variance), spend, a latency histogram,
 * and a bounded exact sample of the distinct users served ({@link UserSample}, for the
 * sample-ratio check). Immutable.
 *
 * <p>Mergeable: {@link #plus} adds two of them field by field (the histograms bucket by bucket,
 * the user samples by union), so it is commutative and associative, and the sum over nodes is
 * the cluster's figure. The counters are not idempotent, so to replicate them as a CRDT keep one
 * cumulative {@code ArmStats} per node (a node only ever replaces its own entry with a later,
 * larger one, like a G-Counter's slots) and sum the entries when reporting. {@link
 * #encode}/{@link #decode} give the bytes for that.
 *
 * <p>Units: money in micros; latency in microseconds, 0 to {@link #LATENCY_MAX_MICROS} (larger
 * values are recorded as the maximum), with two significant digits (HdrHistogram). The sum of
 * squares is a double: micros squared overflow a long after a few million requests, and a
 * variance does not need the last digit.
 */
public final class ArmStats {

  /** Latencies above this are recorded as this: 60 s. */
  public static final long LATENCY_MAX_MICROS = 60_000_000L;

  private static final int LATENCY_DIGITS = 2;
  private static final int MAGIC = 0x41445341; // "ADSA"
  private static final byte FORMAT = 1;

  private final long requests;
  private final long filledRequests;
  private final long impressions;
  private final long clicks;
  private final long revenueMicros;
  private final double revenueSquares;
  private final long spendMicros;
  private final Histogram latency;
  private final UserSample users;

  private ArmStats(long requests, long filledRequests, long impressions, long clicks, long revenueMicros,
      double revenueSquares, long spendMicros, Histogram latency, UserSample users) {
    if (requests < 0 || filledRequests < 0 || impressions < 0 || clicks < 0 || revenueMicros < 0 || spendMicros < 0
        || !(revenueSquares >= 0)) {
      throw new IllegalArgumentException("negative counter in arm stats");
    }
    if (filledRequests > requests) {
      throw new IllegalArgumentException("filled requests " + filledRequests + " > requests " + requests);
    }
    this.requests = requests;
    this.filledRequests = filledRequests;
    this.impressions = impressions;
    this.clicks = clicks;
    this.revenueMicros = revenueMicros;
    this.revenueSquares = revenueSquares;
    this.spendMicros = spendMicros;
    this.latency = latency;
    this.users = Objects.requireNonNull(users, "users");
  }

  /** Nothing recorded. */
  public static ArmStats empty() {
    return new ArmStats(0, 0, 0, 0, 0, 0, 0, newHistogram(), UserSample.EMPTY);
  }

  /**
   * Stats from sums (tests, simulations, replication); {@code latencyMicros} may be null (no
   * latency recorded) and is copied; no users sampled.
   */
  public static ArmStats of(long requests, long filledRequests, long impressions, long clicks, long revenueMicros,
      double revenueSquares, long spendMicros, Histogram latencyMicros) {
    return of(requests, filledRequests, impressions, clicks, revenueMicros, revenueSquares, spendMicros, latencyMicros,
        UserSample.EMPTY);
  }

  /** As {@link #of(long, long, long, long, long, double, long, Histogram)}, with the users served. */
  public static ArmStats of(long requests, long filledRequests, long impressions, long clicks, long revenueMicros,
      double revenueSquares, long spendMicros, Histogram latencyMicros, UserSample users) {
    Histogram h = newHistogram();
    if (latencyMicros != null) {
      h.add(latencyMicros);
    }
    return new ArmStats(requests, filledRequests, impressions, clicks, revenueMicros, revenueSquares, spendMicros, h,
        users);
  }

  /** A histogram with the layout every {@code ArmStats} uses, for {@link #of}. */
  public static Histogram newHistogram() {
    return new Histogram(1, LATENCY_MAX_MICROS, LATENCY_DIGITS);
  }

  /** A thread-safe accumulator for the bid path, sampling up to {@link UserSample#DEFAULT_CAPACITY} users. */
  public static Recorder recorder() {
    return new Recorder(UserSample.DEFAULT_CAPACITY);
  }

  /** A thread-safe accumulator that samples up to {@code userSampleCapacity} distinct users. */
  public static Recorder recorder(int userSampleCapacity) {
    return new Recorder(userSampleCapacity);
  }

  /** The field-by-field sum. */
  public ArmStats plus(ArmStats o) {
    Histogram h = latency.copy();
    h.add(o.latency);
    return new ArmStats(requests + o.requests, filledRequests + o.filledRequests, impressions + o.impressions,
        clicks + o.clicks, revenueMicros + o.revenueMicros, revenueSquares + o.revenueSquares,
        spendMicros + o.spendMicros, h, users.merge(o.users));
  }

  public long requests() {
    return requests;
  }

  /** Requests answered with at least one ad. */
  public long filledRequests() {
    return filledRequests;
  }

  public long impressions() {
    return impressions;
  }

  public long clicks() {
    return clicks;
  }

  /** Sum over requests of the revenue each request earned, micros. */
  public long revenueMicros() {
    return revenueMicros;
  }

  /** Sum over requests of the square of the revenue each earned, micros squared. */
  public double revenueSquares() {
    return revenueSquares;
  }

  /** What advertisers were charged for this arm's wins, micros, as booked by billing. */
  public long spendMicros() {
    return spendMicros;
  }

  /** {@code filledRequests / requests}; NaN without requests. */
  public double fillRate() {
    return requests == 0 ? Double.NaN : (double) filledRequests / requests;
  }

  /** {@code clicks / impressions}; NaN without impressions. */
  public double ctr() {
    return impressions == 0 ? Double.NaN : (double) clicks / impressions;
  }

  /** Mean revenue per request, micros; NaN without requests. */
  public double revenuePerRequestMicros() {
    return requests == 0 ? Double.NaN : (double) revenueMicros / requests;
  }

  /** Count, mean and sample variance of revenue per request (micros), for Welch's test. */
  public SignificanceTests.Moments revenueMoments() {
    return SignificanceTests.Moments.of(requests, revenueMicros, revenueSquares);
  }

  /** How many latencies were recorded. */
  public long latencyCount() {
    return latency.getTotalCount();
  }

  /** The latency at {@code percentile} (0-100), microseconds; 0 when none was recorded. */
  public long latencyPercentileMicros(double percentile) {
    return latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(percentile);
  }

  public long latencyP99Micros() {
    return latencyPercentileMicros(99);
  }

  /** The sample of distinct users served. */
  public UserSample users() {
    return users;
  }

  /** A copy of the latency histogram. */
  public Histogram latencyHistogram() {
    return latency.copy();
  }

  /**
   * The stable binary form: format 1 = the counters, the compressed HdrHistogram (length-prefixed),
   * then the user sample (level byte, capacity int, count int, hashes).
   */
  public byte[] encode() {
    ByteBuffer hist = ByteBuffer.allocate(latency.getNeededByteBufferCapacity());
    int histBytes = latency.encodeIntoCompressedByteBuffer(hist);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + histBytes);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeByte(FORMAT);
      out.writeLong(requests);
      out.writeLong(filledRequests);
      out.writeLong(impressions);
      out.writeLong(clicks);
      out.writeLong(revenueMicros);
      out.writeDouble(revenueSquares);
      out.writeLong(spendMicros);
      out.writeInt(histBytes);
      out.write(hist.array(), 0, histBytes);
      out.writeByte(users.level());
      out.writeInt(users.capacity());
      long[] sampled = users.hashes();
      out.writeInt(sampled.length);
      for (long u : sampled) {
        out.writeLong(u);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * @throws IllegalArgumentException when the bytes are not encoded arm stats
   */
  public static ArmStats decode(byte[] data) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      if (in.readInt() != MAGIC) {
        throw new IllegalArgumentException("not arm stats: wrong magic");
      }
      byte format = in.readByte();
      if (format != FORMAT) {
        throw new IllegalArgumentException("unknown arm stats format " + format);
      }
      long requests = in.readLong();
      long filled = in.readLong();
      long impressions = in.readLong();
      long clicks = in.readLong();
      long revenue = in.readLong();
      double squares = in.readDouble();
      long spend = in.readLong();
      int histBytes = in.readInt();
      if (histBytes < 0 || histBytes > data.length) {
        throw new IllegalArgumentException("bad histogram length " + histBytes);
      }
      byte[] hist = in.readNBytes(histBytes);
      if (hist.length != histBytes) {
        throw new IllegalArgumentException("truncated arm stats histogram");
      }
      int level = in.readUnsignedByte();
      int capacity = in.readInt();
      int sampled = in.readInt();
      if (sampled < 0 || sampled > data.length / 8) {
        throw new IllegalArgumentException("bad user sample size " + sampled);
      }
      long[] hashes = new long[sampled];
      for (int i = 0; i < sampled; i++) {
        hashes[i] = in.readLong();
      }
      if (in.read() != -1) {
        throw new IllegalArgumentException("trailing bytes after arm stats");
      }
      Histogram decoded = Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(hist), LATENCY_MAX_MICROS);
      return of(requests, filled, impressions, clicks, revenue, squares, spend, decoded,
          UserSample.of(level, capacity, hashes));
    } catch (EOFException e) {
      throw new IllegalArgumentException("truncated arm stats", e);
    } catch (IOException | DataFormatException e) {
      throw new IllegalArgumentException("unreadable arm stats: " + e.getMessage(), e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ArmStats s && requests == s.requests && filledRequests == s.filledRequests
        && impressions == s.impressions && clicks == s.clicks && revenueMicros == s.revenueMicros
        && Double.compare(revenueSquares, s.revenueSquares) == 0 && spendMicros == s.spendMicros
        && latency.equals(s.latency) && users.equals(s.users);
  }

  @Override
  public int hashCode() {
    return Objects.hash(requests, filledRequests, impressions, clicks, revenueMicros, revenueSquares, spendMicros,
        latency.getTotalCount());
  }

  @Override
  public String toString() {
    return "ArmStats[requests=" + requests + ", filled=" + filledRequests + ", impressions=" + impressions
        + ", clicks=" + clicks + ", revenueMicros=" + revenueMicros + ", spendMicros=" + spendMicros
        + ", p99Micros=" + latencyP99Micros() + ", " + users + "]";
  }

  /**
   * Accumulates one arm's outcomes from many threads at once (adders and HdrHistogram's {@link
   * org.HdrHistogram.Recorder}: no lock on the recording side); {@link #snapshot} reads the
   * cumulative figures.
   *
   * <p>Revenue per request: call {@link #recordRequestRevenue} once per request with everything
   * the request earned (all its CPM wins together; a CPC click's price when it arrives, requests
   * rarely get two clicks). Requests that earned nothing need no call: a zero adds nothing to the
   * sums, and the request count comes from {@link #recordRequest}.
   */
  public static final class Recorder {
    private final LongAdder requests = new LongAdder();
    private final LongAdder filled = new LongAdder();
    private final LongAdder impressions = new LongAdder();
    private final LongAdder clicks = new LongAdder();
    private final LongAdder revenue = new LongAdder();
    private final DoubleAdder squares = new DoubleAdder();
    private final LongAdder spend = new LongAdder();
    private final org.HdrHistogram.Recorder latency =
        new org.HdrHistogram.Recorder(1, LATENCY_MAX_MICROS, LATENCY_DIGITS);
    private final Histogram cumulative = newHistogram();
    private final Set<Long> users = ConcurrentHashMap.newKeySet();
    private final int userCapacity;
    private volatile int userLevel;
    private Histogram recycle;

    private Recorder(int userCapacity) {
      UserSample.withCapacity(userCapacity); // validates
      this.userCapacity = userCapacity;
    }

    /**
     * One request served by the arm: for whom (null or empty: not sampled), whether it got an
     * ad, and how long it took.
     */
    public void recordRequest(String userId, boolean filledRequest, long latencyMicros) {
      if (userId != null && !userId.isEmpty()) {
        recordUser(UserSample.hashOf(userId));
      }
      requests.increment();
      if (filledRequest) {
        filled.increment();
      }
      latency.recordValue(Math.max(0, Math.min(LATENCY_MAX_MICROS, latencyMicros)));
    }

    private void recordUser(long hash) {
      if (UserSample.keeps(userLevel, hash) && users.add(hash) && users.size() > userCapacity) {
        synchronized (users) {
          while (users.size() > userCapacity && userLevel < 63) {
            int next = userLevel + 1;
            users.removeIf(h -> !UserSample.keeps(next, h));
            userLevel = next;
          }
        }
      }
    }

    public void recordImpressions(long n) {
      impressions.add(n);
    }

    public void recordClicks(long n) {
      clicks.add(n);
    }

    /** What one request earned, micros (see the class comment). */
    public void recordRequestRevenue(long micros) {
      if (micros < 0) {
        throw new IllegalArgumentException("negative revenue " + micros);
      }
      revenue.add(micros);
      squares.add((double) micros * micros);
    }

    public void recordSpend(long micros) {
      spend.add(micros);
    }

    /** Everything recorded so far. Snapshots are serialized among themselves. */
    public synchronized ArmStats snapshot() {
      recycle = latency.getIntervalHistogram(recycle);
      cumulative.add(recycle);
      long r = requests.sum();
      long f = Math.min(filled.sum(), r);
      long[] sampled = users.stream().mapToLong(Long::longValue).toArray();
      return of(r, f, impressions.sum(), clicks.sum(), revenue.sum(), squares.sum(), spend.sum(), cumulative,
          UserSample.of(userLevel, userCapacity, sampled));
    }
  }
}
