package dev.adengine.persistence;

/** A schema migration could not be read, or no longer matches what was applied. */
public final class MigrationException extends RuntimeException {

  public MigrationException(String message) {
    super(message);
  }

  public MigrationException(String message, Throwable cause) {
    super(message, cause);
  }
}
