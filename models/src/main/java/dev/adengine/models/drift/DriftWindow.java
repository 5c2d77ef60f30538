package dev.adengine.models.drift;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Live feature and score distributions over a sliding time window, binned like a
 * {@link ReferenceDistribution} and compared with it by {@link #report}. The window is a ring of
 * {@code slots} slots of {@code slotMillis} each (12 x 10 s = 2 min): a row counts in the slot of
 * its time, and a slot older than the window is left out of reports and cleared when the ring
 * comes round to it again. So the window covers the current, partial slot and the
 * {@code slots - 1} before it, and old traffic leaves it a slot at a time, without a pass over
 * the rows.
 *
 * <p><b>Threads.</b> One writer calls {@link #add} (the thread that scores, or one draining a
 * queue of scored rows): it is not safe for two. Any number of threads may call {@link #report}
 * meanwhile; it takes no lock, so it never blocks the writer, and the writer never waits for it.
 * {@code add} is allocation-free and lock-free: a binary search and a plain increment (published
 * with release semantics) per feature. Each slot carries the time index it holds, used like a
 * sequence lock: the writer marks the slot {@code NONE} before clearing it for a new period and
 * stores the new index after, and a report reads a slot's counts between two reads of its index,
 * trying again if the index changed. A report therefore never mixes two periods in one slot. It
 * may see a row that is being added in some features' counts and not yet in others': each
 * feature's proportions are taken over its own total, so this moves a PSI by one row's worth.
 *
 * <p>Time comes from the caller ({@code nowMs}), so tests drive it. The writer's time is taken as
 * non-decreasing: a row stamped earlier than the newest slot written counts in that newest slot.
 */
public final class DriftWindow {
  /** Index of a slot that holds no period (never written, or being cleared). */
  private static final long NONE = Long.MIN_VALUE;
  private static final int READ_ATTEMPTS = 4;

  private final ReferenceDistribution ref;
  private final long slotMillis;
  private final int slots;
  private final int features;
  /** Offset of each feature's bins within a slot; then the score's bins, then the row count. */
  private final int[] offset;
  private final int scoreOffset;
  private final int rowsOffset;
  private final int slotWidth;
  /** {@code slots x slotWidth} counts. */
  private final AtomicLongArray counts;
  /** Per slot, the time index ({@code nowMs / slotMillis}) it counts, or {@link #NONE}. */
  private final AtomicLongArray period;
  /** Newest time index written; the writer's alone. */
  private long newest = NONE;

  public DriftWindow(ReferenceDistribution ref, long slotMillis, int slots) {
    if (slotMillis <= 0 || slots < 1) {
      throw new IllegalArgumentException("need a positive slot length and at least one slot: " + slotMillis
          + " ms x " + slots);
    }
    this.ref = ref;
    this.slotMillis = slotMillis;
    this.slots = slots;
    this.features = ref.featureNames().size();
    this.offset = new int[features];
    int width = 0;
    for (int f = 0; f < features; f++) {
      offset[f] = width;
      width += ref.bins(f);
    }
    this.scoreOffset = width;
    width += ref.scoreBins();
    this.rowsOffset = width;
    this.slotWidth = width + 1;
    if ((long) slotWidth * slots > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(slots + " slots of " + slotWidth + " counts are too many");
    }
    this.counts = new AtomicLongArray(slotWidth * slots);
    this.period = new AtomicLongArray(slots);
    for (int s = 0; s < slots; s++) {
      period.set(s, NONE);
    }
  }

  /**
   * Counts one scored row at {@code nowMs}. Single writer.
   *
   * @param row the features the model scored, in the reference's order
   * @param score the model's prediction for the row
   */
  public void add(double[] row, double score, long nowMs) {
    if (row.length != features) {
      throw new IllegalArgumentException("row has " + row.length + " values, " + features + " features");
    }
    long p = Math.max(Math.floorDiv(nowMs, slotMillis), newest);
    newest = p;
    int s = (int) Math.floorMod(p, (long) slots);
    int base = s * slotWidth;
    if (period.getPlain(s) != p) {
      // NONE first: a report that reads the slot while it is cleared sees the index change
      period.setRelease(s, NONE);
      for (int i = base; i < base + slotWidth; i++) {
        counts.setRelease(i, 0);
      }
      period.setRelease(s, p);
    }
    for (int f = 0; f < features; f++) {
      increment(base + offset[f] + ref.bin(f, row[f]));
    }
    increment(base + scoreOffset + ref.scoreBin(score));
    increment(base + rowsOffset);
  }

  /** The writer is alone: a read and a release store, no atomic read-modify-write. */
  private void increment(int i) {
    counts.setRelease(i, counts.getPlain(i) + 1);
  }

  /**
   * PSI of the window at {@code nowMs} against the reference, per feature and for the score; NaN
   * throughout (and so nothing {@link DriftReport#drifted}) with fewer than {@code minRows} rows,
   * or none.
   * Safe from any thread, concurrently with {@link #add}.
   */
  public DriftReport report(long nowMs, long minRows) {
    long oldest = Math.floorDiv(nowMs, slotMillis) - slots + 1;
    long[] total = new long[slotWidth];
    long[] slot = new long[slotWidth];
    for (int s = 0; s < slots; s++) {
      for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        long before = period.getAcquire(s);
        if (before == NONE || before < oldest) {
          break;
        }
        int base = s * slotWidth;
        for (int i = 0; i < slotWidth; i++) {
          slot[i] = counts.getAcquire(base + i);
        }
        if (period.getAcquire(s) == before) {
          for (int i = 0; i < slotWidth; i++) {
            total[i] += slot[i];
          }
          break;
        }
      }
    }
    long rows = total[rowsOffset];
    boolean enough = rows >= minRows && rows > 0;
    List<String> names = ref.featureNames();
    Map<String, Double> psi = new LinkedHashMap<>();
    for (int f = 0; f < features; f++) {
      psi.put(names.get(f), enough ? Psi.of(ref.expected(f), proportions(total, offset[f], ref.bins(f)))
          : Double.NaN);
    }
    double scorePsi = enough ? Psi.of(ref.expectedScore(), proportions(total, scoreOffset, ref.scoreBins()))
        : Double.NaN;
    return new DriftReport(rows, psi, scorePsi);
  }

  private static double[] proportions(long[] total, int from, int bins) {
    long[] c = new long[bins];
    System.arraycopy(total, from, c, 0, bins);
    return Psi.proportions(c);
  }

  /** Length of the window: {@code slots x slotMillis}. */
  public long windowMillis() {
    return slotMillis * slots;
  }
}
