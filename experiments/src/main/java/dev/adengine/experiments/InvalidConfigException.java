package dev.adengine.experiments;

/**
 * An experiment definition or config that breaks a rule. {@link #field()} names the wrong field
 * as a path ({@code experiments[ranking-v7].arms[treatment].basisPoints}); the message starts
 * with it. An admin API maps this to {@code INVALID_ARGUMENT}.
 */
public final class InvalidConfigException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String field;

  public InvalidConfigException(String field, String problem) {
    super(field + ": " + problem);
    this.field = field;
  }

  /** The path of the field that is wrong. */
  public String field() {
    return field;
  }
}
