package dev.adengine.engine;

/** Helpers for reporting failures in logs and replies without their (possibly personal) messages. */
public final class Failures {

  private Failures() {}

  /** The innermost cause of {@code t}: what actually went wrong under every wrapper. */
  public static Throwable root(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  /** The simple class name of the innermost cause, e.g. {@code WriteTimeoutException}. */
  public static String rootName(Throwable t) {
    return root(t).getClass().getSimpleName();
  }
}
