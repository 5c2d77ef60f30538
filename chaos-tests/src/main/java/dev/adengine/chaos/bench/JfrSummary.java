package dev.adengine.chaos.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedClass;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where one server JVM's CPU time and heap allocation went during a JFR recording (settings
 * "profile"), read with {@code jdk.jfr.consumer} only, so that {@code bin/bench}'s report can say
 * which code a server's CPU per request and allocation per request are spent in, not just how much.
 *
 * <p>What the events can and cannot tell:
 *
 * <ul>
 *   <li>{@code jdk.ExecutionSample}: every 10 ms ("profile") the JVM samples threads that are
 *       running Java code at that moment (the JDK 17 sampler takes at most a few threads per
 *       period). Counts are proportional to CPU spent in Java code, not to wall time; a thread
 *       waiting on a lock, sleeping or inside a system call is not seen.
 *   <li>{@code jdk.NativeMethodSample}: every 20 ms, a thread that is in native code. This is where
 *       socket I/O and {@code epoll_wait} live, which execution samples never see. It is not CPU
 *       time: an event loop blocked in {@code epoll_wait} with nothing to do counts the same as one
 *       copying bytes into a socket, so {@link #nativeByMethod} is given to tell the two apart.
 *   <li>{@code jdk.ObjectAllocationSample}: a throttled sample (300/s in "profile") of allocations,
 *       each weighted by the bytes it stands for ({@code weight}), so the sums estimate the bytes
 *       allocated, which is what drives the GC. The weight is what the thread allocated since its
 *       previous sample, so each thread's first sample in a recording also carries what it allocated
 *       before the recording started (since its last sample in an earlier recording, or since it
 *       started): one such sample outweighed a whole 2 s workload in a test. Each thread's first
 *       sample is therefore counted in {@link #allocationSamples} and left out of the byte tables
 *       ({@link #allocationSamplesLeftOut}), which understates a thread started during the
 *       recording by its bytes up to its first sample.
 * </ul>
 *
 * <p>JFR records at most 64 frames per stack by default; in deep Pekko or Netty stacks the project's
 * frame can be cut off, which {@link #inclusiveByPart} shows as its own row rather than hiding it in
 * "no project frame". Events without a stack trace are skipped and counted.
 *
 * @param duration from the first event's end to the last event's end (not from the first start: an
 *     event can describe something begun long before the recording, such as {@code jdk.ActiveRecording}
 *     for another recording running in the JVM, which carries that recording's start)
 * @param executionSamples {@code jdk.ExecutionSample} events, with or without a stack
 * @param executionSamplesWithoutStack of those, the ones without a stack trace (skipped below)
 * @param nativeSamples {@code jdk.NativeMethodSample} events
 * @param selfByComponent execution samples by the component of their top frame's class ({@link #COMPONENTS})
 * @param inclusiveByPart execution samples by the package of their innermost {@code dev.adengine.} frame
 *     ({@link #projectPart}), or no such frame
 * @param selfByMethod execution samples by top frame method
 * @param inclusiveByProjectMethod execution samples with the project method anywhere on their stack
 *     (once per sample); shares do not add up to 100%
 * @param threads execution samples by thread name without its trailing numbers ({@link #threadGroup})
 * @param nativeByMethod native samples by top frame method
 * @param allocationSamples {@code jdk.ObjectAllocationSample} events
 * @param allocationSamplesWithoutStack of those, the ones without a stack trace: a "(no stack)" row in
 *     the tables by frame, their class still in {@link #allocByClass}
 * @param allocationSamplesLeftOut of those, each thread's first, left out of the byte tables
 * @param allocationBytesLeftOut the weights of the samples left out (not bytes of this recording alone)
 * @param allocByComponent estimated bytes by the component of the allocating (top frame) method's class
 * @param allocByPart estimated bytes by the innermost project frame's package, as {@link #inclusiveByPart}
 * @param allocByMethod estimated bytes by allocating method
 * @param allocByClass estimated bytes by the class of the allocated objects
 */
public record JfrSummary(Duration duration, long executionSamples, long executionSamplesWithoutStack,
    long nativeSamples, Breakdown selfByComponent, Breakdown inclusiveByPart, Breakdown selfByMethod,
    Breakdown inclusiveByProjectMethod, Breakdown threads, Breakdown nativeByMethod, long allocationSamples,
    long allocationSamplesWithoutStack, long allocationSamplesLeftOut, long allocationBytesLeftOut,
    Breakdown allocByComponent, Breakdown allocByPart, Breakdown allocByMethod,
    Breakdown allocByClass) {

  /** Rows kept per table by {@link #read(Path)}; the component and package tables are kept whole. */
  public static final int DEFAULT_KEEP = 50;

  static final String PROJECT = "dev.adengine.";
  static final String NO_PROJECT_FRAME = "(no project frame)";
  static final String TRUNCATED = "(no project frame in a truncated stack)";

  /**
   * One row of a table: a name, its count or bytes, and its share of the table's total in percent.
   */
  public record Row(String name, long value, double percent) {}

  /**
   * A table: rows by descending value (ties by name), possibly only the largest ones kept, and the
   * total the shares are of. {@link #rest()} is what the rows not kept add up to.
   */
  public record Breakdown(long total, List<Row> rows) {
    public Breakdown {
      rows = List.copyOf(rows);
    }

    public long rest() {
      return total - rows.stream().mapToLong(Row::value).sum();
    }

    /** The row named {@code name}, or null when it is not among the rows kept. */
    public Row row(String name) {
      return rows.stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
    }
  }

  /**
   * A component rule: classes whose name starts with {@code prefix} belong to {@code label}. A label
   * holding {@code {sub}} takes the next package name after the prefix ({@code dev.adengine.engine.}
   * + {@code ranking.Scorer} gives "engine: ranking"); it does not match a class directly in the
   * prefix's package.
   */
  public record Rule(String prefix, String label) {
    String match(String className) {
      if (!className.startsWith(prefix)) {
        return null;
      }
      if (!label.contains("{sub}")) {
        return label;
      }
      int dot = className.indexOf('.', prefix.length());
      return dot < 0 ? null : label.replace("{sub}", className.substring(prefix.length(), dot));
    }
  }

  /**
   * The components, first match wins. The engine is split by sub-package because that is where its
   * stages are; the libraries by the layer they stand for. grpc-java's Netty is shaded under
   * {@code io.grpc.netty.shaded.io.netty}, so it is matched before the rest of {@code io.grpc}.
   */
  public static final List<Rule> COMPONENTS = List.of(
      new Rule("dev.adengine.models.", "models (scoring)"),
      new Rule("dev.adengine.engine.", "engine: {sub}"),
      new Rule("dev.adengine.engine.", "engine (top-level package)"),
      new Rule("dev.adengine.chaos.", "reference server"),
      new Rule(PROJECT, "adengine (other)"),
      new Rule("com.google.protobuf.", "protobuf"),
      new Rule("io.grpc.netty.shaded.io.netty.", "Netty"),
      new Rule("io.grpc.", "grpc-java"),
      new Rule("org.apache.pekko.grpc.", "Pekko gRPC"),
      new Rule("org.apache.pekko.http.", "Pekko HTTP"),
      new Rule("org.apache.pekko.stream.", "Pekko Streams"),
      new Rule("org.apache.pekko.actor.", "Pekko actors/dispatch"),
      new Rule("org.apache.pekko.dispatch.", "Pekko actors/dispatch"),
      new Rule("org.apache.pekko.", "Pekko (other)"),
      new Rule("com.datastax.", "Cassandra driver"),
      new Rule("io.netty.", "Netty"),
      new Rule("io.kamon.", "Kamon"),
      new Rule("kamon.", "Kamon"),
      new Rule("scala.", "Scala library"),
      new Rule("java.", "JDK"),
      new Rule("javax.", "JDK"),
      new Rule("jdk.", "JDK"),
      new Rule("sun.", "JDK"),
      new Rule("com.sun.", "JDK"));

  /** The component of a class by {@link #COMPONENTS}, or "other". */
  public static String component(String className) {
    for (Rule r : COMPONENTS) {
      String label = r.match(className);
      if (label != null) {
        return label;
      }
    }
    return "other";
  }

  /**
   * The part of the project a {@code dev.adengine.} class belongs to: its package without
   * {@code dev.adengine.}, cut to two names ({@code engine.ranking}, {@code models.scoring},
   * {@code engine} for {@code dev.adengine.engine.EngineNode}); null for any other class.
   */
  public static String projectPart(String className) {
    if (!className.startsWith(PROJECT)) {
      return null;
    }
    String rest = className.substring(PROJECT.length());
    int lastDot = rest.lastIndexOf('.');
    if (lastDot < 0) {
      return "(root package)";
    }
    String pkg = rest.substring(0, lastDot);
    int first = pkg.indexOf('.');
    int second = first < 0 ? -1 : pkg.indexOf('.', first + 1);
    return second < 0 ? pkg : pkg.substring(0, second);
  }

  private static final Pattern HIDDEN_SUFFIX = Pattern.compile("[/+]0x[0-9a-fA-F]+(?:\\.\\d+)?$");
  private static final Pattern LAMBDA_NUMBER = Pattern.compile("\\$\\$Lambda\\$\\d+");
  private static final Pattern GENERATED_NUMBER =
      Pattern.compile("((?:Generated(?:Serialization)?(?:Method|Constructor)Accessor)|\\$Proxy)\\d+$");
  private static final Pattern THREAD_NUMBERS = Pattern.compile("[\\s\\-_#.:]*\\d+(?:[\\s\\-_#.:]+\\d+)*$");

  /**
   * A class name as tables show it: hidden and lambda classes without their address and numbers
   * ({@code Foo$$Lambda$123/0x0000000800c0b040}, and {@code Foo$$Lambda+0x00007fe92010fdb0.254896875}
   * as JFR writes hidden classes, are {@code Foo$$Lambda}), generated reflection
   * accessors and proxies without their number, so that one piece of code is one row; array
   * descriptors as Java writes them ({@code [J} is {@code long[]}).
   */
  public static String normalizeClass(String name) {
    if (name.startsWith("[")) {
      return arrayName(name);
    }
    String n = HIDDEN_SUFFIX.matcher(name).replaceFirst("");
    n = LAMBDA_NUMBER.matcher(n).replaceAll(Matcher.quoteReplacement("$$Lambda"));
    return GENERATED_NUMBER.matcher(n).replaceFirst("$1");
  }

  private static String arrayName(String descriptor) {
    int dims = 0;
    while (dims < descriptor.length() && descriptor.charAt(dims) == '[') {
      dims++;
    }
    String element = descriptor.substring(dims);
    String base = switch (element) {
      case "Z" -> "boolean";
      case "B" -> "byte";
      case "C" -> "char";
      case "S" -> "short";
      case "I" -> "int";
      case "J" -> "long";
      case "F" -> "float";
      case "D" -> "double";
      default -> element.startsWith("L") && element.endsWith(";")
          ? normalizeClass(element.substring(1, element.length() - 1)) : normalizeClass(element);
    };
    return base + "[]".repeat(dims);
  }

  /**
   * A thread name without its trailing numbers and separators, so that a pool is one row:
   * {@code adengine-pekko.actor.default-dispatcher-5} is {@code adengine-pekko.actor.default-dispatcher},
   * {@code grpc-nio-worker-ELG-1-2} is {@code grpc-nio-worker-ELG}, {@code GC Thread#0} is
   * {@code GC Thread}. A name that is only a number stays as it is.
   */
  public static String threadGroup(String name) {
    String stripped = THREAD_NUMBERS.matcher(name).replaceFirst("");
    return stripped.isEmpty() ? name : stripped;
  }

  /** Reads a recording, keeping the {@value #DEFAULT_KEEP} largest rows of the per-method, class and thread tables. */
  public static JfrSummary read(Path recording) throws IOException {
    return read(recording, DEFAULT_KEEP);
  }

  /** Reads a recording, keeping the {@code keep} largest rows of the per-method, class and thread tables. */
  public static JfrSummary read(Path recording, int keep) throws IOException {
    Counter selfComponent = new Counter();
    Counter inclusivePart = new Counter();
    Counter selfMethod = new Counter();
    Counter inclusiveMethod = new Counter();
    Counter threads = new Counter();
    Counter nativeMethod = new Counter();
    Counter allocComponent = new Counter();
    Counter allocPart = new Counter();
    Counter allocMethod = new Counter();
    Counter allocClass = new Counter();
    long executionSamples = 0;
    long executionWithoutStack = 0;
    long nativeSamples = 0;
    long nativeWithoutStack = 0;
    long allocationSamples = 0;
    long allocationWithoutStack = 0;
    long allocatedBytes = 0;
    Instant first = null;
    Instant last = null;
    Map<RecordedMethod, String> names = new HashMap<>();
    // allocation samples by thread, counted once every event is read (events are not in time order)
    Map<Long, List<AllocSample>> allocByThread = new HashMap<>();

    try (RecordingFile file = new RecordingFile(recording)) {
      while (file.hasMoreEvents()) {
        RecordedEvent e = file.readEvent();
        // by end times: jdk.ActiveRecording of another recording starts when that one did, minutes before
        if (first == null || e.getEndTime().isBefore(first)) {
          first = e.getEndTime();
        }
        if (last == null || e.getEndTime().isAfter(last)) {
          last = e.getEndTime();
        }
        switch (e.getEventType().getName()) {
          case "jdk.ExecutionSample" -> {
            executionSamples++;
            RecordedStackTrace stack = e.getStackTrace();
            if (stack == null || stack.getFrames().isEmpty()) {
              executionWithoutStack++;
              continue;
            }
            List<RecordedFrame> frames = stack.getFrames();
            RecordedMethod top = frames.get(0).getMethod();
            selfComponent.add(component(className(top)), 1);
            selfMethod.add(methodName(top, names), 1);
            inclusivePart.add(partOf(stack), 1);
            Set<String> seen = new LinkedHashSet<>();
            for (RecordedFrame f : frames) {
              RecordedMethod m = f.getMethod();
              if (m != null && className(m).startsWith(PROJECT)) {
                seen.add(methodName(m, names));
              }
            }
            seen.forEach(name -> inclusiveMethod.add(name, 1));
            threads.add(threadGroup(threadName(e.getThread("sampledThread"))), 1);
          }
          case "jdk.NativeMethodSample" -> {
            nativeSamples++;
            RecordedStackTrace stack = e.getStackTrace();
            if (stack == null || stack.getFrames().isEmpty()) {
              nativeWithoutStack++;
              continue;
            }
            nativeMethod.add(methodName(stack.getFrames().get(0).getMethod(), names), 1);
          }
          case "jdk.ObjectAllocationSample" -> {
            allocationSamples++;
            RecordedClass type = e.getClass("objectClass");
            String className = type == null ? "(unknown)" : normalizeClass(type.getName());
            RecordedStackTrace stack = e.getStackTrace();
            AllocSample sample;
            if (stack == null || stack.getFrames().isEmpty()) {
              allocationWithoutStack++;
              sample = new AllocSample(e.getStartTime(), e.getLong("weight"), className, "(no stack)", "(no stack)",
                  "(no stack)");
            } else {
              RecordedMethod top = stack.getFrames().get(0).getMethod();
              sample = new AllocSample(e.getStartTime(), e.getLong("weight"), className, component(className(top)),
                  methodName(top, names), partOf(stack));
            }
            allocByThread.computeIfAbsent(threadKey(e.getThread("eventThread")), k -> new ArrayList<>()).add(sample);
          }
          default -> {
            // other events only bound the duration
          }
        }
      }
    }
    // each thread's earliest sample weighs what it allocated before the recording too: left out
    long leftOut = 0;
    long leftOutBytes = 0;
    for (List<AllocSample> samples : allocByThread.values()) {
      AllocSample firstOfThread = samples.stream().min(Comparator.comparing(AllocSample::time)).orElseThrow();
      leftOut++;
      leftOutBytes += firstOfThread.bytes();
      for (AllocSample a : samples) {
        if (a == firstOfThread) {
          continue;
        }
        allocatedBytes += a.bytes();
        allocClass.add(a.className(), a.bytes());
        allocComponent.add(a.component(), a.bytes());
        allocMethod.add(a.method(), a.bytes());
        allocPart.add(a.part(), a.bytes());
      }
    }
    long withStack = executionSamples - executionWithoutStack;
    return new JfrSummary(first == null ? Duration.ZERO : Duration.between(first, last), executionSamples,
        executionWithoutStack, nativeSamples,
        selfComponent.breakdown(withStack, Integer.MAX_VALUE), inclusivePart.breakdown(withStack, Integer.MAX_VALUE),
        selfMethod.breakdown(withStack, keep), inclusiveMethod.breakdown(withStack, keep),
        threads.breakdown(withStack, keep), nativeMethod.breakdown(nativeSamples - nativeWithoutStack, keep),
        allocationSamples, allocationWithoutStack, leftOut, leftOutBytes,
        allocComponent.breakdown(allocatedBytes, Integer.MAX_VALUE), allocPart.breakdown(allocatedBytes, Integer.MAX_VALUE),
        allocMethod.breakdown(allocatedBytes, keep), allocClass.breakdown(allocatedBytes, keep));
  }

  /** An allocation sample, named as the tables name it, kept until its thread's first sample is known. */
  private record AllocSample(Instant time, long bytes, String className, String component, String method,
      String part) {}

  /** A thread's key for {@link AllocSample}s: its Java thread id, else (a JVM-internal thread) its OS id, negated. */
  private static long threadKey(RecordedThread t) {
    if (t == null) {
      return Long.MIN_VALUE;
    }
    return t.getJavaThreadId() > 0 ? t.getJavaThreadId() : -1 - t.getOSThreadId();
  }

  private static String partOf(RecordedStackTrace stack) {
    for (RecordedFrame f : stack.getFrames()) {
      RecordedMethod m = f.getMethod();
      String part = m == null ? null : projectPart(className(m));
      if (part != null) {
        return part;
      }
    }
    return stack.isTruncated() ? TRUNCATED : NO_PROJECT_FRAME;
  }

  private static String className(RecordedMethod m) {
    return m == null || m.getType() == null ? "(unknown)" : m.getType().getName();
  }

  private static String methodName(RecordedMethod m, Map<RecordedMethod, String> cache) {
    if (m == null) {
      return "(unknown)";
    }
    return cache.computeIfAbsent(m, k -> normalizeClass(className(k)) + "." + k.getName());
  }

  private static String threadName(RecordedThread t) {
    if (t == null) {
      return "(unknown)";
    }
    String name = t.getJavaName() != null ? t.getJavaName() : t.getOSName();
    return name == null ? "(unknown)" : name;
  }

  /** Sums per name; turned into a {@link Breakdown} once the recording is read. */
  private static final class Counter {
    private final Map<String, long[]> sums = new HashMap<>();

    void add(String name, long value) {
      sums.computeIfAbsent(name, k -> new long[1])[0] += value;
    }

    Breakdown breakdown(long total, int keep) {
      List<Row> rows = new ArrayList<>();
      sums.entrySet().stream()
          .sorted(Comparator.<Map.Entry<String, long[]>>comparingLong(e -> -e.getValue()[0])
              .thenComparing(Map.Entry::getKey))
          .limit(Math.max(0, keep))
          .forEach(e -> rows.add(new Row(e.getKey(), e.getValue()[0], percent(e.getValue()[0], total))));
      return new Breakdown(total, rows);
    }
  }

  private static double percent(long value, long total) {
    return total == 0 ? 0 : 100.0 * value / total;
  }

  /** Estimated bytes allocated over the recording: the sum of the allocation samples' weights. */
  public long allocatedBytes() {
    return allocByClass.total();
  }

  /**
   * The summary as a markdown section for a report: a line of totals, then tables of at most
   * {@code topN} rows (plus one for the rest), each under a line saying what it counts. It has no
   * heading of its own, so the report chooses the level.
   */
  public String markdown(int topN) {
    StringBuilder b = new StringBuilder();
    double seconds = duration.toMillis() / 1000.0;
    b.append(String.format(Locale.ROOT,
        "JFR (settings \"profile\") over %.1f s: %,d execution samples (threads running Java code, sampled "
            + "every 10 ms; %,d without a stack, left out below), %,d native-method samples (threads in native "
            + "code such as socket I/O or waiting in `epoll_wait`, busy or idle, which execution samples do not "
            + "see), %,d allocation samples standing for %s allocated (each thread's first sample, %,d here, "
            + "left out: JFR weighs it with what the thread allocated before the recording too, %s).%n%n",
        seconds, executionSamples, executionSamplesWithoutStack, nativeSamples, allocationSamples,
        bytes(allocatedBytes()), allocationSamplesLeftOut, bytes(allocationBytesLeftOut)));

    table(b, "CPU by component (self): each execution sample counted to the component of the method it was "
        + "running (its top frame).", "component", selfByComponent, topN, false, false);
    table(b, "CPU by project part (inclusive): each execution sample counted to the package of the innermost "
        + "`dev.adengine` frame on its stack, so library and JDK code called by the project counts to the "
        + "part that called it.", "part", inclusiveByPart, topN, false, false);
    table(b, "Hot methods (self): execution samples by the method on top of the stack.", "method",
        selfByMethod, topN, false, false);
    table(b, "Project methods (inclusive): execution samples with the method anywhere on the stack (once per "
        + "sample; shares overlap and do not add up to 100%).", "method", inclusiveByProjectMethod, topN, false, true);
    table(b, "Threads: execution samples by thread name without its numbers, i.e. how the work is spread over "
        + "pools and event loops.", "thread (numbers removed)", threads, topN, false, false);
    table(b, "Native methods: native-method samples by the method on top of the stack (waiting counts as "
        + "much as working).", "method", nativeByMethod, topN, false, false);
    table(b, "Allocation by component: estimated bytes (the allocation samples' weights) by the component of "
        + "the allocating method.", "component", allocByComponent, topN, true, false);
    table(b, "Allocation by project part (inclusive): estimated bytes by the innermost `dev.adengine` frame's "
        + "package.", "part", allocByPart, topN, true, false);
    table(b, "Allocation by method: estimated bytes by the allocating method (top frame).", "method",
        allocByMethod, topN, true, false);
    table(b, "Allocation by class: estimated bytes by the class of the allocated objects.", "class",
        allocByClass, topN, true, false);
    return b.toString();
  }

  /** A table of {@code topN} rows and, unless the rows overlap, one for the rest of the total. */
  private static void table(StringBuilder b, String caption, String what, Breakdown t, int topN, boolean bytes,
      boolean overlapping) {
    b.append(caption).append("\n\n");
    if (t.rows().isEmpty()) {
      b.append("(no samples)\n\n");
      return;
    }
    b.append("| ").append(what).append(bytes ? " | bytes | share |\n" : " | samples | share |\n");
    b.append("| --- | ---: | ---: |\n");
    int shown = Math.min(Math.max(0, topN), t.rows().size());
    for (Row r : t.rows().subList(0, shown)) {
      b.append(String.format(Locale.ROOT, "| %s | %s | %.1f%% |%n", cell(r.name()),
          bytes ? bytes(r.value()) : String.format(Locale.ROOT, "%,d", r.value()), r.percent()));
    }
    long rest = t.total() - t.rows().subList(0, shown).stream().mapToLong(Row::value).sum();
    if (!overlapping && rest > 0) {
      b.append(String.format(Locale.ROOT, "| (the rest) | %s | %.1f%% |%n",
          bytes ? bytes(rest) : String.format(Locale.ROOT, "%,d", rest), percent(rest, t.total())));
    }
    b.append('\n');
  }

  private static String cell(String s) {
    return "`" + s.replace("|", "\\|").replace("`", "'") + "`";
  }

  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    if (n < 1024L * 1024) {
      return String.format(Locale.ROOT, "%.1f KB", n / 1024.0);
    }
    if (n < 1024L * 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f MB", n / (1024.0 * 1024));
    }
    return String.format(Locale.ROOT, "%.2f GB", n / (1024.0 * 1024 * 1024));
  }

  /** The summary as a JSON object, every row kept, in the hand-built style of {@link BenchReport}'s {@code bench.json}. */
  public String json() {
    return new StringJoiner(",", "{", "}")
        .add("\"durationSeconds\":" + String.format(Locale.ROOT, "%.3f", duration.toMillis() / 1000.0))
        .add("\"executionSamples\":" + executionSamples)
        .add("\"executionSamplesWithoutStack\":" + executionSamplesWithoutStack)
        .add("\"nativeSamples\":" + nativeSamples)
        .add("\"allocationSamples\":" + allocationSamples)
        .add("\"allocationSamplesWithoutStack\":" + allocationSamplesWithoutStack)
        .add("\"allocationSamplesLeftOut\":" + allocationSamplesLeftOut)
        .add("\"allocationBytesLeftOut\":" + allocationBytesLeftOut)
        .add("\"allocatedBytes\":" + allocatedBytes())
        .add("\"selfByComponent\":" + json(selfByComponent))
        .add("\"inclusiveByPart\":" + json(inclusiveByPart))
        .add("\"selfByMethod\":" + json(selfByMethod))
        .add("\"inclusiveByProjectMethod\":" + json(inclusiveByProjectMethod))
        .add("\"threads\":" + json(threads))
        .add("\"nativeByMethod\":" + json(nativeByMethod))
        .add("\"allocByComponent\":" + json(allocByComponent))
        .add("\"allocByPart\":" + json(allocByPart))
        .add("\"allocByMethod\":" + json(allocByMethod))
        .add("\"allocByClass\":" + json(allocByClass))
        .toString();
  }

  private static String json(Breakdown t) {
    StringJoiner rows = new StringJoiner(",", "[", "]");
    for (Row r : t.rows()) {
      rows.add(new StringJoiner(",", "{", "}").add("\"name\":" + BenchReport.quote(r.name()))
          .add("\"value\":" + r.value())
          .add("\"percent\":" + String.format(Locale.ROOT, "%.2f", r.percent())).toString());
    }
    return "{\"total\":" + t.total() + ",\"rows\":" + rows + "}";
  }
}
