package dev.adengine.engine.budget;

import java.util.Arrays;

/**
 * The open CPC reservations of this node, in primitive arrays: one per CPC ad served (about 2.5 per
 * bid request), each held until a click converts it or its click window (30 min plus a minute of
 * grace) ends. At 1,000 requests/s that is ~4.6 million open entries, which a
 * {@code ConcurrentHashMap<String, Reservation>} held at ~180 bytes each (key String and its byte[],
 * the record, the map node): 0.8 GB of a 1 GB heap, and the keeper scanned all of them 5 times a
 * second to find the few hundred that were due. This book keeps ~55 bytes per entry and expires in
 * time proportional to what expires.
 *
 * <h2>Key</h2>
 * An entry is keyed by a 128-bit fingerprint of (request id, ad id): MurmurHash3 x64 128 of the
 * UTF-16 chars of {@code requestId + '\0' + adId} (the char sequence the old String key held, so two
 * pairs are the same key exactly when they were before). No String is retained. Two different pairs
 * share a fingerprint with probability 2^-128; over 10^7 open entries the chance that any two
 * collide is ~n^2/2^129 = 1.5 * 10^-25, and a collision would only make one reservation replace (and
 * release) the other, never charge or release money twice. MurmurHash3 is not a keyed hash: a client
 * that crafts its own request ids to collide only disturbs its own reservations.
 *
 * <h2>Layout (per segment)</h2>
 * <ul>
 *   <li>a <b>pool</b> of entry slots in chunks of {@value #CHUNK} x 5 longs: fingerprint (2),
 *       amount in micros, expiry in epoch millis, and {@code campaign << 32 | day} (indices into the
 *       caller's grow-only intern tables), {@code -1} when the entry is dead. 40 bytes a slot; freed
 *       slots are reused through a free list (chained through the first word), so the pool stays
 *       as large as its peak and no larger;</li>
 *   <li>an <b>index</b>: an {@code int[]} open-addressing table (linear probing, power-of-two
 *       capacity, load &lt;= 0.6, doubled when passed) whose non-zero cells hold {@code slot + 1} in
 *       the low 24 bits and 8 bits of the fingerprint's second half above them, so a probe reads the
 *       pool only when those 8 bits match. Deletion shifts the following cells of the cluster back
 *       (no tombstones: entries churn constantly, tombstones would fill the table). 4 / load =
 *       7-13 bytes per entry;</li>
 *   <li>the <b>expiry order</b>: a ring of slot numbers in non-decreasing expiry order (expiries
 *       are "now + window", so they arrive almost always in order), and a binary min-heap on expiry
 *       for the few that arrive out of order (a bid thread that read the clock earlier but locked the
 *       segment later, a clock step back, a test). 4 bytes per entry in the ring (4-8 with its
 *       doubling), 4 in the heap.</li>
 * </ul>
 * At 4.6 million entries (72,000 per segment) that is 40 + 7.3 + 7.3 = ~55 bytes per entry.
 *
 * <h2>Releasing once</h2>
 * Each pool slot is referenced by exactly one ring or heap cell from its insertion until that cell
 * is consumed, and only then freed for reuse. A converted or replaced entry leaves the index and is
 * marked dead, but keeps its slot until its cell is reached (at once if the cell is at an end of the
 * ring or the top of the heap, as when a click follows its reservation at once; otherwise when its
 * window would have ended: ~2% of entries are clicked). So a ring or heap cell always names the
 * entry it was made for, its expiry never changes under the heap, and an entry converted or
 * replaced before its expiry is never released: this plays the part of the old map's
 * {@code remove(key, value)} identity check, without a per-slot sequence number.
 *
 * <h2>Costs</h2>
 * Reserve, convert: one fingerprint (8 chars a round), one segment lock, expected &lt; 2 probes.
 * {@link #expire} per keeper tick: for each of the {@value #SEGMENTS} segments one lock and a look
 * at the ring's head and the heap's top, plus O(1) per entry released from the ring and
 * O(log heap) from the heap: proportional to what expires, not to what is open. It releases at
 * most {@value #BATCH} entries per lock hold, and calls the releaser outside the lock.
 *
 * <p>Measured (ReservationFootprint, one JVM per layout, ParallelGC, 4.6 million open, 500 in and
 * 500 released per tick): 53.7 bytes of heap per entry (the map: 163.8) and 0.5 ms per tick (the
 * map's scan: 189 ms, most of a core at 5 ticks a second); the book fits a 1 GB heap in 254 MB.
 *
 * <h2>Concurrency</h2>
 * {@value #SEGMENTS} segments chosen by the fingerprint's top 6 bits, each guarded by its own monitor,
 * held for a few array reads and writes (allocation only when an array grows). The open count is the
 * sum of the segments' volatile sizes. Limit: 2^24 - 1 slots per segment (~1 billion entries).
 */
