package dev.forkprop.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forkprop.io.Checkpoint;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code bench crash}: the kill -9 harness. Trains a deterministic run as a child JVM, kills it
 * with SIGKILL at seeded random moments (the model is large and checkpoints frequent, so many
 * kills land while a checkpoint is being written), resumes it with {@code --resume}, {@code
 * --kills} times, then lets it finish. Passes when every kill left only complete checkpoints
 * (each one read back with its checksum), every resume started from the newest of them, and the
 * final {@code params_sha256} equals that of one uninterrupted child of the same length.
 *
 * <p>Not a benchmark: it prints a table (kill, seconds into the child, the step the child
 * resumed from, the newest checkpoint after the kill, whether a checkpoint temp file was left
 * behind, i.e. the kill landed inside a write) and a PASS or FAIL line; exit 1 on FAIL. The
 * children's logs stay in {@code --work} (a temp directory, deleted after a PASS).
 */
@Command(name = "crash", sortOptions = false, mixinStandardHelpOptions = true,
        description = "kill -9 harness: SIGKILL a deterministic training run at random moments, resume it, compare with an uninterrupted run.")
public final class CrashCommand implements Callable<Integer> {

    @Option(names = "--kills", description = "SIGKILLs before the run may finish (default: ${DEFAULT-VALUE})")
    int kills = 20;
    @Option(names = "--seed", description = "seed of the kill moments (default: ${DEFAULT-VALUE})")
    long seed = 1;
    @Option(names = "--max-delay-ms", description = "a kill lands uniformly within this many ms after the child's first checkpoint (default: ${DEFAULT-VALUE})")
    int maxDelayMs = 1500;
    @Option(names = "--model", description = "model spec (default: ${DEFAULT-VALUE}; about 22 MB per checkpoint with Adam)")
    String model = "784-1024-1024-10";
    @Option(names = "--batch", description = "batch (default: ${DEFAULT-VALUE})")
    int batch = 256;
    @Option(names = "--steps", description = "steps of the whole run (default: ${DEFAULT-VALUE}; MNIST has 234 batches of 256 per epoch)")
    int steps = 1000;
    @Option(names = "--checkpoint-every", description = "checkpoint every N steps (default: ${DEFAULT-VALUE})")
    int every = 2;
    @Option(names = "--threads", description = "threads and shards of the child (default: ${DEFAULT-VALUE})")
    int threads = 2;
    @Option(names = "--data-dir", description = "folder holding mnist/ (default: $FORKPROP_DATA, then ./data)")
    Path dataDir;
    @Option(names = "--work", description = "checkpoints and child logs go here (default: a new temp directory, deleted after a PASS)")
    Path work;

    @Spec
    CommandSpec spec;

    private static final Pattern RESUMED = Pattern.compile("forkprop: resumed from .* \\(step (\\d+),");
    private static final long CHILD_TIMEOUT_S = 600;

    /** One kill: when, what the child had resumed from, what it left behind. */
    record Kill(int n, double atSeconds, String resumedFrom, long newestAfter, int checkpointsAfter, boolean tempLeft, String problem) {
        boolean ok() { return problem == null; }
    }

    /** A finished (or killed) child: exit code, its stderr, and the last line of its stdout. */
    record Child(int exit, String err, String lastOut) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        check(kills >= 0 && steps > 0 && every > 0 && batch > 0 && threads > 0 && maxDelayMs >= 0, "--kills, --steps, --checkpoint-every, --batch, --threads, --max-delay-ms must be positive");
        boolean tempWork = work == null;
        Path dir = tempWork ? Files.createTempDirectory("forkprop-crash-") : Files.createDirectories(work);
        Path ck = dir.resolve("checkpoints");
        out.printf("crash harness: %d SIGKILLs, seed %d | %s, batch %d, %d steps, checkpoint every %d, %d threads | work %s%n",
                kills, seed, model, batch, steps, every, threads, dir);
        for (String line : BenchEnvironment.describe()) out.println("  " + line);
        out.flush();

        long t0 = System.nanoTime();
        Child reference = runToEnd(trainArgs(null, false), dir.resolve("uninterrupted.log"));
        String want = sha(reference, "the uninterrupted run");
        out.printf("uninterrupted run: %.1f s, params_sha256 %s%n", (System.nanoTime() - t0) / 1e9, want);
        out.flush();

