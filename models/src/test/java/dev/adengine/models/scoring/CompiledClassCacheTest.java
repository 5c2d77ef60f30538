package dev.adengine.models.scoring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compiled stage 2's class cache: a second compilation of the same source (under another class
 * name, as a restarted JVM's counter may give it) defines the first one's classes without javac; an
 * entry that was damaged is compiled again and replaced; and a forest whose class came from the
 * cache scores exactly as the one javac compiled.
 */
class CompiledClassCacheTest {
  private static final JavaCompiler JAVAC = ToolProvider.getSystemJavaCompiler();

  private static String source(String className, String answer) {
    int dot = className.lastIndexOf('.');
    return "package " + className.substring(0, dot) + ";\n"
        + "public final class " + className.substring(dot + 1) + " implements java.util.function.Supplier<String> {\n"
        + "  public String get() { return \"" + answer + "\"; }\n"
        + "  static final class Inner { }\n"
        + "}\n";
  }

  @SuppressWarnings("unchecked")
  private static String call(Class<?> type) throws Exception {
    return ((Supplier<String>) type.getConstructor().newInstance()).get();
  }

  @Test
  void shouldDefineTheCachedClassesWithoutJavacWhenTheSameSourceIsCompiledAgainUnderAnotherName(@TempDir Path dir)
      throws Exception {
    // given one compilation through the cache
    CompiledClassCache cache = new CompiledClassCache(dir);
    String first = "dev.adengine.models.scoring.generated.CacheProbe1";
    int runs = VectorForest.JAVAC_RUNS.get();
    Class<?> compiled = VectorForest.compile(JAVAC, first, source(first, "forty-two"), cache).type();
    assertEquals(runs + 1, VectorForest.JAVAC_RUNS.get());
    assertEquals("forty-two", call(compiled));
    assertEquals(1, Files.list(dir).count(), "one entry, no temporary file left");

    // when the same source is compiled again under the name a restarted JVM's counter gives it
    String second = "dev.adengine.models.scoring.generated.CacheProbe7";
    VectorForest.Compiled again = VectorForest.compile(JAVAC, second, source(second, "forty-two"),
        new CompiledClassCache(dir));
    Class<?> cached = again.type();
    assertTrue(again.fromCache());

    // then javac did not run, and the class is the first compilation's, under its name
    assertEquals(runs + 1, VectorForest.JAVAC_RUNS.get());
    assertEquals(first, cached.getName());
    assertEquals("forty-two", call(cached));

    // and other source is another entry, compiled by javac
    Class<?> other = VectorForest.compile(JAVAC, second, source(second, "seven"), cache).type();
    assertEquals(runs + 2, VectorForest.JAVAC_RUNS.get());
    assertEquals("seven", call(other));
    assertNotEquals(CompiledClassCache.key(first, source(first, "forty-two")),
        CompiledClassCache.key(second, source(second, "seven")));
  }

  @Test
  void shouldCompileAgainAndReplaceAnEntryThatWasTruncatedOrAltered(@TempDir Path dir) throws Exception {
    CompiledClassCache cache = new CompiledClassCache(dir);
    String name = "dev.adengine.models.scoring.generated.CacheProbe2";
    String source = source(name, "intact");
    VectorForest.compile(JAVAC, name, source, cache);
    Path entry = cache.file(CompiledClassCache.key(name, source));
    byte[] good = Files.readAllBytes(entry);
    assertTrue(cache.get(CompiledClassCache.key(name, source)).isPresent());

    SplittableRandom random = new SplittableRandom(5);
    for (int i = 0; i < 40; i++) {
      // given an entry cut short, or with one byte changed
      byte[] bad;
      if (i % 2 == 0) {
        bad = java.util.Arrays.copyOf(good, random.nextInt(good.length));
      } else {
        bad = good.clone();
        bad[random.nextInt(bad.length)] ^= (byte) (1 + random.nextInt(255));
      }
      Files.write(entry, bad);
      // a damaged entry is never handed out
      assertFalse(cache.get(CompiledClassCache.key(name, source)).isPresent(), "damaged entry " + i + " was read");

      // when the source is compiled again, javac runs and the class works
      int runs = VectorForest.JAVAC_RUNS.get();
      Class<?> again = VectorForest.compile(JAVAC, name, source, cache).type();
      assertEquals(runs + 1, VectorForest.JAVAC_RUNS.get());
      assertEquals("intact", call(again));
      // and the entry is whole again
      assertTrue(cache.get(CompiledClassCache.key(name, source)).isPresent());
    }
  }

  @Test
  void shouldScoreAForestWhoseClassCameFromTheCacheExactlyAsTheCompiledOne(@TempDir Path dir) {
    FlatForest flat = FlatForest.compile(TestForests.small(), FlatForestTest.NAMES);
    RankForest.forgetSharedKernels();
    int runs = VectorForest.JAVAC_RUNS.get();
    RankForest compiled = RankForest.of(flat, dir);
    assertTrue(compiled.vectorized(), compiled.path());
    assertEquals(runs + 1, VectorForest.JAVAC_RUNS.get());
    assertFalse(compiled.path().contains("class cache"), compiled.path());

    // as in a new JVM: no kernel shared in memory, only the directory
    RankForest.forgetSharedKernels();
    RankForest cached = RankForest.of(flat, dir);
    assertEquals(runs + 1, VectorForest.JAVAC_RUNS.get(), "javac ran again");
    assertTrue(cached.vectorized(), cached.path());
    assertTrue(cached.path().contains("javac skipped: from the class cache"), cached.path());

    double[][] rows = FlatForestTest.rows(5_000, new SplittableRandom(31));
    double[] a = new double[rows.length];
    double[] b = new double[rows.length];
    double[] out = new double[64];
    RankForest.Scratch sa = compiled.newScratch();
    RankForest.Scratch sb = cached.newScratch();
    for (int i = 0; i < rows.length; i += 50) {
      int n = Math.min(50, rows.length - i);
      compiled.margins(rows, i, n, out, sa);
      System.arraycopy(out, 0, a, i, n);
      cached.margins(rows, i, n, out, sb);
      System.arraycopy(out, 0, b, i, n);
    }
    assertArrayEquals(a, b, 0.0);
    RankForest.forgetSharedKernels();
  }
}
