package dev.adengine.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.experiments.ArmParams.AuctionType;
import dev.adengine.experiments.LayerAssignment.Kind;
import dev.adengine.experiments.stats.SignificanceTests;
import dev.adengine.experiments.stats.SignificanceTests.ChiSquare;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Statistical and structural properties of assignment. Every test uses fixed user ids, so it is
 * deterministic: a test at p > 0.01 passes or fails the same way on every run, and fails for a
 * hash or a layout that is biased.
 */
class AssignerTest {

  private static final int MILLION = 1_000_000;

  private static final List<ArmDef> THREE_ARMS = List.of(
      ArmDef.of("a", 2000, true, ArmParams.DEFAULTS.withModelVersion("m1")),
      ArmDef.of("b", 3000, false, ArmParams.DEFAULTS.withModelVersion("m2")),
      ArmDef.of("c", 5000, false, ArmParams.DEFAULTS.withModelVersion("m3")));

  private static List<ArmDef> split(String control, int controlBp, String treatment, ArmParams treatmentParams) {
    return List.of(ArmDef.of(control, controlBp, true, ArmParams.DEFAULTS),
        ArmDef.of(treatment, 10_000 - controlBp, false, treatmentParams));
  }

  @Test
  void shouldMatchTheConfiguredSplitWhenAMillionUsersAreAssigned() {
    // given a 5 % holdout and an experiment on 60 % of its layer, split 20/30/50
    ExperimentConfig config = ExperimentConfig.EMPTY.withHoldout(new Holdout(500, "holdout"))
        .withLayer(Layer.of("ranking"))
        .create("rank", "ranking", 6000, THREE_ARMS).start("rank");
    Assigner assigner = Assigner.of(config);

    // when a million users are assigned
    long[] observed = new long[5]; // holdout, none, a, b, c
    for (int i = 0; i < MILLION; i++) {
      LayerAssignment a = assigner.assign("user-" + i).layer(0);
      observed[switch (a.arm()) {
        case ArmDef.HOLDOUT -> 0;
        case ArmDef.NONE -> 1;
        case "a" -> 2;
        case "b" -> 3;
        default -> 4;
      }]++;
    }

    // then the counts fit the configured shares (chi-square goodness of fit)
    double in = 0.95 * 0.6;
    double[] expected = {0.05, 0.95 * 0.4, in * 0.2, in * 0.3, in * 0.5};
    ChiSquare fit = SignificanceTests.goodnessOfFit(observed, expected);
    assertEquals(4, fit.df());
    assertTrue(fit.pValue() > 0.01, "chi-square " + fit + " counts " + java.util.Arrays.toString(observed));
  }

  @Test
  void shouldDetectABiasedSplitWhenTheSameChiSquareCheckIsApplied() {
    // given counts as a 1 % skew of a 50/50 split on a million users would give
    ChiSquare fit = SignificanceTests.goodnessOfFit(new long[] {505_000, 495_000}, new double[] {1, 1});
    // then the check used above would fail
    assertTrue(fit.pValue() < 0.01, fit.toString());
  }

  @Test
  void shouldGiveEveryUserTheSameArmWhenAssignersAreBuiltOnDifferentNodesOrAfterARestart() {
    // given one config, serialized as it is replicated and stored
    ExperimentConfig config = ExperimentConfig.EMPTY.withHoldout(new Holdout(300, "h"))
        .withLayer(Layer.of("ranking")).withLayer(Layer.of("auction"))
        .create("rank", "ranking", 4000, THREE_ARMS).start("rank")
        .create("auc", "auction", 7000, split("gsp", 5000, "first", ArmParams.DEFAULTS.withAuctionType(
            AuctionType.FIRST_PRICE))).start("auc");
    byte[] stored = ExperimentConfigCodec.encode(config);

    // when three "nodes" each decode their own copy and build an assigner
    Assigner original = Assigner.of(config);
    Assigner node2 = Assigner.of(ExperimentConfigCodec.decode(stored.clone()));
    Assigner node3 = Assigner.of(ExperimentConfigCodec.decode(stored.clone()));

    // then every user gets the same assignment everywhere
    Random random = new Random(7);
    for (int i = 0; i < 200_000; i++) {
      String user = new UUID(random.nextLong(), random.nextLong()).toString();
      Assignment expected = original.assign(user);
      assertEquals(expected, node2.assign(user), user);
      assertEquals(expected, node3.assign(user), user);
      for (int layer = 0; layer < 2; layer++) {
        assertSame(node2.assign(user).layer(layer), node2.assign(user, layer));
      }
    }
  }

