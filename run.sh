#!/usr/bin/env bash
# forkprop: the one entry point. Finds a JDK >= 25, builds when sources changed, dispatches.
set -euo pipefail
# Builds run in the repository; the commands themselves run where they were called from, so that
# relative paths (--out, --checkpoint-dir, --json, a CSV file) mean what the caller meant. Datasets
# default to the repository's data/ wherever that is.
CALLER_DIR="$(pwd)"
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

# The Maven Wrapper: fetches the Maven that .mvn/wrapper/maven-wrapper.properties names into
# ~/.m2/wrapper on first use, so a JDK is all a machine needs.
mvn_run() {
  MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow" "$ROOT/mvnw" "${MVN_FLAGS[@]}" "$@"
}

TRAINER_JAR="$ROOT/trainer/target/forkprop-trainer-0.1.0-SNAPSHOT-all.jar"
BENCH_JAR="$ROOT/tools/bench/target/forkprop-bench.jar"
STRESS_JAR="$ROOT/tools/stress/target/forkprop-stress.jar"

# Build when any source or pom is newer than the jars (or a jar is missing). Under a lock, so that
# the ranks of an mpirun job started on a fresh checkout build once, not all at the same time.
ensure_built() {
  if command -v flock >/dev/null 2>&1 && [ -z "${FORKPROP_BUILD_LOCKED:-}" ]; then
    mkdir -p "$ROOT/trainer/target"
    exec 9>"$ROOT/trainer/target/.build.lock"
    flock 9
    export FORKPROP_BUILD_LOCKED=1
  fi
  local stamp="$TRAINER_JAR"
  if [ -f "$stamp" ] && [ -f "$BENCH_JAR" ] && [ -f "$STRESS_JAR" ] && \
     [ -z "$(find "$ROOT" \( -path "$ROOT/.git" -o -name target \) -prune -o \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$stamp" -print -quit)" ]; then
    return
  fi
  echo "forkprop: building (sources changed)..." >&2
  mvn_run -q -DskipTests package >&2 || die "build failed: run './mvnw -DskipTests package' with JAVA_HOME=$JDK to see why."
}

# SerialGC: the step loop allocates nothing, so the collector only sees start-up garbage, and
# Serial commits the least heap (default train run: peak RSS 290 MB with Serial against 630 MB
# with ParallelGC, same samples/s).
# -Xms16m: the heap starts small and grows as needed. The default initial heap (1/64 of memory,
# 384 MB here) lets the young generation fill hundreds of MB with start-up garbage (decoding the
# dataset) before the first collection: peak RSS of the default run 305-318 MB with it, 190 MB
# with -Xms16m, same bits and samples/s.
# CompileThresholdScaling=0.1: the JIT compiles a method after a tenth of the usual calls. The
# per-step methods (Engine.step, the workers' compute, Dense.forward/backward) run a few times a
# step, so at the default threshold C2 reaches them only after thousands of steps, in the middle
# of the timed run, and each compile takes a core from a worker for milliseconds: of the steps
# above p99 of a 12-epoch run, 14 of 26 started within 30 ms of such a compile, against 7% of all
# steps.
JVM_FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xms16m -XX:CompileThresholdScaling=0.1)
[ -n "${FORKPROP_JVM_OPTS:-}" ] && read -r -a EXTRA <<<"$FORKPROP_JVM_OPTS" && JVM_FLAGS+=("${EXTRA[@]}")
# Under mpirun (OMPI_COMM_WORLD_SIZE is set): Open MPI's ob1 messaging, not UCX, whose signal
# handlers take over the SIGSEGV the JVM uses for its own checks and crash it; and UCX's handlers
# off in case it is loaded anyway. mpirun's own flags stay the user's: a value set there wins.
if [ -n "${OMPI_COMM_WORLD_SIZE:-}" ]; then
  export OMPI_MCA_pml="${OMPI_MCA_pml:-ob1}" UCX_ERROR_SIGNALS="${UCX_ERROR_SIGNALS-}"
fi
run_java() { cd "$CALLER_DIR"; export FORKPROP_DATA="${FORKPROP_DATA:-$ROOT/data}"; exec 9>&-; exec "$JAVA" "${JVM_FLAGS[@]}" "$@"; }

# Every Jazzer fuzz test as Class#method: the method after each @FuzzTest in trainer's tests.
fuzz_tests() {
  local f
  grep -rl --include='*FuzzTest.java' '@FuzzTest' "$ROOT/trainer/src/test/java" | sort | while read -r f; do
    sed -n '/@FuzzTest/{n;s/.*void \([A-Za-z0-9_]*\)(.*/\1/p;}' "$f" | sed "s|^|$(basename "$f" .java)#|"
  done
}