final class ReservationBook {
  static final int SEGMENTS = 64;
  private static final int SEGMENT_SHIFT = 64 - 6;
  static final int CHUNK_BITS = 10;
  static final int CHUNK = 1 << CHUNK_BITS;
  private static final int WORDS = 5;
  private static final int K1 = 0;
  private static final int K2 = 1;
  private static final int AMOUNT = 2;
  private static final int EXPIRY = 3;
  private static final int META = 4;
  private static final long DEAD = -1L;
  private static final int SLOT_BITS = 24;
  private static final int SLOT_MASK = (1 << SLOT_BITS) - 1;
  private static final int TAG_MASK = ~SLOT_MASK;
  /** At most this many entries released per segment lock hold. */
  static final int BATCH = 1024;

  /** What a converted or replaced entry held: indices into the caller's campaign and day tables. */
  record Entry(int campaign, int day, long amountMicros, long expiresAtMillis) {}

  /** The 128-bit fingerprint of a (request id, ad id) pair. */
  record Key(long h1, long h2) {}

  /** Gives an expired entry's amount back to its campaign's ledger for its day. */
  @FunctionalInterface
  interface Releaser {
    void release(int campaign, int day, long amountMicros);
  }

  private final Segment[] segments = new Segment[SEGMENTS];

  ReservationBook() {
    for (int i = 0; i < SEGMENTS; i++) {
      segments[i] = new Segment();
    }
  }

  /**
   * Opens a reservation under {@code key}; if one was open under it, it is replaced and returned
   * (the caller releases it), else null.
   */
  Entry put(Key key, int campaign, int day, long amountMicros, long expiresAtMillis) {
    if (campaign < 0 || day < 0) {
      throw new IllegalArgumentException("negative index: campaign " + campaign + ", day " + day);
    }
    Segment s = segment(key.h1());
    synchronized (s) {
      return s.put(key.h1(), key.h2(), campaign, day, amountMicros, expiresAtMillis);
    }
  }

  /** Removes the reservation open under {@code key} (a click converts it); null if none is. */
  Entry remove(Key key) {
    Segment s = segment(key.h1());
    synchronized (s) {
      return s.remove(key.h1(), key.h2());
    }
  }

  /** Whether a reservation is open under {@code key}. */
  boolean contains(Key key) {
    Segment s = segment(key.h1());
    synchronized (s) {
      return s.find(key.h1(), key.h2()) >= 0;
    }
  }

  /**
   * Removes every reservation with {@code expiresAtMillis <= nowMillis}, hands each to
   * {@code releaser} (outside the segment's lock), and returns how many.
   */
  int expire(long nowMillis, Releaser releaser) {
    int[] campaigns = null;
    int[] days = null;
    long[] amounts = null;
    int total = 0;
    for (Segment s : segments) {
      while (true) {
        int n;
        boolean more;
        synchronized (s) {
          if (!s.hasDue(nowMillis)) {
            break;
          }
          if (campaigns == null) {
            campaigns = new int[BATCH];
            days = new int[BATCH];
            amounts = new long[BATCH];
          }
          n = s.drain(nowMillis, campaigns, days, amounts);
          more = s.hasDue(nowMillis);
        }
        for (int i = 0; i < n; i++) {
          releaser.release(campaigns[i], days[i], amounts[i]);
        }
        total += n;
        if (!more) {
          break;
        }
      }
    }
    return total;
  }

  /** Open reservations: the sum of the segments' counts, O(segments). */
  int size() {
    long n = 0;
    for (Segment s : segments) {
      n += s.live;
    }
    return (int) Math.min(n, Integer.MAX_VALUE);
  }

  /** Bytes held by the arrays of all segments (index, pool, ring, heap), for measurement. */
  long footprintBytes() {
    long bytes = 0;
    for (Segment s : segments) {
      synchronized (s) {
        bytes += s.footprintBytes();
      }
    }
    return bytes;
  }

