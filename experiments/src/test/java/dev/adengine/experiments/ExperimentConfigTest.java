package dev.adengine.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adengine.experiments.ArmParams.AuctionType;
import dev.adengine.experiments.ExperimentDef.State;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class ExperimentConfigTest {

  static final ArmParams MODEL_V7 = ArmParams.DEFAULTS.withModelVersion("gbt-7");
  static final ArmParams MODEL_V8 = ArmParams.DEFAULTS.withModelVersion("gbt-8").withTopK(50);

  static List<ArmDef> abArms() {
    return List.of(ArmDef.of("control", 5000, true, MODEL_V7), ArmDef.of("treatment", 5000, false, MODEL_V8));
  }

  static ExperimentConfig twoLayers() {
    return ExperimentConfig.EMPTY
        .withHoldout(new Holdout(500, "global-holdout"))
        .withLayer(Layer.of("ranking"))
        .withLayer(Layer.of("auction"));
  }

  @Test
  void shouldCountVersionsAndMoveThroughStatesWhenAnExperimentRuns() {
    // given
    ExperimentConfig c = twoLayers();
    assertEquals(3, c.version());

    // when
    ExperimentConfig created = c.create("rank-v8", "ranking", 1000, abArms());
    ExperimentConfig started = created.start("rank-v8");
    ExperimentConfig ramped = started.ramp("rank-v8", 4000);
    ExperimentConfig stopped = ramped.stop("rank-v8");

    // then
    assertEquals(State.DRAFT, created.experiment("rank-v8").orElseThrow().state());
    assertEquals(BucketSet.range(0, 1000), created.experiment("rank-v8").orElseThrow().layerBuckets());
    assertEquals(State.RUNNING, started.experiment("rank-v8").orElseThrow().state());
    assertEquals(BucketSet.range(0, 4000), ramped.experiment("rank-v8").orElseThrow().layerBuckets());
    ExperimentDef done = stopped.experiment("rank-v8").orElseThrow();
    assertEquals(State.STOPPED, done.state());
    assertTrue(done.layerBuckets().isEmpty());
    assertEquals(4000, done.allocationBasisPoints());
    assertEquals(BucketSet.ALL, stopped.freeBuckets("ranking"));
    assertEquals(List.of(4L, 5L, 6L, 7L), List.of(created.version(), started.version(), ramped.version(),
        stopped.version()));
    assertEquals(BucketSet.range(0, 5000), done.control().buckets());
  }

  @Test
  void shouldNameTheFieldWhenArmsDoNotSumToAllTraffic() {
    assertField("experiments[x].arms", "sum to 9000",
        () -> twoLayers().create("x", "ranking", 100, List.of(ArmDef.of("c", 5000, true, ArmParams.DEFAULTS),
            ArmDef.of("t", 4000, false, ArmParams.DEFAULTS))));
  }

  @Test
  void shouldNameTheFieldWhenControlIsMissingOrDoubled() {
    assertField("experiments[x].arms", "exactly one arm must be the control, found 0",
        () -> twoLayers().create("x", "ranking", 100, List.of(ArmDef.of("a", 5000, false, ArmParams.DEFAULTS),
            ArmDef.of("b", 5000, false, ArmParams.DEFAULTS))));
    assertField("experiments[x].arms", "found 2",
        () -> twoLayers().create("x", "ranking", 100, List.of(ArmDef.of("a", 5000, true, ArmParams.DEFAULTS),
            ArmDef.of("b", 5000, true, ArmParams.DEFAULTS))));
    assertField("experiments[x].arms[a].basisPoints", "the control arm needs traffic",
        () -> twoLayers().create("x", "ranking", 100, List.of(ArmDef.of("a", 0, true, ArmParams.DEFAULTS),
            ArmDef.of("b", 10000, false, ArmParams.DEFAULTS))));
  }

  @Test
  void shouldNameTheFieldWhenExperimentsDoNotFitTheirLayer() {
    ExperimentConfig c = twoLayers().create("a", "ranking", 7000, abArms());
    assertField("experiments[b].allocationBasisPoints", "has 3000 free",
        () -> c.create("b", "ranking", 3001, abArms()));
    ExperimentConfig withB = c.create("b", "ranking", 3000, abArms());
    assertField("experiments[a].allocationBasisPoints", "has 0 free", () -> withB.ramp("a", 7001));
    assertField("experiments[c].layerId", "unknown layer 'search'", () -> c.create("c", "search", 10, abArms()));
    assertField("experiments[a].id", "already exists", () -> c.create("a", "auction", 10, List.of(
        ArmDef.of("c", 5000, true, ArmParams.DEFAULTS), ArmDef.of("t", 5000, false, ArmParams.DEFAULTS))));
  }

  @Test
  void shouldRejectOverlappingBucketsWhenAConfigIsBuiltByHand() {
    ExperimentDef a = twoLayers().create("a", "ranking", 2000, abArms()).experiment("a").orElseThrow();
    ExperimentDef b = new ExperimentDef("b", "ranking", "salt-b", State.RUNNING, 2000, BucketSet.range(1000, 3000),
        a.arms());
    assertField("experiments[b].layerBuckets", "overlap buckets {[1000, 2000)}",
        () -> new ExperimentConfig(9, Holdout.NONE, List.of(Layer.of("ranking")), List.of(a, b)));
  }

  @Test
  void shouldNameTheFieldWhenTwoLayersVaryTheSameParameter() {
    ExperimentConfig c = twoLayers().create("rank", "ranking", 1000, abArms());
    List<ArmDef> auctionArms = List.of(ArmDef.of("gsp", 5000, true, ArmParams.DEFAULTS.withAuctionType(AuctionType.GSP)),
        ArmDef.of("k100", 5000, false, ArmParams.DEFAULTS.withTopK(100)));
    assertField("experiments[auc].arms[k100].params.topK", "already varied in layer 'ranking'",
        () -> c.create("auc", "auction", 1000, auctionArms));
    // once the ranking experiment stops, the auction layer may vary K
    ExperimentConfig after = c.stop("rank").create("auc", "auction", 1000, auctionArms);
    assertEquals(State.DRAFT, after.experiment("auc").orElseThrow().state());
  }

  @Test
  void shouldNameTheFieldWhenSaltsRepeat() {
    assertField("layers[b].salt", "equals layers[a].salt",
        () -> ExperimentConfig.EMPTY.withLayer(new Layer("a", "s")).withLayer(new Layer("b", "s")));
    assertField("experiments[x].salt", "equals holdout.salt",
        () -> twoLayers().create("x", "ranking", "global-holdout", 10, abArms()));
  }

  @Test
  void shouldNameTheFieldWhenValuesAreOutOfRange() {
    assertField("holdout.basisPoints", "got 10001", () -> new Holdout(10_001, "h"));
    assertField("arms[t].basisPoints", "got -1", () -> ArmDef.of("t", -1, false, ArmParams.DEFAULTS));
    assertField("arms[holdout].name", "reserved", () -> ArmDef.of("holdout", 10, false, ArmParams.DEFAULTS));
    assertField("params.reserveMicros", "got -5", () -> ArmParams.DEFAULTS.withReserveMicros(-5L));
    assertField("params.topK", "got 0", () -> ArmParams.DEFAULTS.withTopK(0));
    assertField("params.qualityFactor", "got NaN", () -> ArmParams.DEFAULTS.withQualityFactor(Double.NaN));
    assertField("experiments[x].arms", "needs a control and at least one other arm",
        () -> twoLayers().create("x", "ranking", 10, List.of(ArmDef.of("c", 10000, true, ArmParams.DEFAULTS))));
  }

  @Test
  void shouldRefuseWhenStateChangesAreOutOfOrder() {
    ExperimentConfig stopped = twoLayers().create("x", "ranking", 10, abArms()).stop("x");
    assertField("experiments[x].state", "only a DRAFT experiment starts", () -> stopped.start("x"));
    assertField("experiments[x].state", "cannot ramp", () -> stopped.ramp("x", 20));
    assertField("experiments[x].state", "already STOPPED", () -> stopped.stop("x"));
    assertField("experiments[y]", "no such experiment", () -> stopped.start("y"));
  }

  @Test
  void shouldKeepEachArmsBucketsWhenResplitGrowsOrShrinksOthers() {
    // given three arms A 3000, B 3000, C 4000 laid out [0,3000) [3000,6000) [6000,10000)
    ExperimentConfig c = twoLayers().create("x", "ranking", 1000, List.of(
        ArmDef.of("a", 3000, true, ArmParams.DEFAULTS), ArmDef.of("b", 3000, false, ArmParams.DEFAULTS),
        ArmDef.of("c", 4000, false, ArmParams.DEFAULTS)));
    ExperimentDef before = c.experiment("x").orElseThrow();

    // when A shrinks, B keeps its size, C grows
    ExperimentDef after = c.resplit("x", Map.of("a", 1000, "b", 3000, "c", 6000)).experiment("x").orElseThrow();

    // then B keeps exactly its buckets, C keeps all of its own, A keeps a subset
    assertEquals(before.arm("b").orElseThrow().buckets(), after.arm("b").orElseThrow().buckets());
    BucketSet cBefore = before.arm("c").orElseThrow().buckets();
    assertEquals(cBefore, after.arm("c").orElseThrow().buckets().intersection(cBefore));
    BucketSet aAfter = after.arm("a").orElseThrow().buckets();
    assertEquals(aAfter, aAfter.intersection(before.arm("a").orElseThrow().buckets()));
    assertEquals(List.of(1000, 3000, 6000), after.arms().stream().map(ArmDef::basisPoints).toList());
    assertField("experiments[x].arms", "sum to 9000", () -> c.resplit("x", Map.of("a", 3000, "b", 3000, "c", 3000)));
    assertField("experiments[x].arms[d]", "no such arm",
        () -> c.resplit("x", Map.of("a", 3000, "b", 3000, "c", 4000, "d", 0)));
  }

  @Test
  void shouldGiveTheSameConfigWhenEncodedAndDecoded() {
    // given a config with every kind of value
    ExperimentConfig c = twoLayers()
        .create("rank-v8", "ranking", 1500, abArms())
        .start("rank-v8")
        .create("reserve", "auction", 2500, List.of(
            ArmDef.of("control", 3400, true, ArmParams.DEFAULTS.withReserveMicros(50_000L)),
            ArmDef.of("high", 3300, false, ArmParams.DEFAULTS.withReserveMicros(80_000L)
                .withAuctionType(AuctionType.FIRST_PRICE).withQualityFactor(0.75)
                .withShadowModelVersion("lr-9")),
            ArmDef.of("zero", 3300, false, ArmParams.DEFAULTS.withReserveMicros(0L))))
        .ramp("rank-v8", 3000)
        .create("old", "ranking", 100, abArms())
        .stop("old");

    // when
    byte[] bytes = ExperimentConfigCodec.encode(c);
    ExperimentConfig decoded = ExperimentConfigCodec.decode(bytes);

    // then
    assertEquals(c, decoded);
    assertArrayEquals(bytes, ExperimentConfigCodec.encode(decoded));
    assertTrue(bytes.length < 1024, "compact: " + bytes.length + " bytes");
  }

  @Test
  void shouldRefuseBytesWhenTheyAreNotAConfig() {
    byte[] bytes = ExperimentConfigCodec.encode(twoLayers().create("x", "ranking", 10, abArms()));
    assertThrows(IllegalArgumentException.class, () -> ExperimentConfigCodec.decode(new byte[] {1, 2, 3}));
    assertThrows(IllegalArgumentException.class,
        () -> ExperimentConfigCodec.decode(java.util.Arrays.copyOf(bytes, bytes.length - 1)));
    assertThrows(IllegalArgumentException.class,
        () -> ExperimentConfigCodec.decode(java.util.Arrays.copyOf(bytes, bytes.length + 1)));
    byte[] otherFormat = bytes.clone();
    otherFormat[4] = 9;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ExperimentConfigCodec.decode(otherFormat));
    assertTrue(e.getMessage().contains("format 9"), e.getMessage());
  }

  static void assertField(String field, String messagePart, Executable change) {
    InvalidConfigException e = assertThrows(InvalidConfigException.class, change);
    assertEquals(field, e.field(), e.getMessage());
    assertTrue(e.getMessage().startsWith(field + ": "), e.getMessage());
    assertTrue(e.getMessage().contains(messagePart), "'" + messagePart + "' not in: " + e.getMessage());
  }
}