        SplittableRandom rnd = new SplittableRandom(seed);
        List<Kill> rows = new ArrayList<>();
        out.printf("%4s %7s %12s %12s %6s %9s  %s%n", "kill", "at_s", "resumed_from", "newest_after", "ckpts", "temp_left", "ok");
        long expectFrom = -1; // the step the next child must resume from (-1: fresh)
        String failure = null;
        for (int k = 1; k <= kills && failure == null; k++) {
            long delay = maxDelayMs == 0 ? 0 : rnd.nextLong(maxDelayMs + 1L);
            Kill row = killOnce(k, ck, dir.resolve("child-" + k + ".log"), expectFrom, delay);
            rows.add(row);
            out.printf("%4d %7.2f %12s %12s %6d %9s  %s%n", row.n, row.atSeconds, row.resumedFrom,
                    row.newestAfter < 0 ? "none" : Long.toString(row.newestAfter), row.checkpointsAfter, row.tempLeft ? "yes" : "no",
                    row.ok() ? "ok" : "FAIL: " + row.problem);
            out.flush();
            if (!row.ok()) failure = "kill " + k + ": " + row.problem;
            expectFrom = row.newestAfter;
        }

        String got = null;
        if (failure == null) {
            Child last = runToEnd(trainArgs(ck, expectFrom >= 0), dir.resolve("final.log"));
            Matcher m = RESUMED.matcher(last.err);
            long from = m.find() ? Long.parseLong(m.group(1)) : -1;
            if (from != expectFrom) failure = "the final run resumed from step " + from + ", the newest checkpoint was " + expectFrom;
            got = sha(last, "the resumed run");
            out.printf("final run: resumed from step %s, ran to step %d, params_sha256 %s%n", from < 0 ? "fresh" : from, steps, got);
            if (failure == null && !got.equals(want)) failure = "params_sha256 differs from the uninterrupted run's";
        }
        long inWrite = rows.stream().filter(Kill::tempLeft).count();
        out.printf("%d kills, %d inside a checkpoint write (temp file left), %d resumes ok; stale temp files at the end: %d%n",
                rows.size(), inWrite, rows.stream().filter(Kill::ok).count(), tempFiles(ck).size());
        if (failure == null && !tempFiles(ck).isEmpty()) failure = "temp files left after the final run: " + tempFiles(ck);
        if (failure == null) {
            out.printf("PASS: %d of %d kills resumed from a complete checkpoint; final parameters bitwise equal to the uninterrupted run (%s)%n",
                    rows.size(), kills, want);
            out.flush();
            if (tempWork) deleteTree(dir);
            return 0;
        }
        out.printf("FAIL: %s (logs in %s)%n", failure, dir);
        out.flush();
        return 1;
    }

    /**
     * Starts a child (resuming when a checkpoint exists), waits for its first checkpoint of this
     * life, then {@code delayMs}, then SIGKILL; checks what is on disk.
     */
    private Kill killOnce(int k, Path ck, Path log, long expectFrom, long delayMs) throws Exception {
        Process p = start(trainArgs(ck, expectFrom >= 0), log);
        long started = System.nanoTime();
        StderrWatch w = new StderrWatch(p, log);
        String firstSave = w.firstCheckpoint.get(CHILD_TIMEOUT_S, TimeUnit.SECONDS);
        String resumed = w.resumedFrom();
        String problem = null;
        if (expectFrom >= 0 && !Long.toString(expectFrom).equals(resumed)) {
            problem = "resumed from " + resumed + ", expected the newest checkpoint, step " + expectFrom;
        }
        if (firstSave == null) { // the child ended without a checkpoint line
            p.waitFor();
            w.done.join();
            return new Kill(k, (System.nanoTime() - started) / 1e9, resumed == null ? "fresh" : resumed, newestStep(ck), Checkpoint.list(ck).size(),
                    false, p.exitValue() == 0 ? "the run finished before it was killed; raise --steps" : "child exited " + p.exitValue() + ": " + lastLine(w.text()));
        }
        Thread.sleep(delayMs);
        double at = (System.nanoTime() - started) / 1e9;
        boolean alive = p.isAlive();
        p.destroyForcibly(); // SIGKILL on Linux: no handler, no shutdown hook runs
        p.waitFor(60, TimeUnit.SECONDS);
        w.done.join();
        if (!alive && problem == null) {
            problem = p.exitValue() == 0 ? "the run finished before it was killed; raise --steps" : "child exited " + p.exitValue() + ": " + lastLine(w.text());
        }
        boolean tempLeft = !tempFiles(ck).isEmpty();
        // Every checkpoint file must be complete: structure, magic and checksum.
        for (Path f : Checkpoint.list(ck)) {
            try {
                Checkpoint.read(f);
            } catch (RuntimeException ex) {
                if (problem == null) problem = "torn checkpoint " + f.getFileName() + ": " + ex.getMessage();
            }
        }
        long newest = newestStep(ck);
        if (problem == null && newest < 0) problem = "no checkpoint after the kill";
        return new Kill(k, at, resumed == null ? "fresh" : resumed, newest, Checkpoint.list(ck).size(), tempLeft, problem);
    }

    /** Watches a child's stderr: copies it to the log, completes when the first checkpoint line (or the end) comes. */
    private static final class StderrWatch {
        final CompletableFuture<String> firstCheckpoint = new CompletableFuture<>();
        final CompletableFuture<Void> done;
        private final StringBuffer text = new StringBuffer();

        StderrWatch(Process p, Path log) {
            done = CompletableFuture.runAsync(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
                     Writer w = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        text.append(line).append('\n');
                        w.write(line);
                        w.write('\n');
                        if (line.startsWith("forkprop: checkpoint ")) firstCheckpoint.complete(line);
                    }
                } catch (IOException ex) {
                    // the pipe breaks when the child is killed: the end of its output
                } finally {
                    firstCheckpoint.complete(null);
                }
            }, r -> Thread.ofPlatform().daemon().start(r));
        }

        String text() { return text.toString(); }

        String resumedFrom() {
            Matcher m = RESUMED.matcher(text);
            return m.find() ? m.group(1) : null;
        }
    }

    /** The train command line; {@code ck == null}: no checkpoints (the uninterrupted reference). */
    private List<String> trainArgs(Path ck, boolean resume) {
        List<String> a = new ArrayList<>(List.of("train", "--data", "mnist", "--model", model, "--dropout", "0.1",
                "--optimizer", "adam", "--batch", Integer.toString(batch), "--epochs", "1000", "--max-steps", Integer.toString(steps),
                "--threads", Integer.toString(threads), "--deterministic", "--shards", Integer.toString(threads), "--seed", "7",
                "--json", "--log-every", "3600", "--progress", "lines"));
        if (dataDir != null) a.addAll(List.of("--data-dir", dataDir.toString()));
        if (ck != null) a.addAll(List.of("--checkpoint-dir", ck.toString(), "--checkpoint-every", Integer.toString(every), "--keep", "2"));
        if (resume) a.add("--resume");
        return a;
    }

    /** A child JVM with this JVM's flags and class path (the bench jar holds the trainer). */
    private static Process start(List<String> trainArgs, Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.forkprop.cli.Main"));
        cmd.addAll(trainArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectOutput(log.resolveSibling(log.getFileName() + ".out").toFile());
        return pb.start();
    }

    private static Child runToEnd(List<String> trainArgs, Path log) throws Exception {
        Process p = start(trainArgs, log);
        StderrWatch w = new StderrWatch(p, log);
        if (!p.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("child did not finish in " + CHILD_TIMEOUT_S + " s; log " + log);
        }
        w.done.join();
        List<String> outLines = Files.readAllLines(log.resolveSibling(log.getFileName() + ".out"));
        return new Child(p.exitValue(), w.text(), outLines.isEmpty() ? "" : outLines.getLast());
    }

    private static String sha(Child c, String what) throws IOException {
        if (c.exit != 0) throw new IllegalStateException(what + " exited " + c.exit + ": " + lastLine(c.err));
        JsonNode j = new ObjectMapper().readTree(c.lastOut);
        return j.get("params_sha256").asText();
    }

    private static long newestStep(Path ck) {
        Path f = Checkpoint.newest(ck);
        if (f == null) return -1;
        String n = f.getFileName().toString();
        return Long.parseLong(n.substring("ckpt-".length(), n.length() - ".safetensors".length()));
    }

    private static List<Path> tempFiles(Path ck) {
        return Checkpoint.tempFiles(ck);
    }

    private static String lastLine(String text) {
        String[] lines = text.strip().split("\n");
        return lines[lines.length - 1];
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) Files.deleteIfExists(p);
        }
    }

    private void check(boolean ok, String message) {
        if (!ok) throw new ParameterException(spec.commandLine(), message);
    }
}
