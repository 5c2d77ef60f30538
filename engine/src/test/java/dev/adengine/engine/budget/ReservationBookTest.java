package dev.adengine.engine.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ReservationBookTest {
  private final ReservationBook book = new ReservationBook();

  private static ReservationBook.Key key(int i) {
    return ReservationBook.key("req-" + i, "ad-" + (i % 7));
  }

  @Test
  void shouldHashAsMurmur3X64128OfTheUtf16LeBytesOfRequestNulAd() {
    // the reference implementation below, checked against the published test vector
    long[] fox = murmur3Bytes("The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.US_ASCII));
    assertEquals(0xe34bbc7bbc071b6cL, fox[0]);
    assertEquals(0x7a433ca9c49a9347L, fox[1]);
    Random random = new Random(7);
    for (int n = 0; n < 2_000; n++) {
      String a = randomString(random, random.nextInt(24));
      String b = randomString(random, random.nextInt(24));
      long[] expected = murmur3Bytes((a + '\u0000' + b).getBytes(StandardCharsets.UTF_16LE));
      ReservationBook.Key k = ReservationBook.key(a, b);
      assertEquals(expected[0], k.h1(), a + " / " + b);
      assertEquals(expected[1], k.h2(), a + " / " + b);
    }
    assertFalse(ReservationBook.key("ab", "c").equals(ReservationBook.key("a", "bc")), "the separator counts");
  }

  @Test
  void shouldReleaseExactlyTheDueEntriesOnceWhenExpiriesArriveOutOfOrder() {
    // given: entries with random expiries, some converted, some replaced, all out of order
    Random random = new Random(42);
    Map<Integer, ReservationBook.Entry> open = new HashMap<>();
    Map<Long, Integer> amountToKey = new HashMap<>();
    long reserved = 0;
    long converted = 0;
    long replaced = 0;
    long nextAmount = 1;
    int keys = 20_000;
    for (int n = 0; n < 60_000; n++) {
      int k = random.nextInt(keys);
      int op = random.nextInt(10);
      if (op < 7) {
        long amount = nextAmount++;
        long expiry = random.nextInt(10_000);
        ReservationBook.Entry e = new ReservationBook.Entry(random.nextInt(50), random.nextInt(3), amount, expiry);
        ReservationBook.Entry previous = book.put(key(k), e.campaign(), e.day(), amount, expiry);
        assertEquals(open.get(k), previous);
        if (previous != null) {
          replaced += previous.amountMicros();
        }
        open.put(k, e);
        amountToKey.put(amount, k);
        reserved += amount;
      } else {
        ReservationBook.Entry removed = book.remove(key(k));
        assertEquals(open.remove(k), removed);
        if (removed != null) {
          converted += removed.amountMicros();
        }
      }
    }
    assertEquals(open.size(), book.size());

    // when: expiring at increasing times, with new reservations (some already due) in between
    long released = 0;
    for (long now = -1; now <= 10_100; now += 1 + random.nextInt(200)) {
      long due = now;
      Set<Long> expected = new HashSet<>();
      open.forEach((k, e) -> {
        if (e.expiresAtMillis() <= due) {
          expected.add(e.amountMicros());
        }
      });
      Set<Long> got = new HashSet<>();
      List<String> twice = new ArrayList<>();
      int count = book.expire(now, (campaign, day, amount) -> {
        if (!got.add(amount)) {
          twice.add("released twice: " + amount);
        }
        ReservationBook.Entry e = open.get(amountToKey.get(amount));
        assertEquals(e.campaign(), campaign);
        assertEquals(e.day(), day);
      });

      // then
      assertTrue(twice.isEmpty(), twice.toString());
      assertEquals(expected, got, "at " + now);
      assertEquals(expected.size(), count);
      for (long amount : got) {
        open.remove(amountToKey.get(amount));
        released += amount;
      }
      assertEquals(open.size(), book.size());
      for (int i = 0; i < 50; i++) {
        int k = keys + random.nextInt(keys);
        long amount = nextAmount++;
        long expiry = now - 50 + random.nextInt(400);
        ReservationBook.Entry previous = book.put(key(k), 1, 0, amount, expiry);
        if (previous != null) {
          replaced += previous.amountMicros();
        }
        assertEquals(open.put(k, new ReservationBook.Entry(1, 0, amount, expiry)), previous);
        amountToKey.put(amount, k);
        reserved += amount;
      }
    }
    for (long amount : collect(book, Long.MAX_VALUE)) {
      released += amount;
      open.remove(amountToKey.get(amount));
    }
    assertTrue(open.isEmpty());
    assertEquals(0, book.size());
    assertEquals(reserved, released + converted + replaced, "every reserved micro is released, converted or replaced once");
  }

  @Test
  void shouldFindEveryEntryWhileTheSegmentsGrowAndShrink() {
    int n = 300_000;
    for (int i = 0; i < n; i++) {
      assertNull(book.put(key(i), i % 100, 0, i, i % 1_000));
    }
    assertEquals(n, book.size());
    for (int i = 0; i < n; i += 2) {
      ReservationBook.Entry e = book.remove(key(i));
      assertNotNull(e, "entry " + i);
      assertEquals(i, e.amountMicros());
      assertEquals(i % 100, e.campaign());
    }
    for (int i = 0; i < n; i++) {
      assertEquals(i % 2 == 1, book.contains(key(i)), "entry " + i);
    }
    for (int i = n; i < 2 * n; i++) {
      book.put(key(i), 0, 0, i, 500 + i % 1_000);
    }
    long[] count = {0};
    assertEquals(n / 2 + n, book.expire(Long.MAX_VALUE, (c, d, a) -> count[0]++));
    assertEquals(n / 2 + n, count[0]);
    assertEquals(0, book.size());
    for (int i = 0; i < 2 * n; i += 1_000) {
      assertFalse(book.contains(key(i)));
    }
  }

  @Test
  void shouldFreeAPromptlyConvertedSlotAtOnceEvenWithAFarExpiry() {
    // as LedgerBench does: reserve with no end, convert at once, millions of times, never expire
    for (int i = 0; i < 10_000; i++) {
      book.put(key(i % 1_024), 0, 0, 1, Long.MAX_VALUE);
      assertNotNull(book.remove(key(i % 1_024)));
    }
    long idle = book.footprintBytes();
    for (int i = 0; i < 1_000_000; i++) {
      book.put(key(i % 1_024), 0, 0, 1, Long.MAX_VALUE);
      book.remove(key(i % 1_024));
    }
    assertEquals(idle, book.footprintBytes(), "slots of converted entries were not reused");
    assertEquals(0, book.size());
  }

  @Test
  void shouldNeitherLoseNorDoubleAnyMicroWhenReservingConvertingAndExpiringConcurrently() throws Exception {
    // given: 2 threads reserve (each amount unique), 1 converts, 1 expires, on shared keys
    int keys = 50_000;
    AtomicLong clock = new AtomicLong();
    AtomicLong reserved = new AtomicLong();
    AtomicLong replaced = new AtomicLong();
    AtomicLong converted = new AtomicLong();
    AtomicLong released = new AtomicLong();
    Set<Long> seen = ConcurrentHashMap.newKeySet();
    AtomicReference<String> failure = new AtomicReference<>();
    AtomicBoolean running = new AtomicBoolean(true);
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> reservers = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        long base = (t + 1L) << 40;
        reservers.add(pool.submit(() -> {
          start.await();
          Random random = new Random(base);
          for (int i = 0; i < 400_000; i++) {
            long amount = base + i;
            long expiry = clock.get() + random.nextInt(2_000) - 100;
            reserved.addAndGet(amount);
            ReservationBook.Entry previous = book.put(key(random.nextInt(keys)), 0, 0, amount, expiry);
            if (previous != null) {
              replaced.addAndGet(previous.amountMicros());
              if (!seen.add(previous.amountMicros())) {
                failure.compareAndSet(null, "replaced twice: " + previous);
              }
            }
          }
          return null;
        }));
      }
      Future<?> converter = pool.submit(() -> {
        start.await();
        Random random = new Random(3);
        while (running.get()) {
          ReservationBook.Entry e = book.remove(key(random.nextInt(keys)));
          if (e != null) {
            converted.addAndGet(e.amountMicros());
            if (!seen.add(e.amountMicros())) {
              failure.compareAndSet(null, "converted twice: " + e);
            }
          }
        }
        return null;
      });
      Future<?> expirer = pool.submit(() -> {
        start.await();
        while (running.get()) {
          long now = clock.addAndGet(10);
          book.expire(now, (c, d, amount) -> {
            released.addAndGet(amount);
            if (!seen.add(amount)) {
              failure.compareAndSet(null, "released twice: " + amount);
            }
          });
          Thread.yield();
        }
        return null;
      });

      // when
      start.countDown();
      for (Future<?> f : reservers) {
        f.get(60, TimeUnit.SECONDS);
      }
      running.set(false);
      converter.get(10, TimeUnit.SECONDS);
      expirer.get(10, TimeUnit.SECONDS);
      int left = book.size();
      int last = book.expire(Long.MAX_VALUE, (c, d, amount) -> {
        released.addAndGet(amount);
        if (!seen.add(amount)) {
          failure.compareAndSet(null, "released twice: " + amount);
        }
      });

      // then
      assertNull(failure.get());
      assertEquals(left, last);
      assertEquals(0, book.size());
      assertEquals(800_000, seen.size(), "every reservation ended exactly once");
      assertEquals(reserved.get(), replaced.get() + converted.get() + released.get());
      assertTrue(converted.get() > 0 && replaced.get() > 0, "the run must convert and replace, or it proves little");
    } finally {
      running.set(false);
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
    }
  }

  private static List<Long> collect(ReservationBook book, long now) {
    List<Long> amounts = new ArrayList<>();
    book.expire(now, (c, d, amount) -> amounts.add(amount));
    return amounts;
  }

  private static String randomString(Random random, int length) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < length; i++) {
      // any char but a surrogate: the UTF-16LE encoder would replace an unpaired one
      b.append(random.nextInt(4) == 0 ? (char) random.nextInt(0xd800) : (char) ('a' + random.nextInt(26)));
    }
    return b.toString();
  }

  /** MurmurHash3 x64 128, seed 0, over bytes: a straight transcription of the reference C++. */
  private static long[] murmur3Bytes(byte[] data) {
    long c1 = 0x87c37b91114253d5L;
    long c2 = 0x4cf5ad432745937fL;
    long h1 = 0;
    long h2 = 0;
    ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    int blocks = data.length / 16;
    for (int i = 0; i < blocks; i++) {
      long k1 = buf.getLong(i * 16);
      long k2 = buf.getLong(i * 16 + 8);
      k1 *= c1;
      k1 = Long.rotateLeft(k1, 31);
      k1 *= c2;
      h1 ^= k1;
      h1 = Long.rotateLeft(h1, 27);
      h1 += h2;
      h1 = h1 * 5 + 0x52dce729;
      k2 *= c2;
      k2 = Long.rotateLeft(k2, 33);
      k2 *= c1;
      h2 ^= k2;
      h2 = Long.rotateLeft(h2, 31);
      h2 += h1;
      h2 = h2 * 5 + 0x38495ab5;
    }
    int tail = blocks * 16;
    int rest = data.length & 15;
    long k1 = 0;
    long k2 = 0;
    for (int j = rest - 1; j >= 8; j--) {
      k2 ^= (data[tail + j] & 0xffL) << (8 * (j - 8));
    }
    if (rest > 8) {
      k2 *= c2;
      k2 = Long.rotateLeft(k2, 33);
      k2 *= c1;
      h2 ^= k2;
    }
    for (int j = Math.min(rest, 8) - 1; j >= 0; j--) {
      k1 ^= (data[tail + j] & 0xffL) << (8 * j);
    }
    if (rest > 0) {
      k1 *= c1;
      k1 = Long.rotateLeft(k1, 31);
      k1 *= c2;
      h1 ^= k1;
    }
    h1 ^= data.length;
    h2 ^= data.length;
    h1 += h2;
    h2 += h1;
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 += h2;
    h2 += h1;
    return new long[] {h1, h2};
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
