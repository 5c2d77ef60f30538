# Shared by the bin/ scripts: project root, build-if-needed, runtime classpath, JVM flags.
# Source it; it defines functions and variables only.

PROJECT_ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
VAR_DIR="$PROJECT_ROOT/var"
BUILD_STAMP="$VAR_DIR/build.stamp"
ENGINE_CP_FILE="$VAR_DIR/engine.classpath"
CHAOS_CP_FILE="$VAR_DIR/chaos-tests.classpath"
JAVA="java"
if [[ -n "${JAVA_HOME:-}" ]]; then JAVA="$JAVA_HOME/bin/java"; fi
MVN=(mvn -B -q)

# JVM flags verified on this kind of machine (shared/STACK.md): the common-pool fix for the gRPC
# handler, the parallel collector, the opens Aeron needs, and the Vector API module stage 2's
# RankForest runs on (without it the trees fall back to the scalar FlatForest). The first metaspace
# threshold is 256 MB: from the default (~21 MB) a starting node's classes crossed it four times in
# its first 50 s, each time a full collection of 110-620 ms (GC logs of bin/chaos's nodes; the test
# and chaos nodes use the same setting, chaos-tests NodeProcess.TEST_NODE_FLAGS).
ENGINE_JVM_FLAGS=(
  -Xms512m -Xmx1g
  -XX:+UseParallelGC
  -XX:MetaspaceSize=256m
  -Djava.util.concurrent.ForkJoinPool.common.parallelism=2
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-modules jdk.incubator.vector
)

# The load generator's JVM (bin/loadgen, and bin/chaos's harness, which runs it): as above but with
# ZGC. The generator counts each bid's latency from its intended send time, so a pause of its own
# shows as the servers' latency: in a bin/chaos kill run (2026-12-02) the harness, on the parallel
# collector, paused 451 ms for one young collection while a restarted node started (2 busy cores),
# and 24 bids of that second missed their 100 ms deadline, a third of the run's misses. ZGC pauses
# for well under a millisecond; its collection work runs beside the generator's threads.
CLIENT_JVM_FLAGS=(
  -Xms512m -Xmx1g
  -XX:+UseZGC
  -Djava.util.concurrent.ForkJoinPool.common.parallelism=2
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-modules jdk.incubator.vector
)

# True when a source, resource or pom is newer than the last build.
needs_build() {
  [[ -f "$BUILD_STAMP" && -f "$ENGINE_CP_FILE" ]] || return 0
  local newer
  newer=$(find "$PROJECT_ROOT" \( -path "$PROJECT_ROOT/var" -o -path '*/target' -o -path '*/.git' \) -prune -o \
    \( -name pom.xml -o -path '*/src/main/*' \) -type f -newer "$BUILD_STAMP" -print -quit)
  [[ -n "$newer" ]]
}

# Builds and installs the modules (tests skipped) and caches the engine's runtime classpath.
ensure_built() {
  mkdir -p "$VAR_DIR"
  if needs_build; then
    echo "build: compiling the engine (mvn install -DskipTests) ..."
    (cd "$PROJECT_ROOT" && "${MVN[@]}" -DskipTests install)
    (cd "$PROJECT_ROOT" && "${MVN[@]}" -pl engine \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
      -DincludeScope=runtime -Dmdep.outputFile="$ENGINE_CP_FILE")
    touch "$BUILD_STAMP"
  fi
}

engine_classpath() {
  echo "$PROJECT_ROOT/engine/target/classes:$(cat "$ENGINE_CP_FILE")"
}

# The chaos-tests module's runtime classpath (the load generator, the engine and their libraries).
# Call after ensure_built: its dependency list is cached on first use after each build (Maven's
# output goes to stderr, so that only the classpath is printed). The engine comes from
# engine/target/classes, as in engine_classpath, so its jar is left out (no duplicate classes or
# logback.xml).
chaos_classpath() {
  if [[ ! -f "$CHAOS_CP_FILE" || "$BUILD_STAMP" -nt "$CHAOS_CP_FILE" ]]; then
    (cd "$PROJECT_ROOT" && "${MVN[@]}" -pl chaos-tests \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
      -DincludeScope=runtime -DexcludeArtifactIds=engine -Dmdep.outputFile="$CHAOS_CP_FILE") >&2 || return 1
  fi
  echo "$PROJECT_ROOT/chaos-tests/target/classes:$PROJECT_ROOT/engine/target/classes:$(cat "$CHAOS_CP_FILE")"
}

# Waits until host:port accepts TCP connections, up to $3 seconds.
wait_for_port() {
  local host=$1 port=$2 timeout=$3 start=$SECONDS
  until timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; do
    if (( SECONDS - start >= timeout )); then return 1; fi
    sleep 0.5
  done
}

# Waits until the node's readiness endpoint answers 200, up to $2 seconds.
wait_for_ready() {
  local url=$1 timeout=$2 start=$SECONDS
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    if (( SECONDS - start >= timeout )); then return 1; fi
    sleep 0.5
  done
}
