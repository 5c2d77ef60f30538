package dev.adengine.experiments;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExperimentTest {

  @Test
  void shouldAssignSameArmWhenSameUserAsksAgain() {
    Experiment a = new Experiment("e1", "salt-1", List.of(new Arm("control", 5000), new Arm("treatment", 5000)));
    Experiment b = new Experiment("e1", "salt-1", List.of(new Arm("control", 5000), new Arm("treatment", 5000)));
    for (int i = 0; i < 1000; i++) {
      assertEquals(a.assign("user-" + i), b.assign("user-" + i));
    }
  }

  @Test
  void shouldMatchConfiguredSplitWhenManyUsersAreAssigned() {
    // given a 20/30/50 split
    Experiment e = new Experiment("e2", "s", List.of(new Arm("a", 2000), new Arm("b", 3000), new Arm("c", 5000)));
    int n = 200_000;
    Map<String, Integer> counts = new HashMap<>();
    // when
    for (int i = 0; i < n; i++) {
      counts.merge(e.assign("u" + i), 1, Integer::sum);
    }
    // then chi-square with 2 degrees of freedom stays under the 0.001 critical value (13.82)
    double chi = chi(counts.get("a"), n * 0.2) + chi(counts.get("b"), n * 0.3) + chi(counts.get("c"), n * 0.5);
    assertTrue(chi < 13.82, "chi-square " + chi + " counts " + counts);
  }

  @Test
  void shouldLeaveUsersOutWhenArmsCoverLessThanAllTraffic() {
    Experiment e = new Experiment("e3", "s", List.of(new Arm("only", 1000)));
    int in = 0;
    int n = 100_000;
    for (int i = 0; i < n; i++) {
      if (e.assign("u" + i) != null) {
        in++;
      }
    }
    assertEquals(0.10, in / (double) n, 0.01);
  }

  @Test
  void shouldAssignIndependentlyWhenSaltsDiffer() {
    // given two 50/50 experiments with different salts
    Experiment x = new Experiment("x", "salt-x", List.of(new Arm("a", 5000), new Arm("b", 5000)));
    Experiment y = new Experiment("y", "salt-y", List.of(new Arm("a", 5000), new Arm("b", 5000)));
    int n = 100_000;
    int both = 0;
    for (int i = 0; i < n; i++) {
      if ("a".equals(x.assign("u" + i)) && "a".equals(y.assign("u" + i))) {
        both++;
      }
    }
    // then P(a in x and a in y) is about 0.25, not 0.5 (correlated) or 0 (anti-correlated)
    assertEquals(0.25, both / (double) n, 0.01);
  }

  @Test
  void shouldRejectArmsWhenTheyCoverMoreThanAllTraffic() {
    assertThrows(IllegalArgumentException.class,
        () -> new Experiment("bad", "s", List.of(new Arm("a", 6000), new Arm("b", 6000))));
  }

  private static double chi(int observed, double expected) {
    double d = observed - expected;
    return d * d / expected;
  }
}
