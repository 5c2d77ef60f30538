package dev.adengine.engine.ranking;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.models.scoring.CtrModel;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ModelHolderTest {

  static CtrModel withSchema(CtrModel m, String version, String schemaHash) {
    return new CtrModel(version, schemaHash, m.featureNames(), Map.of(), m.logistic(), m.stage1Calibration(),
        m.forest(), m.stage2Blend());
  }

  @Test
  void shouldSwapInAModelOfTheSameSchemaAndRefuseAnotherWhenDeployed() throws Exception {
    // given
    CtrModel bundled = ModelHolder.load("");
    ModelHolder holder = new ModelHolder(bundled);
    CtrModel next = withSchema(bundled, "next", bundled.schemaHash());

    // when / then: a model of the extractor's schema replaces the active one
    assertSame(bundled, holder.swap(next));
    assertEquals("next", holder.current().version());
    // and one trained on another feature layout is refused, leaving the active model in place
    assertThrows(IllegalStateException.class, () -> holder.swap(withSchema(bundled, "other", "0000000000000000")));
    assertThrows(IllegalStateException.class, () -> new ModelHolder(withSchema(bundled, "other", "0")));
    assertSame(next, holder.current());
  }

  @Test
  void shouldCompileAVectorizedBatchStage2InTheBackgroundThatScoresLikeTheSingleRowPath() throws Exception {
    // given the bundled model as the node loads it: scalar first, then compiled in the background
    // (the test JVM has jdk.incubator.vector)
    CtrModel plain = ModelHolder.load("");
    ModelHolder holder = new ModelHolder(plain);
    assertSame(plain, holder.current());
    assertFalse(plain.stage2Vectorized(), plain.stage2Path());
    CtrModel model = holder.compileInBackground().get(120, java.util.concurrent.TimeUnit.SECONDS);
    assertSame(model, holder.current(), "swapped in once compiled");
    assertEquals(plain.version(), model.version());
    assertTrue(model.stage2Vectorized(), model.stage2Path());
    // when 53 rows (not a multiple of 8, nor of the 64 byte lanes) are scored as one batch
    SplittableRandom random = new SplittableRandom(5);
    int n = 53;
    double[][] rows = new double[n][model.featureNames().size()];
    double[] logOdds = new double[n];
    for (int i = 0; i < n; i++) {
      for (int f = 0; f < rows[i].length; f++) {
        rows[i][f] = random.nextInt(4) == 0 ? random.nextInt(3) : random.nextGaussian() * 3;
      }
      logOdds[i] = model.stage1LogOdds(rows[i]);
    }
    double[] out = new double[n];
    double[] scratch = new double[model.scratchSize()];
    model.stage2(rows, n, logOdds, out, scratch);
    // then every row gets the single-row probability (within rounding: RankForest adds leaf pairs)
    for (int i = 0; i < n; i++) {
      assertEquals(model.stage2(rows[i], scratch, logOdds[i]), out[i], 1e-12, "row " + i);
    }
  }

  @Test
  void shouldCompileEachModelSwappedInOnceCompilingEveryActiveModelIsOn() throws Exception {
    // given a node's holder compiling every active model, its first model compiled
    CtrModel plain = ModelHolder.load("");
    ModelHolder holder = new ModelHolder(plain);
    assertTrue(holder.compileEveryActiveModel().get(120, java.util.concurrent.TimeUnit.SECONDS).stage2Vectorized(),
        holder.current().stage2Path());
    // when a deploy swaps in another version (scalar, as the registry loads it)
    CtrModel next = withSchema(plain, "next", plain.schemaHash());
    holder.swap(next);
    assertSame(next, holder.current(), "the new version serves at once, on the scalar path");
    // then that version gets its own compiled stage 2 in the background, and serves it
    long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
    while (!holder.current().stage2Vectorized() && System.nanoTime() < until) {
      Thread.sleep(50);
    }
    assertEquals("next", holder.current().version());
    assertTrue(holder.current().stage2Vectorized(), holder.current().stage2Path());
    // and a holder that was not asked to compile leaves a swapped-in model alone
    ModelHolder scalarOnly = new ModelHolder(plain);
    scalarOnly.swap(next);
    Thread.sleep(500);
    assertSame(next, scalarOnly.current());
  }

  @Test
  void shouldSwapTheScalarStage2BackInOnceTheCompiledOneIsSlowerTwoChecksInARow() throws Exception {
    // given a holder serving its compiled stage 2 (guard thread effectively off: checks run here)
    CtrModel plain = ModelHolder.load("");
    ModelHolder holder = new ModelHolder(plain, java.time.Duration.ofHours(1));
    CtrModel compiled = holder.compileInBackground().get(120, java.util.concurrent.TimeUnit.SECONDS);
    assertTrue(compiled.stage2Vectorized(), compiled.stage2Path());
    // and a timing in which the compiled code has become 20x slower than the scalar path (as when
    // HotSpot recompiles it without its vector intrinsics)
    double[] compiledNanos = {100};
    holder.guard(new ModelHolder.Guard(plain, compiled, m -> m == compiled ? compiledNanos[0] : 800));

    // when: fast, then slow once, fast again: nothing changes
    assertFalse(holder.checkStage2());
    compiledNanos[0] = 2_000;
    assertFalse(holder.checkStage2());
    compiledNanos[0] = 100;
    assertFalse(holder.checkStage2());
    assertSame(compiled, holder.current());
    // when slow two checks in a row
    compiledNanos[0] = 2_000;
    assertFalse(holder.checkStage2());
    boolean swapped = holder.checkStage2();

    // then the scalar model of the same version serves again, and the fallback is counted once
    assertTrue(swapped);
    assertSame(plain, holder.current());
    assertEquals(1, holder.stage2Fallbacks());
    assertFalse(holder.checkStage2(), "nothing left to guard");
    holder.close();
  }

  @Test
  void shouldLeaveANewlyDeployedModelAloneWhenTheGuardedCompiledOneIsNoLongerActive() throws Exception {
    // given a compiled stage 2 whose timing says it is slow, then a deploy of another version
    CtrModel plain = ModelHolder.load("");
    ModelHolder holder = new ModelHolder(plain, java.time.Duration.ofHours(1));
    CtrModel compiled = holder.compileInBackground().get(120, java.util.concurrent.TimeUnit.SECONDS);
    holder.guard(new ModelHolder.Guard(plain, compiled, m -> m == compiled ? 2_000 : 800));
    assertFalse(holder.checkStage2());
    CtrModel next = withSchema(plain, "next", plain.schemaHash());
    holder.swap(next);

    // when the guard checks again
    boolean swapped = holder.checkStage2();

    // then the deployed model stays: the old version's scalar model is not brought back
    assertFalse(swapped);
    assertSame(next, holder.current());
    assertEquals(0, holder.stage2Fallbacks());
    holder.close();
  }
}