# ./run.sh stress --fuzz MINUTES [NAME...]: each fuzz test (or those whose Class#method contains a
# NAME) fuzzed for MINUTES, one after another, each in its own surefire JVM with JAZZER_FUZZ=1. A
# crashing input is saved beside the regression inputs (trainer/src/test/resources/.../
# <Class>Inputs/<method>/crash-*) and fails that test; ./run.sh test replays it from then on. The
# generated corpus stays in trainer/.cifuzz-corpus (git-ignored) and seeds the next run. Logs in
# target/fuzz/; a summary (executions, coverage, corpus, result) at the end.
run_fuzz() {
  local minutes="${1:-}"
  [ $# -gt 0 ] && shift
  [[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "usage: ./run.sh stress --fuzz MINUTES [NAME...] (MINUTES per fuzz test, e.g. 10)"
  local seconds t name pick log status failed=0 ran=0 summary=()
  seconds=$(awk -v m="$minutes" 'BEGIN { s = int(m * 60); print (s < 1 ? 1 : s) }')
  mkdir -p "$ROOT/target/fuzz"
  for t in $(fuzz_tests); do
    pick=$([ $# -eq 0 ] && echo 1 || echo 0)
    for name in "$@"; do [[ "$t" == *"$name"* ]] && pick=1; done
    [ "$pick" = 1 ] || continue
    ran=$((ran + 1))
    log="$ROOT/target/fuzz/${t//#/.}.log"
    echo "forkprop: fuzzing $t for ${seconds} s (log: $log)" >&2
    status=ok
    # jazzer.internal.arg.N: extra libFuzzer flags (N = 0 is argv[0]): an input that runs over 120 s is
    # a hang, a finding (30 s gave false alarms on a 2-core machine shared with other builds, and so
    # did slow-unit reports). Its own surefire temp dir, so that two runs side by side do not delete
    # each other's booter jars.
    JAZZER_FUZZ=1 mvn_run -pl trainer -am test -Dtest="$t" -Dsurefire.failIfNoSpecifiedTests=false \
      -Djazzer.max_duration="${seconds}s" -Djazzer.internal.arg.0=forkprop -Djazzer.internal.arg.1=-timeout=120 \
      -Djazzer.internal.arg.2=-report_slow_units=600 \
      -Dfuzz.forkTimeout=$((seconds + 600)) -DtempDir="surefire-${t//#/.}" 2>&1 | tee "$log" \
      | grep -E '^#[0-9]+[[:space:]]+(INITED|DONE|pulse)|^Done [0-9]+ runs|^== Java Exception|FuzzTest.*(FAIL|ERROR)|Tests run:.*Fail' >&2 || true
    if grep -q 'Test unit written to' "$log"; then status="FINDING: $(sed -n 's/.*Test unit written to //p' "$log" | tail -n1)"
    elif ! grep -q 'BUILD SUCCESS' "$log"; then status="ERROR: see $log"; fi
    [ "$status" = ok ] || failed=$((failed + 1))
    # "Done N runs in S second(s)" and the last status line "#N ... cov: C ft: F corp: K/SIZE ...".
    summary+=("$(printf '%-28s %-22s %-36s %s' "$t" \
      "$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log" | tail -n1)" \
      "$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n1 | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\/[0-9a-zA-Z]*\).*/cov \1 ft \2 corpus \3/p')" "$status")")
  done
  [ "$ran" -gt 0 ] || die "no fuzz test matches '$*'; they are: $(fuzz_tests | tr '\n' ' ')"
  printf '%s\n' "fuzz summary (${seconds} s each):" "${summary[@]}"
  [ "$failed" -eq 0 ] || { echo "forkprop: $failed fuzz test(s) failed: a FINDING's input is saved as a regression input (fix, then keep it)" >&2; exit 1; }
}

usage() {
  cat <<USAGE
usage: ./run.sh COMMAND [ARGS...]

Commands:
  train [flags]        train a network (default: an MLP on MNIST); ./run.sh train --help
  eval --checkpoint FILE [--data NAME|FILE.csv] [--data-dir D]
                       a checkpoint on the test split: loss, accuracy and confusion matrix,
                       or MSE, MAE and R^2 (regression)
  predict --checkpoint FILE --data FILE.csv|IDX-FILE|NAME --out predictions.csv
                       one prediction row per input row; ./run.sh predict --help
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
  bench soak [--minutes 30] [--interval-seconds 60] [--model M] [--json FILE] [--plot FILE.png]
                       train continuously; per interval RSS, heap, GC count and time, step latency
  bench crash [--kills 20] [--seed S] [--model M] [--steps N] [--checkpoint-every K]
                       kill -9 harness: SIGKILL a deterministic run at random moments, resume it,
                       compare with an uninterrupted run; PASS/FAIL, exit 1 on FAIL
  stress [jcstress args]
                       run every jcstress test in jcstress's default (full) mode, results in
                       target/jcstress-results; e.g. -t FailurePublication, -m quick, -h.
                       Exits non-zero on a FORBIDDEN outcome or a test error
  stress --fuzz MINUTES [NAME...]
                       Jazzer: fuzz every parser (IDX, CSV, safetensors, checkpoint, model spec,
                       train flags) for MINUTES each, one after another, or those whose
                       Class#method contains a NAME; crashing inputs become regression inputs
  test                 build and run the whole test suite (what CI runs)
  build                build the jars without running tests
  help                 this message

Environment:
  JAVA_HOME            a JDK >= 25 (else /usr/lib/jvm is searched)
  FORKPROP_DATA        where datasets live (default: data/ in this repository)
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
  train|eval|predict|export)
    ensure_built
    run_java -jar "$TRAINER_JAR" "$cmd" "$@" ;;
  bench)
    ensure_built
    run_java -jar "$BENCH_JAR" "$@" ;;
  stress)
    if [ "${1:-}" = "--fuzz" ]; then shift; run_fuzz "$@"; exit; fi
    ensure_built
    [ -f "$STRESS_JAR" ] || die "the stress jar is missing: run ./run.sh build"
    # Forks load JNA for CPU affinity: allow it quietly. -r only if the caller gave none
    # (jcstress rejects a repeated option).
    STRESS_ARGS=(-jvmArgsPrepend --enable-native-access=ALL-UNNAMED)
    case " $* " in *" -r "*) ;; *) STRESS_ARGS+=(-r "$ROOT/target/jcstress-results") ;; esac
    CALLER_DIR="$ROOT" # jcstress also drops its binary result files in the working directory
    run_java -jar "$STRESS_JAR" "${STRESS_ARGS[@]}" "$@" ;;
  *) usage >&2; die "unknown command '$cmd'" ;;
esac
