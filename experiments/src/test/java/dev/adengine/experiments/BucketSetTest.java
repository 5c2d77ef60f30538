package dev.adengine.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BucketSetTest {

  @Test
  void shouldJoinAdjacentRangesWhenBuilt() {
    BucketSet s = BucketSet.of(new int[] {0, 10, 10, 20, 30, 40});
    assertEquals(BucketSet.of(new int[] {0, 20, 30, 40}), s);
    assertEquals(30, s.size());
    assertTrue(s.contains(0));
    assertTrue(s.contains(19));
    assertFalse(s.contains(20));
    assertTrue(s.contains(39));
    assertFalse(s.contains(40));
  }

  @Test
  void shouldRejectRangesWhenTheyOverlapOrLeaveTheLayer() {
    assertThrows(IllegalArgumentException.class, () -> BucketSet.of(new int[] {0, 10, 5, 20}));
    assertThrows(IllegalArgumentException.class, () -> BucketSet.of(new int[] {20, 30, 0, 10}));
    assertThrows(IllegalArgumentException.class, () -> BucketSet.range(9_000, 10_001));
    assertThrows(IllegalArgumentException.class, () -> BucketSet.range(5, 5));
  }

  @Test
  void shouldKeepEveryHeldBucketWhenGrowingAndOnlyHeldOnesWhenShrinking() {
    // given a set and a layer where someone else holds [100, 300)
    BucketSet mine = BucketSet.range(0, 100);
    BucketSet free = BucketSet.range(100, 300).complement();

    // when
    BucketSet grown = mine.takeLowest(free.minus(mine), 150);
    BucketSet shrunk = grown.dropHighest(200);

    // then
    assertEquals(250, grown.size());
    assertEquals(mine, grown.intersection(mine));
    assertFalse(grown.intersects(BucketSet.range(100, 300)));
    assertEquals(BucketSet.of(new int[] {0, 100, 300, 450}), grown);
    assertEquals(50, shrunk.size());
    assertEquals(shrunk, shrunk.intersection(grown));
  }

  @Test
  void shouldFailWhenTooFewBucketsAreFree() {
    assertThrows(IllegalArgumentException.class, () -> BucketSet.EMPTY.takeLowest(BucketSet.range(0, 10), 11));
  }
}
