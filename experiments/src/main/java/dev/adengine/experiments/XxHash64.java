package dev.adengine.experiments;

import java.nio.charset.StandardCharsets;

/**
 * XXH64, the 64-bit xxHash of Yann Collet (https://github.com/Cyan4973/xxHash, spec in its
 * {@code doc/xxhash_spec.md}), written out here so the module needs no dependency. It is fast
 * (a few ns for a short id), passes SMHasher, and its output is fixed by the spec: assignments
 * computed with it stay the same across JVMs, nodes and releases. {@code XxHash64Test} checks it
 * against values from the reference implementation.
 *
 * <p>{@link #hashChars} hashes a string's UTF-16 code units as little-endian bytes without
 * allocating: for a well-formed string it equals {@code hash(s.getBytes(UTF_16LE), seed)} (the JDK
 * encoder would replace a lone surrogate by U+FFFD; this hashes the code unit as it is). That is
 * the form the bid path uses for user ids.
 */
public final class XxHash64 {

  private static final long P1 = 0x9E3779B185EBCA87L;
  private static final long P2 = 0xC2B2AE3D27D4EB4FL;
  private static final long P3 = 0x165667B19E3779F9L;
  private static final long P4 = 0x85EBCA77C2B2AE63L;
  private static final long P5 = 0x27D4EB2F165667C5L;

  private XxHash64() {}

  /** The seed a salt stands for: XXH64 of the salt's UTF-8 bytes with seed 0. */
  public static long seedOf(String salt) {
    return hash(salt.getBytes(StandardCharsets.UTF_8), 0L);
  }

  /** XXH64 of {@code data} with {@code seed}. */
  public static long hash(byte[] data, long seed) {
    int len = data.length;
    int i = 0;
    long h;
    if (len >= 32) {
      long v1 = seed + P1 + P2;
      long v2 = seed + P2;
      long v3 = seed;
      long v4 = seed - P1;
      int limit = len - 32;
      do {
        v1 = round(v1, long64(data, i));
        v2 = round(v2, long64(data, i + 8));
        v3 = round(v3, long64(data, i + 16));
        v4 = round(v4, long64(data, i + 24));
        i += 32;
      } while (i <= limit);
      h = converge(v1, v2, v3, v4);
    } else {
      h = seed + P5;
    }
    h += len;
    while (i + 8 <= len) {
      h = mix8(h, long64(data, i));
      i += 8;
    }
    if (i + 4 <= len) {
      h = mix4(h, int32(data, i));
      i += 4;
    }
    while (i < len) {
      h = mix1(h, data[i] & 0xFF);
      i++;
    }
    return avalanche(h);
  }

  /** XXH64 of the chars of {@code s} as little-endian 16-bit units, computed without allocating. */
  public static long hashChars(CharSequence s, long seed) {
    int chars = s.length();
    long len = 2L * chars;
    int i = 0;
    long h;
    if (chars >= 16) {
      long v1 = seed + P1 + P2;
      long v2 = seed + P2;
      long v3 = seed;
      long v4 = seed - P1;
      int limit = chars - 16;
      do {
        v1 = round(v1, lane(s, i));
        v2 = round(v2, lane(s, i + 4));
        v3 = round(v3, lane(s, i + 8));
        v4 = round(v4, lane(s, i + 12));
        i += 16;
      } while (i <= limit);
      h = converge(v1, v2, v3, v4);
    } else {
      h = seed + P5;
    }
    h += len;
    while (i + 4 <= chars) {
      h = mix8(h, lane(s, i));
      i += 4;
    }
    if (i + 2 <= chars) {
      h = mix4(h, (s.charAt(i) & 0xFFFFL) | ((s.charAt(i + 1) & 0xFFFFL) << 16));
      i += 2;
    }
    if (i < chars) {
      char c = s.charAt(i);
      h = mix1(h, c & 0xFF);
      h = mix1(h, c >>> 8);
    }
    return avalanche(h);
  }

  private static long round(long acc, long input) {
    acc += input * P2;
    acc = Long.rotateLeft(acc, 31);
    return acc * P1;
  }

  private static long converge(long v1, long v2, long v3, long v4) {
    long h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    return mergeRound(h, v4);
  }

  private static long mergeRound(long acc, long v) {
    acc ^= round(0, v);
    return acc * P1 + P4;
  }

  private static long mix8(long h, long lane) {
    h ^= round(0, lane);
    return Long.rotateLeft(h, 27) * P1 + P4;
  }

  private static long mix4(long h, long word) {
    h ^= word * P1;
    return Long.rotateLeft(h, 23) * P2 + P3;
  }

  private static long mix1(long h, int b) {
    h ^= b * P5;
    return Long.rotateLeft(h, 11) * P1;
  }

  private static long avalanche(long h) {
    h ^= h >>> 33;
    h *= P2;
    h ^= h >>> 29;
    h *= P3;
    return h ^ (h >>> 32);
  }

  private static long lane(CharSequence s, int i) {
    return (s.charAt(i) & 0xFFFFL)
        | ((s.charAt(i + 1) & 0xFFFFL) << 16)
        | ((s.charAt(i + 2) & 0xFFFFL) << 32)
        | ((s.charAt(i + 3) & 0xFFFFL) << 48);
  }

  private static long long64(byte[] b, int i) {
    return (b[i] & 0xFFL)
        | ((b[i + 1] & 0xFFL) << 8)
        | ((b[i + 2] & 0xFFL) << 16)
        | ((b[i + 3] & 0xFFL) << 24)
        | ((b[i + 4] & 0xFFL) << 32)
        | ((b[i + 5] & 0xFFL) << 40)
        | ((b[i + 6] & 0xFFL) << 48)
        | ((b[i + 7] & 0xFFL) << 56);
  }

  private static long int32(byte[] b, int i) {
    return (b[i] & 0xFFL) | ((b[i + 1] & 0xFFL) << 8) | ((b[i + 2] & 0xFFL) << 16) | ((b[i + 3] & 0xFFL) << 24);
  }
}
