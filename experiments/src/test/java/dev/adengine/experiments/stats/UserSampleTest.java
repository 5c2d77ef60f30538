package dev.adengine.experiments.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class UserSampleTest {

  private static UserSample of(int capacity, int from, int to) {
    UserSample s = UserSample.withCapacity(capacity);
    for (int i = from; i < to; i++) {
      s = s.plus(UserSample.hashOf("user-" + i));
    }
    return s;
  }

  @Test
  void shouldCountEachUserOnceWhenUnderCapacity() {
    UserSample s = of(2048, 0, 1000).merge(of(2048, 500, 1500));
    assertEquals(0, s.level());
    assertEquals(1500, s.size());
    assertEquals(1500, s.estimatedUsers(), 0);
  }

  @Test
  void shouldKeepAUniformShareWhenOverCapacity() {
    // given 200,000 users in a sample of at most 4,096
    UserSample s = of(4096, 0, 200_000);

    // then it sampled 2^-level of them and estimates the total within a few standard errors
    assertTrue(s.size() <= 4096 && s.size() > 1024, s.toString());
    double expected = 200_000 / Math.pow(2, s.level());
    assertEquals(expected, s.size(), 4 * Math.sqrt(expected), s.toString());
  }

  @Test
  void shouldGiveTheSameSampleWhenNodesMergeInAnyOrderOrTwice() {
    // given three nodes that saw overlapping users
    UserSample a = of(1024, 0, 30_000);
    UserSample b = of(1024, 20_000, 50_000);
    UserSample c = of(1024, 45_000, 60_000);

    // when merged in different orders, and again
    UserSample abc = a.merge(b).merge(c);
    UserSample cba = c.merge(b.merge(a));

    // then the union is the sample of all users seen (a G-Set: commutative, associative, idempotent)
    assertEquals(abc, cba);
    assertEquals(abc, abc.merge(a).merge(abc));
    assertEquals(of(1024, 0, 60_000), abc);
  }

  @Test
  void shouldMatchTheImmutableSampleWhenARecorderSeesTheSameUsers() {
    ArmStats.Recorder r = ArmStats.recorder(1024);
    for (int i = 0; i < 100_000; i++) {
      r.recordRequest("user-" + (i % 40_000), true, 100);
    }
    assertEquals(of(1024, 0, 40_000), r.snapshot().users());
  }
}
