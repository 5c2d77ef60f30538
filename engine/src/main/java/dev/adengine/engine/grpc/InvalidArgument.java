package dev.adengine.engine.grpc;

/** Bad input at the edge: names the field and what is wrong with it. Mapped to INVALID_ARGUMENT. */
public final class InvalidArgument extends RuntimeException {
  private final String field;

  public InvalidArgument(String field, String problem) {
    super(field + ": " + problem, null, false, false);
    this.field = field;
  }

  public String field() {
    return field;
  }
}
