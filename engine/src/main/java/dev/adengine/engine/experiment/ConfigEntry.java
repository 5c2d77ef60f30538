package dev.adengine.engine.experiment;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.adengine.engine.CborSerializable;
import dev.adengine.experiments.ExperimentConfig;
import dev.adengine.experiments.ExperimentConfigCodec;

/**
 * One experiment-config version as replicated in Distributed Data: its version (the register's
 * timestamp, so the highest version wins a merge) and its {@link ExperimentConfigCodec} bytes.
 */
public record ConfigEntry(long version, byte[] payload) implements CborSerializable {

  @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
  public ConfigEntry(@JsonProperty("version") long version, @JsonProperty("payload") byte[] payload) {
    this.version = version;
    this.payload = payload;
  }

  public static ConfigEntry of(ExperimentConfig config) {
    return new ConfigEntry(config.version(), ExperimentConfigCodec.encode(config));
  }

  public ExperimentConfig decode() {
    return ExperimentConfigCodec.decode(payload);
  }

  /** Decodes {@code payload}, or logs why it cannot and returns null (a newer codec on another node). */
  static ExperimentConfig decodeOrNull(byte[] payload, org.apache.pekko.actor.typed.javadsl.ActorContext<?> ctx) {
    try {
      return ExperimentConfigCodec.decode(payload);
    } catch (RuntimeException e) {
      ctx.getLog().error("experiment config not decodable, kept the installed one: {}", e.toString());
      return null;
    }
  }

  /** Decodes {@code payload}; throws when it cannot. */
  static ExperimentConfig decodeStrict(byte[] payload) {
    return ExperimentConfigCodec.decode(payload);
  }
}