  private Segment segment(long h1) {
    return segments[(int) (h1 >>> SEGMENT_SHIFT)];
  }

  /** Fingerprint of (request, ad): MurmurHash3 x64 128 (seed 0) of the UTF-16LE bytes of {@code requestId + '\0' + adId}. */
  static Key key(String requestId, String adId) {
    return Murmur3.hash(requestId, adId);
  }

  /** One lock's share of the book: an index, a pool of slots and the expiry order. Guarded by its monitor. */
  private static final class Segment {
    private int[] index = new int[16];
    private int mask = 15;
    /** Live entries (in the index). */
    private int size;
    /** {@link #size}, for lock-free summing. */
    private volatile int live;

    private long[][] chunks = new long[1][];
    /** Slots ever handed out (the pool's high-water mark). */
    private int allocated;
    private int freeHead = -1;

    private int[] ring = new int[16];
    private int ringHead;
    private int ringSize;

    private int[] heap = new int[4];
    private int heapSize;

    Entry put(long h1, long h2, int campaign, int day, long amount, long expiry) {
      int pos = find(h1, h2);
      int slot = allocate();
      long[] c = chunks[slot >>> CHUNK_BITS];
      int b = (slot & (CHUNK - 1)) * WORDS;
      c[b + K1] = h1;
      c[b + K2] = h2;
      c[b + AMOUNT] = amount;
      c[b + EXPIRY] = expiry;
      c[b + META] = (long) campaign << 32 | day;
      int cell = tag(h2) | (slot + 1);
      Entry previous = null;
      if (pos >= 0) {
        int old = (index[pos] & SLOT_MASK) - 1;
        previous = entry(old);
        kill(old);
        index[pos] = cell;
      } else {
        index[~pos] = cell;
        size++;
        if (size * 5L > (mask + 1) * 3L) {
          grow();
        }
      }
      schedule(slot, expiry);
      if (previous != null) {
        trim();
      }
      live = size;
      return previous;
    }

    Entry remove(long h1, long h2) {
      int pos = find(h1, h2);
      if (pos < 0) {
        return null;
      }
      int slot = (index[pos] & SLOT_MASK) - 1;
      Entry e = entry(slot);
      deleteAt(pos);
      size--;
      kill(slot);
      trim();
      live = size;
      return e;
    }

    /** The index cell holding (h1, h2), or {@code ~cell} of the empty cell where it would go. */
    int find(long h1, long h2) {
      int tag = tag(h2);
      for (int i = (int) h1 & mask; ; i = (i + 1) & mask) {
        int v = index[i];
        if (v == 0) {
          return ~i;
        }
        if ((v & TAG_MASK) == tag) {
          int slot = (v & SLOT_MASK) - 1;
          long[] c = chunks[slot >>> CHUNK_BITS];
          int b = (slot & (CHUNK - 1)) * WORDS;
          if (c[b + K1] == h1 && c[b + K2] == h2) {
            return i;
          }
        }
      }
    }

    /** Whether the ring's head or the heap's top is due or dead (so {@link #drain} has work). */
    boolean hasDue(long now) {
      return heapSize > 0 && dueOrDead(heap[0], now) || ringSize > 0 && dueOrDead(ring[ringHead], now);
    }

    /** Removes up to {@code campaigns.length} due entries into the arrays; returns how many. */
    int drain(long now, int[] campaigns, int[] days, long[] amounts) {
      int n = 0;
      int steps = 0;
      while (n < campaigns.length && steps < 4 * campaigns.length) {
        int slot;
        if (heapSize > 0 && dueOrDead(heap[0], now)) {
          slot = heapPop();
        } else if (ringSize > 0 && dueOrDead(ring[ringHead], now)) {
          slot = ring[ringHead];
          ringHead = (ringHead + 1) & (ring.length - 1);
          ringSize--;
        } else {
          break;
        }
        steps++;
        long meta = word(slot, META);
        if (meta != DEAD) {
          deleteAt(locate(slot));
          size--;
          campaigns[n] = (int) (meta >>> 32);
          days[n] = (int) meta;
          amounts[n] = word(slot, AMOUNT);
          n++;
        }
        free(slot);
      }
      live = size;
      return n;
    }