  @Test
  void shouldGiveTheReferenceBucketsWhenUsersAreBucketedUnderASalt() {
    // bucket = xxh64(user UTF-16LE, seed = xxh64(salt UTF-8, 0)) mod 10000, computed with python-xxhash:
    // a change here would move every user of every running experiment at the next deploy
    assertEquals(354, Assigner.bucket("layer:ranking", "user-42"));
    assertEquals(1302, Assigner.bucket("holdout", "user-42"));
    assertEquals(7696, Assigner.bucket("experiment:rank-v7", "u-1000001"));
    assertEquals(3987, Assigner.bucket("s", "Łódź-ユーザー"));
  }

  @Test
  void shouldAssignIndependentlyWhenExperimentsAreInDifferentLayers() {
    // given a 50 % experiment in one layer and a 70 % one in another
    ExperimentConfig config = ExperimentConfig.EMPTY
        .withLayer(Layer.of("ranking")).withLayer(Layer.of("auction"))
        .create("rank", "ranking", 5000, split("control", 5000, "v8", ArmParams.DEFAULTS.withModelVersion("v8")))
        .start("rank")
        .create("auc", "auction", 7000, split("gsp", 3000, "first", ArmParams.DEFAULTS.withAuctionType(
            AuctionType.FIRST_PRICE)))
        .start("auc");
    Assigner assigner = Assigner.of(config);

    // when a million users are assigned, counted by (ranking arm, auction arm)
    long[][] table = new long[3][3];
    for (int i = 0; i < MILLION; i++) {
      Assignment a = assigner.assign("user-" + i);
      table[index(a.layer(0).arm(), "control", "v8")][index(a.layer(1).arm(), "gsp", "first")]++;
    }

    // then the contingency table shows no dependence
    ChiSquare independence = SignificanceTests.independence(table);
    assertEquals(4, independence.df());
    assertTrue(independence.pValue() > 0.01, independence + " " + java.util.Arrays.deepToString(table));
  }

  @Test
  void shouldFindDependenceWhenTwoLayersShareASalt() {
    // given what a config with one salt for two layers would do (the config refuses it): the same bucket twice
    long[][] table = new long[2][2];
    for (int i = 0; i < 100_000; i++) {
      String user = "user-" + i;
      table[Assigner.bucket("same", user) < 5000 ? 0 : 1][Assigner.bucket("same", user) < 3000 ? 0 : 1]++;
    }
    // then the independence check used above catches it
    assertTrue(SignificanceTests.independence(table).pValue() < 1e-6);
  }

  @Test
  void shouldPutAUserInOneExperimentOnlyWhenExperimentsShareALayer() {
    // given two running experiments in one layer, 30 % and 20 %
    ExperimentConfig config = ExperimentConfig.EMPTY.withLayer(new Layer("ranking", "layer-salt"))
        .create("x", "ranking", 3000, split("c", 5000, "t", ArmParams.DEFAULTS)).start("x")
        .create("y", "ranking", 2000, split("c", 5000, "t", ArmParams.DEFAULTS)).start("y");
    Assigner assigner = Assigner.of(config);
    ExperimentDef x = config.experiment("x").orElseThrow();
    ExperimentDef y = config.experiment("y").orElseThrow();
    assertFalse(x.layerBuckets().intersects(y.layerBuckets()));

    // when
    long[] counts = new long[3]; // x, y, none
    for (int i = 0; i < 300_000; i++) {
      String user = "user-" + i;
      LayerAssignment a = assigner.assign(user).layer(0);
      int bucket = Assigner.bucket("layer-salt", user);
      // then the experiment is exactly the one owning the user's layer bucket
      if (x.layerBuckets().contains(bucket)) {
        assertEquals("x", a.experimentId());
        counts[0]++;
      } else if (y.layerBuckets().contains(bucket)) {
        assertEquals("y", a.experimentId());
        counts[1]++;
      } else {
        assertEquals(Kind.NONE, a.kind());
        counts[2]++;
      }
    }
    ChiSquare fit = SignificanceTests.goodnessOfFit(counts, new double[] {3000, 2000, 5000});
    assertTrue(fit.pValue() > 0.01, fit + " " + java.util.Arrays.toString(counts));
  }

