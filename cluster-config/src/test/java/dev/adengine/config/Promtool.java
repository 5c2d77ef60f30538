package dev.adengine.config;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs bin/promtool (promtool from PATH, else Debian's, fetched into var/tools on first use). A
 * promtool that cannot be had fails the test: it is not skipped.
 */
final class Promtool {

  /** The first use may download the package (about 20 MB). */
  private static final long TIMEOUT_MINUTES = 10;

  record Result(int exitCode, String output) {}

  private Promtool() {}

  static Result run(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Project.PROMTOOL.toString());
    command.addAll(List.of(args));
    Path log = null;
    try {
      // Output to a file, so that waiting with a timeout cannot block on a full pipe.
      log = Files.createTempFile("promtool", ".log");
      Process process = new ProcessBuilder(command)
          .directory(Project.ROOT.toFile())
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .start();
      boolean finished = process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES);
      if (!finished) process.destroyForcibly().waitFor();
      String output = Files.readString(log);
      if (!finished) {
        return fail("bin/promtool " + String.join(" ", args) + " did not finish within " + TIMEOUT_MINUTES + " min:\n" + output);
      }
      return new Result(process.exitValue(), output);
    } catch (IOException e) {
      return fail("cannot run " + command + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail("interrupted while running " + command);
    } finally {
      if (log != null) log.toFile().delete();
    }
  }

  /** Runs promtool and fails the test with its output unless it exits 0. */
  static String succeed(String... args) {
    Result result = run(args);
    if (result.exitCode() != 0) {
      fail("bin/promtool " + String.join(" ", args) + " exited with " + result.exitCode() + ":\n" + result.output());
    }
    return result.output();
  }
}
