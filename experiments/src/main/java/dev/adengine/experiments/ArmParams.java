package dev.adengine.experiments;

import java.util.ArrayList;
import java.util.List;

/**
 * What an arm fixes about serving: the ranking model, the auction and its parameters, and an
 * optional shadow model that scores beside the live one without changing the result.
 *
 * <p>Every field is optional: {@code null} means "the serving default" (the engine's settings).
 * An arm sets only what it varies, and {@link #over(ArmParams)} lays it over the defaults. The
 * experiments of one layer may set any field; two layers may not set the same field (checked by
 * {@link ExperimentConfig}), so a user in an experiment of each layer gets a well-defined set of
 * parameters whichever order the layers are applied in.
 *
 * @param modelVersion the model-registry version that ranks (stage 1 and stage 2)
 * @param auctionType GSP or first price
 * @param reserveMicros the arm's reserve price in micros, at least the placement floor when served
 * @param qualityFactor the exponent of the ad-quality factor in the rank score (engine {@code
 *     bid.quality-weight}; 0 = quality ignored)
 * @param topK how many stage-1 candidates stage 2 rescores (engine {@code ranking.top-k})
 * @param shadowModelVersion a model that scores beside the live one, logged only
 */
public record ArmParams(String modelVersion, AuctionType auctionType, Long reserveMicros, Double qualityFactor,
    Integer topK, String shadowModelVersion) {

  /** The auction an arm runs. Mirrors the engine's {@code Auction.Type}. */
  public enum AuctionType {
    GSP,
    FIRST_PRICE
  }

  /** Sets nothing: every parameter is the serving default. */
  public static final ArmParams DEFAULTS = new ArmParams(null, null, null, null, null, null);

  public ArmParams {
    requireValid(modelVersion, auctionType, reserveMicros, qualityFactor, topK, shadowModelVersion, "params");
  }

  /** A complete set of parameters (nothing left to the defaults but the shadow model). */
  public static ArmParams of(String modelVersion, AuctionType auctionType, long reserveMicros, double qualityFactor,
      int topK) {
    return new ArmParams(modelVersion, auctionType, reserveMicros, qualityFactor, topK, null);
  }

  public ArmParams withModelVersion(String v) {
    return new ArmParams(v, auctionType, reserveMicros, qualityFactor, topK, shadowModelVersion);
  }

  public ArmParams withAuctionType(AuctionType v) {
    return new ArmParams(modelVersion, v, reserveMicros, qualityFactor, topK, shadowModelVersion);
  }

  public ArmParams withReserveMicros(Long v) {
    return new ArmParams(modelVersion, auctionType, v, qualityFactor, topK, shadowModelVersion);
  }

  public ArmParams withQualityFactor(Double v) {
    return new ArmParams(modelVersion, auctionType, reserveMicros, v, topK, shadowModelVersion);
  }

  public ArmParams withTopK(Integer v) {
    return new ArmParams(modelVersion, auctionType, reserveMicros, qualityFactor, v, shadowModelVersion);
  }

  public ArmParams withShadowModelVersion(String v) {
    return new ArmParams(modelVersion, auctionType, reserveMicros, qualityFactor, topK, v);
  }

  /** These parameters where set, {@code base}'s elsewhere. */
  public ArmParams over(ArmParams base) {
    return new ArmParams(
        modelVersion != null ? modelVersion : base.modelVersion,
        auctionType != null ? auctionType : base.auctionType,
        reserveMicros != null ? reserveMicros : base.reserveMicros,
        qualityFactor != null ? qualityFactor : base.qualityFactor,
        topK != null ? topK : base.topK,
        shadowModelVersion != null ? shadowModelVersion : base.shadowModelVersion);
  }

  /** The names of the fields this sets, in declaration order. */
  public List<String> fieldsSet() {
    List<String> names = new ArrayList<>(6);
    if (modelVersion != null) {
      names.add("modelVersion");
    }
    if (auctionType != null) {
      names.add("auctionType");
    }
    if (reserveMicros != null) {
      names.add("reserveMicros");
    }
    if (qualityFactor != null) {
      names.add("qualityFactor");
    }
    if (topK != null) {
      names.add("topK");
    }
    if (shadowModelVersion != null) {
      names.add("shadowModelVersion");
    }
    return names;
  }

  private static void requireValid(String modelVersion, AuctionType auctionType, Long reserveMicros,
      Double qualityFactor, Integer topK, String shadowModelVersion, String field) {
    if (modelVersion != null && modelVersion.isBlank()) {
      throw new InvalidConfigException(field + ".modelVersion", "must not be blank (null = serving default)");
    }
    if (shadowModelVersion != null && shadowModelVersion.isBlank()) {
      throw new InvalidConfigException(field + ".shadowModelVersion", "must not be blank (null = none)");
    }
    if (reserveMicros != null && reserveMicros < 0) {
      throw new InvalidConfigException(field + ".reserveMicros", "must be >= 0, got " + reserveMicros);
    }
    if (qualityFactor != null && !(qualityFactor >= 0 && qualityFactor <= 10)) {
      throw new InvalidConfigException(field + ".qualityFactor", "must be in [0, 10], got " + qualityFactor);
    }
    if (topK != null && (topK < 1 || topK > 10_000)) {
      throw new InvalidConfigException(field + ".topK", "must be in [1, 10000], got " + topK);
    }
  }
}