  @Test
  void shouldKeepEveryUserInTheirArmWhenTheExperimentRampsUpAndDown() {
    // given an experiment at 10 % next to another one
    ExperimentConfig v1 = ExperimentConfig.EMPTY.withLayer(Layer.of("ranking"))
        .create("x", "ranking", 1000, THREE_ARMS).start("x")
        .create("y", "ranking", 2000, split("c", 5000, "t", ArmParams.DEFAULTS)).start("y");

    // when it ramps to 50 %, then back to 20 %
    ExperimentConfig up = v1.ramp("x", 5000);
    ExperimentConfig down = up.ramp("x", 2000);
    Assigner before = Assigner.of(v1);
    Assigner afterUp = Assigner.of(up);
    Assigner afterDown = Assigner.of(down);

    // then
    int inBefore = 0;
    int inUp = 0;
    int n = 200_000;
    for (int i = 0; i < n; i++) {
      String user = "user-" + i;
      LayerAssignment b = before.assign(user).layer(0);
      LayerAssignment u = afterUp.assign(user).layer(0);
      LayerAssignment d = afterDown.assign(user).layer(0);
      if ("x".equals(b.experimentId())) {
        inBefore++;
        assertEquals(b, u, "ramp-up moved " + user); // same experiment, same arm
      }
      if ("y".equals(b.experimentId())) {
        assertEquals(b, u, "ramp-up of x took " + user + " from y");
      }
      if ("x".equals(u.experimentId())) {
        inUp++;
      }
      if ("x".equals(d.experimentId())) {
        assertEquals(u, d, "ramp-down moved " + user);
      }
    }
    assertEquals(0.10, inBefore / (double) n, 0.005);
    assertEquals(0.50, inUp / (double) n, 0.005);
  }

  @Test
  void shouldKeepTreatmentUsersWhenTheTreatmentArmGrows() {
    // given control 90 %, treatment 10 %
    ExperimentConfig v1 = ExperimentConfig.EMPTY.withLayer(Layer.of("ranking"))
        .create("x", "ranking", 10_000, split("control", 9000, "treatment", ArmParams.DEFAULTS.withTopK(40)))
        .start("x");

    // when the treatment grows to half
    ExperimentConfig v2 = v1.resplit("x", Map.of("control", 5000, "treatment", 5000));
    Assigner before = Assigner.of(v1);
    Assigner after = Assigner.of(v2);

    // then every treatment user stays, and every control user was control before
    int treatmentAfter = 0;
    int n = 200_000;
    for (int i = 0; i < n; i++) {
      String user = "user-" + i;
      String b = before.assign(user).layer(0).arm();
      String a = after.assign(user).layer(0).arm();
      if (b.equals("treatment")) {
        assertEquals("treatment", a, user);
      }
      if (a.equals("control")) {
        assertEquals("control", b, user);
      } else {
        treatmentAfter++;
      }
    }
    assertEquals(0.5, treatmentAfter / (double) n, 0.005);
  }