    long footprintBytes() {
      long bytes = 16 + 4L * index.length + 16 + 4L * ring.length + 16 + 4L * heap.length + 16 + 4L * chunks.length;
      for (long[] c : chunks) {
        if (c != null) {
          bytes += 16 + 8L * c.length;
        }
      }
      return bytes;
    }

    private boolean dueOrDead(int slot, long now) {
      long[] c = chunks[slot >>> CHUNK_BITS];
      int b = (slot & (CHUNK - 1)) * WORDS;
      return c[b + META] == DEAD || c[b + EXPIRY] <= now;
    }

    private long word(int slot, int w) {
      return chunks[slot >>> CHUNK_BITS][(slot & (CHUNK - 1)) * WORDS + w];
    }

    private boolean dead(int slot) {
      return word(slot, META) == DEAD;
    }

    private Entry entry(int slot) {
      long meta = word(slot, META);
      return new Entry((int) (meta >>> 32), (int) meta, word(slot, AMOUNT), word(slot, EXPIRY));
    }

    private void kill(int slot) {
      chunks[slot >>> CHUNK_BITS][(slot & (CHUNK - 1)) * WORDS + META] = DEAD;
    }

    private static int tag(long h2) {
      return (int) (h2 >>> 56) << SLOT_BITS;
    }

    /** The index cell of a live slot. */
    private int locate(int slot) {
      int cellSlot = slot + 1;
      for (int i = (int) word(slot, K1) & mask; ; i = (i + 1) & mask) {
        int v = index[i];
        if (v == 0) {
          throw new IllegalStateException("live slot " + slot + " missing from the index");
        }
        if ((v & SLOT_MASK) == cellSlot) {
          return i;
        }
      }
    }

    /**
     * Empties cell {@code i} by backward-shift deletion: each following cell of the cluster moves
     * back into the hole when its home is not in the cyclic range (hole, cell], so every entry stays
     * reachable from its home without tombstones.
     */
    private void deleteAt(int i) {
      int j = i;
      while (true) {
        j = (j + 1) & mask;
        int v = index[j];
        if (v == 0) {
          break;
        }
        int home = (int) word((v & SLOT_MASK) - 1, K1) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
          index[i] = v;
          i = j;
        }
      }
      index[i] = 0;
    }

    private void grow() {
      int[] old = index;
      index = new int[old.length * 2];
      mask = index.length - 1;
      for (int v : old) {
        if (v != 0) {
          int i = (int) word((v & SLOT_MASK) - 1, K1) & mask;
          while (index[i] != 0) {
            i = (i + 1) & mask;
          }
          index[i] = v;
        }
      }
    }

    private int allocate() {
      if (freeHead >= 0) {
        int slot = freeHead;
        freeHead = (int) word(slot, K1);
        return slot;
      }
      int slot = allocated;
      if (slot >= SLOT_MASK) {
        throw new IllegalStateException("reservation segment full: " + slot + " slots");
      }
      int c = slot >>> CHUNK_BITS;
      if (c == chunks.length) {
        chunks = Arrays.copyOf(chunks, c * 2);
      }
      if (chunks[c] == null) {
        chunks[c] = new long[CHUNK * WORDS];
      }
      allocated++;
      return slot;
    }

    private void free(int slot) {
      long[] c = chunks[slot >>> CHUNK_BITS];
      int b = (slot & (CHUNK - 1)) * WORDS;
      c[b + K1] = freeHead;
      c[b + META] = DEAD;
      freeHead = slot;
    }

    /** Puts the slot's cell at the ring's tail if that keeps the ring in expiry order, else in the heap. */
    private void schedule(int slot, long expiry) {
      if (ringSize == 0 || expiry >= word(ring[(ringHead + ringSize - 1) & (ring.length - 1)], EXPIRY)) {
        if (ringSize == ring.length) {
          int[] bigger = new int[ring.length * 2];
          int firstPart = ring.length - ringHead;
          System.arraycopy(ring, ringHead, bigger, 0, firstPart);
          System.arraycopy(ring, 0, bigger, firstPart, ringHead);
          ring = bigger;
          ringHead = 0;
        }
        ring[(ringHead + ringSize) & (ring.length - 1)] = slot;
        ringSize++;
      } else {
        heapPush(slot);
      }
    }

