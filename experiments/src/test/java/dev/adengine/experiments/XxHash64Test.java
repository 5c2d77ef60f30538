package dev.adengine.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class XxHash64Test {

  @Test
  void shouldMatchTheReferenceImplementationWhenHashingBytes() {
    // expected values: python-xxhash 3.0 (the reference C library) xxh64_intdigest(data, seed)
    assertEquals(0xEF46DB3751D8E999L, XxHash64.hash(new byte[0], 0));
    assertEquals(0xD24EC4F1A98C6E5BL, XxHash64.hash(utf8("a"), 0));
    assertEquals(0x44BC2CF5AD770999L, XxHash64.hash(utf8("abc"), 0));
    assertEquals(0x64F23ECF1609B766L, XxHash64.hash(utf8("abcdefghijklmnopqrstuvwxyz0123456789"), 0));
    assertEquals(0xDADFF1FD84701C05L, XxHash64.hash(utf8("hello world"), 12345));
    byte[] hundred = new byte[100];
    for (int i = 0; i < hundred.length; i++) {
      hundred[i] = (byte) i;
    }
    assertEquals(0x80653E7E9B887CDDL, XxHash64.hash(hundred, 7));
  }

  @Test
  void shouldMatchTheReferenceImplementationWhenHashingUtf16Chars() {
    assertEquals(0xE2D344E30F82CAB3L, XxHash64.hashChars("user-42", 0x9E3779B97F4A7C15L));
    assertEquals(0x96ADC408E49B3B0AL, XxHash64.hashChars("u1éxß😀", 99));
    assertEquals(0x5DAB28403310D49BL, XxHash64.hashChars("a-much-longer-user-id-0123456789", -1L));
  }

  @Test
  void shouldEqualTheByteHashOfUtf16LeWhenHashingCharsOfAnyLength() {
    Random random = new Random(42);
    for (int len = 0; len < 80; len++) {
      for (int trial = 0; trial < 20; trial++) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) {
          sb.append((char) (trial % 2 == 0 ? 32 + random.nextInt(95) : random.nextInt(0x10000)));
        }
        String s = sb.toString();
        long seed = random.nextLong();
        assertEquals(XxHash64.hash(codeUnitsLittleEndian(s), seed), XxHash64.hashChars(s, seed), "length " + len);
      }
    }
  }

  @Test
  void shouldEqualTheJdkUtf16LeEncodingWhenTheStringIsWellFormed() {
    String s = "user-Łódź-😀-ユーザー";
    assertEquals(XxHash64.hash(s.getBytes(StandardCharsets.UTF_16LE), 5), XxHash64.hashChars(s, 5));
  }

  /** Each char as two bytes, low first: UTF-16LE, except that lone surrogates stay as they are. */
  private static byte[] codeUnitsLittleEndian(String s) {
    byte[] b = new byte[2 * s.length()];
    for (int i = 0; i < s.length(); i++) {
      b[2 * i] = (byte) s.charAt(i);
      b[2 * i + 1] = (byte) (s.charAt(i) >>> 8);
    }
    return b;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
