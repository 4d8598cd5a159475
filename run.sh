#!/usr/bin/env bash
# forkprop: the one entry point. Finds a JDK >= 25, builds when sources changed, dispatches.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

die() { printf 'forkprop: %s\n' "$*" >&2; exit 2; }

java_major() {  # prints the feature version of the java at $1/bin/java, or nothing
  local v
  v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1) || return 0
  printf '%s' "${v%%.*}"
}

find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    local m; m=$(java_major "$JAVA_HOME")
    if [ -n "$m" ] && [ "$m" -ge 25 ]; then printf '%s' "$JAVA_HOME"; return; fi
  fi
  local d m
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    [ -x "$d/bin/javac" ] || continue
    m=$(java_major "$d")
    if [ -n "$m" ] && [ "$m" -ge 25 ]; then printf '%s' "$d"; return; fi
  done
}

JDK="$(find_jdk)"
[ -n "$JDK" ] || die "no JDK 25 or newer found (looked at JAVA_HOME and /usr/lib/jvm). Install one, e.g. Temurin 25 (apt-get install temurin-25-jdk from the Adoptium repository) or openjdk-25-jdk, or set JAVA_HOME."
export JAVA_HOME="$JDK"
JAVA="$JDK/bin/java"

MVN_FLAGS=(-B -ntp)

mvn_run() {
  command -v mvn >/dev/null || die "Maven not found: install it (apt-get install maven) and retry."
  MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow" mvn "${MVN_FLAGS[@]}" "$@"
}

TRAINER_JAR="$ROOT/trainer/target/forkprop-trainer-0.1.0-SNAPSHOT-all.jar"
BENCH_JAR="$ROOT/tools/bench/target/forkprop-bench.jar"
STRESS_JAR="$ROOT/tools/stress/target/forkprop-stress.jar"

# Build when any source or pom is newer than the jars (or a jar is missing).
ensure_built() {
  local stamp="$TRAINER_JAR"
  if [ -f "$stamp" ] && [ -f "$BENCH_JAR" ] && [ -f "$STRESS_JAR" ] && \
     [ -z "$(find "$ROOT" -path "$ROOT/.git" -prune -o \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$stamp" -print -quit)" ]; then
    return
  fi
  echo "forkprop: building (sources changed)..." >&2
  mvn_run -q -DskipTests package >&2 || die "build failed: run 'mvn -DskipTests package' with JAVA_HOME=$JDK to see why."
}

# SerialGC: the step loop allocates nothing, so the collector only sees start-up garbage, and
# Serial commits the least heap (measured, default train run: peak RSS 290 MB with Serial vs
# 630 MB with ParallelGC, same samples/s).
JVM_FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC)
[ -n "${FORKPROP_JVM_OPTS:-}" ] && read -r -a EXTRA <<<"$FORKPROP_JVM_OPTS" && JVM_FLAGS+=("${EXTRA[@]}")
run_java() { exec "$JAVA" "${JVM_FLAGS[@]}" "$@"; }

usage() {
  cat <<USAGE
usage: ./run.sh COMMAND [ARGS...]

Commands:
  train [flags]        train a network (default: an MLP on MNIST); ./run.sh train --help
  eval --checkpoint FILE [--data NAME] [--data-dir D]
                       loss, accuracy and confusion matrix of a checkpoint on the test split
  export --checkpoint FILE --out model.safetensors
                       weights in PyTorch nn.Sequential layout; ./run.sh export --help
  bench kernels [--json FILE] [--impl vector,scalar,openblas] [--shapes OP:MxKxN,...] [--quick]
                       GEMM GFLOPS per shape and implementation (JMH), OpenBLAS beside it;
                       see ./run.sh bench kernels --help
  bench scaling [--threads 1,2,...] [--model M --batch B --optimizer O] [--json FILE]
                       training samples/s by thread count; ./run.sh bench scaling --help
  bench compare [--cases MODEL:BATCH:OPTIMIZER,...] [--threads 1,2] [--repeats N] [--json FILE]
                       forkprop against PyTorch (python3-torch) on the same cases, samples/s
                       and ratio; ./run.sh bench compare --help
  stress [jcstress args]
                       run every jcstress test in jcstress's default (full) mode, results in
                       target/jcstress-results; e.g. -t FailurePublication, -m quick, -h.
                       Exits non-zero on a FORBIDDEN outcome or a test error
  test                 build and run the whole test suite (what CI runs)
  build                build the jars without running tests
  help                 this message

Environment:
  JAVA_HOME            a JDK >= 25 (else /usr/lib/jvm is searched)
  FORKPROP_DATA        where datasets live (default ./data)
  FORKPROP_DATA_MIRROR a local directory to fetch datasets from before trying the network
  FORKPROP_JVM_OPTS    extra JVM flags, e.g. -Xmx2g
  FORKPROP_PYTHON      the Python with torch that bench compare runs (default python3, /usr/bin/python3)
USAGE
}

cmd="${1:-help}"; [ $# -gt 0 ] && shift
case "$cmd" in
  help|-h|--help) usage ;;
  build) mvn_run -DskipTests package ;;
  test) mvn_run verify ;;
  train|eval|export)
    ensure_built
    run_java -jar "$TRAINER_JAR" "$cmd" "$@" ;;
  bench)
    ensure_built
    run_java -jar "$BENCH_JAR" "$@" ;;
  stress)
    ensure_built
    [ -f "$STRESS_JAR" ] || die "the stress jar is missing: run ./run.sh build"
    # Forks load JNA for CPU affinity: allow it quietly. -r only if the caller gave none
    # (jcstress rejects a repeated option).
    STRESS_ARGS=(-jvmArgsPrepend --enable-native-access=ALL-UNNAMED)
    case " $* " in *" -r "*) ;; *) STRESS_ARGS+=(-r "$ROOT/target/jcstress-results") ;; esac
    run_java -jar "$STRESS_JAR" "${STRESS_ARGS[@]}" "$@" ;;
  *) usage >&2; die "unknown command '$cmd'" ;;
esac
