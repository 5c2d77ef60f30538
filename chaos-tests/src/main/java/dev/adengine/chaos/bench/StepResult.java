package dev.adengine.chaos.bench;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * One server at one fixed rate: what the load generator counted over the measured window and what
 * the server (and the generating bench JVM) spent on it. A step that was not run (an earlier step
 * broke the limits, or the server did not start) has {@code run == false}, a reason, and zeros.
 *
 * @param server server name ({@code grpc-java}, {@code pekko-grpc}, {@code engine})
 * @param rate intended requests per second
 * @param run whether the step was run
 * @param note why it was not run, or what could not be measured; empty otherwise
 * @param seconds measured seconds
 * @param sent requests due in the measured window
 * @param ok OK answers among them
 * @param errors errors by gRPC status name (and the generator's {@code CLIENT_OVERLOAD})
 * @param p50Micros p50 latency of OK answers from the intended send time
 * @param serverCpuMicrosPerRequest server utime+stime over the window / sent; null if not measured
 * @param serverAllocBytesPerRequest server heap allocation over the window / sent; null if not measured
 * @param benchCpuMicrosPerRequest the bench JVM's own utime+stime over the window / sent
 * @param cassandraCpuMicrosPerRequest the Cassandra node's utime+stime over the window / sent (what the
 *     server's writes cost it, on the same cores); null if not measured (no pid known)
 * @param cassandraPerRequest what the Cassandra node did per request over the window
 *     ({@link CassandraCounters}: CQL requests, writes and reads per table, compacted KB, GC ms); empty
 *     if not measured
 * @param threads the server's CPU and allocation per request by thread pool ({@link ThreadUsage}),
 *     largest CPU first; empty if not measured
 * @param loadJson the load generator's raw result ({@code LoadResult.toJson()}), or null
 */
public record StepResult(String server, int rate, boolean run, String note, int seconds, long sent, long ok,
    Map<String, Long> errors, long p50Micros, long p99Micros, long p999Micros, long maxMicros,
    Double serverCpuMicrosPerRequest, Double serverAllocBytesPerRequest, Double benchCpuMicrosPerRequest,
    Double cassandraCpuMicrosPerRequest, Map<String, Double> cassandraPerRequest, java.util.List<ThreadUsage.Share> threads,
    String loadJson) {

  public StepResult {
    errors = Collections.unmodifiableMap(new TreeMap<>(errors));
    cassandraPerRequest = cassandraPerRequest == null ? Map.of()
        : Collections.unmodifiableMap(new TreeMap<>(cassandraPerRequest));
    threads = threads == null ? java.util.List.of() : java.util.List.copyOf(threads);
  }

  public StepResult withNote(String text) {
    return new StepResult(server, rate, run, text, seconds, sent, ok, errors, p50Micros, p99Micros, p999Micros,
        maxMicros, serverCpuMicrosPerRequest, serverAllocBytesPerRequest, benchCpuMicrosPerRequest,
        cassandraCpuMicrosPerRequest, cassandraPerRequest, threads, loadJson);
  }

  /** A step that was not run, and why. */
  public static StepResult notRun(String server, int rate, String why) {
    return new StepResult(server, rate, false, why, 0, 0, 0, Map.of(), 0, 0, 0, 0, null, null, null, null, Map.of(), null, null);
  }

  public long errorCount() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Errors over requests sent; 1 when nothing was sent in a run step (nothing got through). */
  public double errorRatio() {
    return sent == 0 ? 1.0 : (double) errorCount() / sent;
  }
}