  @Test
  void shouldHoldOutTheConfiguredShareFromEveryLayerWhenAHoldoutIsSet() {
    // given a 10 % holdout and experiments on all traffic of two layers
    ExperimentConfig config = ExperimentConfig.EMPTY.withHoldout(new Holdout(1000, "holdout-2026"))
        .withLayer(Layer.of("ranking")).withLayer(Layer.of("auction"))
        .create("rank", "ranking", 10_000, split("c", 5000, "t", ArmParams.DEFAULTS.withModelVersion("m")))
        .start("rank")
        .create("auc", "auction", 10_000, split("c", 5000, "t", ArmParams.DEFAULTS.withReserveMicros(10L)))
        .start("auc");
    Assigner assigner = Assigner.of(config);
    Assigner grown = Assigner.of(config.withHoldout(new Holdout(2000, "holdout-2026")));
    ArmParams defaults = ArmParams.of("prod", AuctionType.GSP, 0, 1.0, 100);

    // when
    int held = 0;
    int n = 200_000;
    for (int i = 0; i < n; i++) {
      String user = "user-" + i;
      Assignment a = assigner.assign(user);
      if (a.holdout()) {
        held++;
        // then a held-out user is in no experiment, is served the defaults, and stays held out when the holdout grows
        assertEquals(Kind.HOLDOUT, a.layer(0).kind());
        assertEquals(Kind.HOLDOUT, a.layer(1).kind());
        assertTrue(a.experiments().isEmpty());
        assertEquals(defaults, a.params(defaults));
        assertTrue(grown.assign(user).holdout(), user);
      } else {
        assertEquals(2, a.experiments().size());
      }
    }
    assertEquals(0.10, held / (double) n, 0.003);
  }

  @Test
  void shouldServeNoExperimentWhenTheUserIsUnknownOrTheExperimentIsNotRunning() {
    ExperimentConfig draft = ExperimentConfig.EMPTY.withLayer(Layer.of("ranking"))
        .create("x", "ranking", 10_000, split("c", 5000, "t", ArmParams.DEFAULTS));
    assertEquals(Kind.NONE, Assigner.of(draft).assign("user-1").layer(0).kind());
    assertEquals(Kind.NONE, Assigner.of(draft.start("x").stop("x")).assign("user-1").layer(0).kind());
    Assigner running = Assigner.of(draft.start("x"));
    assertEquals(Kind.EXPERIMENT, running.assign("user-1").layer(0).kind());
    assertEquals(Kind.NONE, running.assign(null).layer(0).kind());
    assertEquals(Kind.NONE, running.assign("").layer(0).kind());
    assertNull(running.assign("").layer(0).experimentId());
  }

  @Test
  void shouldLayEachLayersParamsOverTheDefaultsWhenAUserIsInTwoExperiments() {
    // given full-traffic experiments in two layers; each sets different fields
    ExperimentConfig config = ExperimentConfig.EMPTY
        .withLayer(Layer.of("ranking")).withLayer(Layer.of("auction"))
        .create("rank", "ranking", 10_000, List.of(
            ArmDef.of("c", 5000, true, ArmParams.DEFAULTS.withModelVersion("v7")),
            ArmDef.of("t", 5000, false, ArmParams.DEFAULTS.withModelVersion("v8").withShadowModelVersion("v9"))))
        .start("rank")
        .create("auc", "auction", 10_000, List.of(
            ArmDef.of("c", 5000, true, ArmParams.DEFAULTS),
            ArmDef.of("t", 5000, false, ArmParams.DEFAULTS.withReserveMicros(70_000L).withAuctionType(
                AuctionType.FIRST_PRICE))))
        .start("auc");
    Assigner assigner = Assigner.of(config);
    ArmParams defaults = ArmParams.of("prod", AuctionType.GSP, 10_000, 1.0, 100);

    // when / then: find a user in both treatments and check the merge
    for (int i = 0; ; i++) {
      Assignment a = assigner.assign("user-" + i);
      if (a.layer(0).arm().equals("t") && a.layer(1).arm().equals("t")) {
        assertEquals(new ArmParams("v8", AuctionType.FIRST_PRICE, 70_000L, 1.0, 100, "v9"), a.params(defaults));
        assertEquals(config.version(), a.configVersion());
        break;
      }
    }
  }

  private static int index(String arm, String control, String treatment) {
    if (arm.equals(control)) {
      return 0;
    }
    return arm.equals(treatment) ? 1 : 2;
  }
}