    /** Frees dead slots at both ends of the ring and the top of the heap, so a prompt click frees at once. */
    private void trim() {
      while (ringSize > 0) {
        int last = ring[(ringHead + ringSize - 1) & (ring.length - 1)];
        if (!dead(last)) {
          break;
        }
        ringSize--;
        free(last);
      }
      while (ringSize > 0 && dead(ring[ringHead])) {
        free(ring[ringHead]);
        ringHead = (ringHead + 1) & (ring.length - 1);
        ringSize--;
      }
      while (heapSize > 0 && dead(heap[0])) {
        free(heapPop());
      }
    }

    private void heapPush(int slot) {
      if (heapSize == heap.length) {
        heap = Arrays.copyOf(heap, heap.length * 2);
      }
      long expiry = word(slot, EXPIRY);
      int i = heapSize++;
      while (i > 0) {
        int parent = (i - 1) >>> 1;
        if (word(heap[parent], EXPIRY) <= expiry) {
          break;
        }
        heap[i] = heap[parent];
        i = parent;
      }
      heap[i] = slot;
    }

    private int heapPop() {
      int top = heap[0];
      int last = heap[--heapSize];
      if (heapSize > 0) {
        long expiry = word(last, EXPIRY);
        int i = 0;
        while (true) {
          int child = 2 * i + 1;
          if (child >= heapSize) {
            break;
          }
          if (child + 1 < heapSize && word(heap[child + 1], EXPIRY) < word(heap[child], EXPIRY)) {
            child++;
          }
          if (word(heap[child], EXPIRY) >= expiry) {
            break;
          }
          heap[i] = heap[child];
          i = child;
        }
        heap[i] = last;
      }
      return top;
    }
  }

  /** MurmurHash3 x64 128 (Austin Appleby, public domain) over the chars of {@code a + '\0' + b}, little-endian. */
  static final class Murmur3 {
    private static final long C1 = 0x87c37b91114253d5L;
    private static final long C2 = 0x4cf5ad432745937fL;

    private Murmur3() {}

    static Key hash(String a, String b) {
      int la = a.length();
      int n = la + 1 + b.length();
      long h1 = 0;
      long h2 = 0;
      int i = 0;
      for (; i + 8 <= n; i += 8) {
        long k1 = lane(a, b, la, i);
        long k2 = lane(a, b, la, i + 4);
        k1 *= C1;
        k1 = Long.rotateLeft(k1, 31);
        k1 *= C2;
        h1 ^= k1;
        h1 = Long.rotateLeft(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;
        k2 *= C2;
        k2 = Long.rotateLeft(k2, 33);
        k2 *= C1;
        h2 ^= k2;
        h2 = Long.rotateLeft(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
      }
      int rest = n - i;
      long k1 = 0;
      long k2 = 0;
      for (int j = 0; j < rest; j++) {
        long c = charAt(a, b, la, i + j);
        if (j < 4) {
          k1 |= c << (16 * j);
        } else {
          k2 |= c << (16 * (j - 4));
        }
      }
      if (rest > 4) {
        k2 *= C2;
        k2 = Long.rotateLeft(k2, 33);
        k2 *= C1;
        h2 ^= k2;
      }
      if (rest > 0) {
        k1 *= C1;
        k1 = Long.rotateLeft(k1, 31);
        k1 *= C2;
        h1 ^= k1;
      }
      long bytes = 2L * n;
      h1 ^= bytes;
      h2 ^= bytes;
      h1 += h2;
      h2 += h1;
      h1 = fmix(h1);
      h2 = fmix(h2);
      h1 += h2;
      h2 += h1;
      return new Key(h1, h2);
    }

    private static long lane(String a, String b, int la, int i) {
      if (i + 4 <= la) {
        return a.charAt(i) | (long) a.charAt(i + 1) << 16 | (long) a.charAt(i + 2) << 32
            | (long) a.charAt(i + 3) << 48;
      }
      return charAt(a, b, la, i) | charAt(a, b, la, i + 1) << 16 | charAt(a, b, la, i + 2) << 32
          | charAt(a, b, la, i + 3) << 48;
    }

    private static long charAt(String a, String b, int la, int i) {
      return i < la ? a.charAt(i) : i == la ? 0 : b.charAt(i - la - 1);
    }

    private static long fmix(long k) {
      k ^= k >>> 33;
      k *= 0xff51afd7ed558ccdL;
      k ^= k >>> 33;
      k *= 0xc4ceb9fe1a85ec53L;
      k ^= k >>> 33;
      return k;
    }
  }
}
