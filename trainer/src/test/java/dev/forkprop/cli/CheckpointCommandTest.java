package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forkprop.io.Checkpoint;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint flags end to end: resume equivalence in-process and across a SIGTERM, mismatches, eval, export. */
class CheckpointCommandTest {
    @TempDir Path dir;

    static String data() {
        return dev.forkprop.engine.TestDataAccess.mnistParent().toString();
    }

    /** 784-32-10 with dropout; 1000 training samples (--val 59000), batch 50: 20 steps per epoch, 120 steps in 6 epochs. */
    static List<String> args(String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--data-dir", data(), "--model", "784-32-10", "--dropout", "0.2",
                "--val", "59000", "--epochs", "6", "--batch", "50", "--threads", "2", "--deterministic", "--shards", "2",
                "--optimizer", "adam", "--lr", "1e-3", "--schedule", "constant", "--json"));
        a.addAll(List.of(extra));
        return a;
    }

    static String sha(TrainCommandTest.Run r) throws Exception {
        String[] lines = r.out().strip().split("\n");
        JsonNode j = new ObjectMapper().readTree(lines[lines.length - 1]);
        return j.get("params_sha256").asText();
    }

    /** Total count of the "step" intervals of an .hlog, read with HdrHistogram's own reader. */
    static long hlogStepCount(Path hlog) throws Exception {
        long n = 0;
        try (var in = Files.newInputStream(hlog)) {
            var reader = new org.HdrHistogram.HistogramLogReader(in);
            for (org.HdrHistogram.EncodableHistogram h; (h = reader.nextIntervalHistogram()) != null; ) {
                if ("step".equals(h.getTag())) n += ((org.HdrHistogram.Histogram) h).getTotalCount();
            }
        }
        return n;
    }

    /** The "(N timed steps)" a train run printed with its latency summary. */
    static long timedSteps(TrainCommandTest.Run r) {
        var m = java.util.regex.Pattern.compile("latency after warm-up, ms \\((\\d+) timed steps\\)").matcher(r.err());
        assertTrue(m.find(), r.err());
        return Long.parseLong(m.group(1));
    }

    static TrainCommandTest.Run run(List<String> a) {
        return TrainCommandTest.run(a.toArray(String[]::new));
    }

    /** Stopped at step 50 (mid-epoch 3), resumed to 120: bitwise the uninterrupted run's parameters. */
    @Test
    void resumedRunMatchesUninterruptedRun() throws Exception {
        TrainCommandTest.Run full = run(args());
        assertEquals(0, full.code(), full.err());
        Path ck = dir.resolve("ck");
        TrainCommandTest.Run first = run(args("--max-steps", "50", "--checkpoint-dir", ck.toString()));
        assertEquals(0, first.code(), first.err());
        assertEquals(List.of(ck.resolve("ckpt-50.safetensors")), Checkpoint.list(ck));
        assertNotEquals(sha(full), sha(first));
        Checkpoint c = Checkpoint.read(ck.resolve("ckpt-50.safetensors"));
        assertEquals("2", c.get("epoch"));
        assertEquals("10", c.get("batches_done"));
        TrainCommandTest.Run resumed = run(args("--checkpoint-dir", ck.toString(), "--checkpoint-every", "40", "--keep", "2", "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("resumed from " + ck.resolve("ckpt-50.safetensors")), resumed.err());
        assertEquals(sha(full), sha(resumed));
        assertEquals(List.of(ck.resolve("ckpt-80.safetensors"), ck.resolve("ckpt-120.safetensors")), Checkpoint.list(ck));
    }

    @Test
    void resumeWithOtherFlagsNamesTheMismatch() throws Exception {
        Path ck = dir.resolve("ck");
        assertEquals(0, run(args("--max-steps", "5", "--checkpoint-dir", ck.toString())).code());
        TrainCommandTest.Run r = run(args("--checkpoint-dir", ck.toString(), "--resume", "--seed", "7"));
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().contains("was written with seed = 1, this run has seed = 7"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        r = run(args("--checkpoint-dir", dir.resolve("empty").toString(), "--resume"));
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertTrue(r.err().contains("--resume: no checkpoint"), r.err());
        r = run(args("--resume"));
        assertTrue(r.err().contains("need --checkpoint-dir"), r.err());
    }

    /**
     * A checkpoint whose checksum is valid but whose position is nonsense (re-signed after the
     * edit, as a buggy or hostile writer could): --resume fails in one line naming the file and
     * the field, instead of a NumberFormatException or a silently shifted run.
     */
    @Test
    void resumeRejectsAForgedPositionNamingTheFile() throws Exception {
        Path ck = dir.resolve("ck");
        assertEquals(0, run(args("--max-steps", "5", "--checkpoint-dir", ck.toString())).code());
        Path f = ck.resolve("ckpt-5.safetensors");
        byte[] good = Files.readAllBytes(f);
        String[][] forgeries = {
            {"\"step\":\"5\"", "\"step\":\"x\"", "metadata 'step' is not a whole number: 'x'"},
            {"\"batches_done\":\"5\"", "\"batches_done\":\"7\"", "position is inconsistent: step 5 is not epoch 0 x 20 batches + 7"},
            {"\"batches_done\":\"5\"", "\"batches_done\":\"-\"", "metadata 'batches_done' is not a whole number"},
            {"\"bad_steps\":\"0\"", "\"bad_steps\":\"9\"", "metadata 'bad_steps' = 9 is outside [0, 5]"},
        };
        for (String[] forge : forgeries) {
            String text = new String(good, StandardCharsets.ISO_8859_1);
            assertTrue(text.contains(forge[0]), forge[0]);
            byte[] bad = text.replace(forge[0], forge[1]).getBytes(StandardCharsets.ISO_8859_1);
            CheckpointFuzzTest.resign(bad);
            Files.write(f, bad);
            TrainCommandTest.Run r = run(args("--checkpoint-dir", ck.toString(), "--resume"));
            BadInputCommandTest.assertOneLineError(r, f + ": checkpoint ");
            assertTrue(r.err().contains(forge[2]), r.err());
        }
    }

    /**
     * --out with --resume continues metrics.jsonl instead of truncating it: the rows up to the
     * checkpoint stay, rows the killed process wrote past it (and a torn last line) go, and a run
     * resumed exactly at an epoch's end (validated before the checkpoint) does not write that
     * epoch's row again. Six epochs: six epoch rows, each once, steps in order.
     */
    @Test
    void resumeContinuesMetricsWithoutDuplicates() throws Exception {
        Path ck = dir.resolve("ck"), out = dir.resolve("out"), metrics = out.resolve("metrics.jsonl");
        TrainCommandTest.Run first = run(args("--max-steps", "20", "--checkpoint-dir", ck.toString(), "--out", out.toString()));
        assertEquals(0, first.code(), first.err());
        int before = Files.readAllLines(metrics).size();
        String fake = "{\"kind\":\"step\",\"step\":25,\"epoch\":2,\"loss\":9.0}";
        Files.writeString(metrics, fake + "\n{\"kind\":\"ste", java.nio.file.StandardOpenOption.APPEND);
        Path hlog = out.resolve("latency.hlog");
        long firstSteps = hlogStepCount(hlog);
        assertEquals(timedSteps(first), firstSteps, "the first run's .hlog");
        Files.writeString(hlog, "Tag=step,0.100,1.0", java.nio.file.StandardOpenOption.APPEND); // torn by a kill
        TrainCommandTest.Run resumed = run(args("--checkpoint-dir", ck.toString(), "--out", out.toString(), "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        // The .hlog keeps the first process's intervals, loses the torn line, and goes on.
        assertEquals(firstSteps + timedSteps(resumed), hlogStepCount(hlog), "both segments of the .hlog");
        String text = Files.readString(hlog);
        assertTrue(text.contains("# resumed at step 20:"), "the segment is marked");
        // Each segment carries its own base time, so the resumed intervals sit on the resumed
        // run's clock: every interval after the second start time begins at or after it.
        var starts = java.util.regex.Pattern.compile("#\\[StartTime: ([0-9.]+) ").matcher(text);
        List<Double> startSec = new ArrayList<>();
        while (starts.find()) startSec.add(Double.parseDouble(starts.group(1)));
        assertEquals(2, startSec.size(), "two segments");
        assertEquals(2, text.split("#\\[BaseTime: ", -1).length - 1, "a base time per segment");
        long resumedIntervals = 0;
        try (var in = Files.newInputStream(hlog)) {
            var reader = new org.HdrHistogram.HistogramLogReader(in);
            for (org.HdrHistogram.EncodableHistogram h; (h = reader.nextIntervalHistogram()) != null; ) {
                if (h.getStartTimeStamp() >= startSec.get(1) * 1000 - 1) resumedIntervals++;
            }
        }
        assertTrue(resumedIntervals > 0, "the resumed segment's intervals start after its start time");
        List<String> lines = Files.readAllLines(metrics);
        assertTrue(lines.size() > before, "appended: " + lines.size() + " rows after " + before);
        assertFalse(lines.contains(fake), "the row past the checkpoint is gone");
        ObjectMapper om = new ObjectMapper();
        List<Integer> epochs = new ArrayList<>();
        long last = 0;
        for (String line : lines) {
            JsonNode j = om.readTree(line);
            assertTrue(j.get("step").asLong() >= last, "steps in order: " + line);
            last = j.get("step").asLong();
            if (j.get("kind").asText().equals("epoch")) {
                epochs.add(j.get("epoch").asInt());
                assertTrue(j.get("loss").isNumber(), "an epoch row with training steps: " + line);
            }
        }
        assertEquals(List.of(1, 2, 3, 4, 5, 6), epochs);
        assertEquals(120, last);
    }

    /**
     * Bad steps are counted over the whole run: the checkpoint carries the count, and a resumed
     * run's summary, metrics rows and next checkpoint go on from it. With --max-loss far below any
     * loss every step is bad (its update skipped), so the counts are the step numbers.
     */
    @Test
    void badStepsAreCountedAcrossAResume() throws Exception {
        Path ck = dir.resolve("ck"), out = dir.resolve("out");
        String[] bad = {"--max-loss", "1e-9", "--max-bad-steps", "1000", "--checkpoint-dir", ck.toString(), "--out", out.toString()};
        TrainCommandTest.Run first = run(concat(args("--max-steps", "20"), bad));
        assertEquals(0, first.code(), first.err());
        assertEquals("20", Checkpoint.read(ck.resolve("ckpt-20.safetensors")).get("bad_steps"));
        TrainCommandTest.Run resumed = run(concat(args("--max-steps", "30", "--resume"), bad));
        assertEquals(0, resumed.code(), resumed.err());
        String[] lines = resumed.out().strip().split("\n");
        assertEquals(30, new ObjectMapper().readTree(lines[lines.length - 1]).get("bad_steps").asLong(), resumed.out());
        assertEquals("30", Checkpoint.read(ck.resolve("ckpt-30.safetensors")).get("bad_steps"));
        List<String> rows = Files.readAllLines(out.resolve("metrics.jsonl"));
        JsonNode last = new ObjectMapper().readTree(rows.get(rows.size() - 1));
        assertEquals(30, last.get("step").asLong());
        assertEquals(30, last.get("bad_steps").asLong(), "the resumed run's rows count on from the checkpoint's 20");
    }

    private static List<String> concat(List<String> a, String... more) {
        List<String> all = new ArrayList<>(a);
        all.addAll(List.of(more));
        return all;
    }

    /**
     * The checkpoint directory's disk fills up mid-run (a tmpfs with room for two checkpoints; the
     * third file is the best-validation checkpoint at the end of epoch 1): the
     * run stops with one line naming the file and the cause and exits 2; the two checkpoints before
     * are intact, no temp file is left, and the newest one resumes. Mounting needs root
     * (the CI machine is root); skipped where mount fails.
     */
    @Test
    void aFullDiskStopsInOneLineAndKeepsEarlierCheckpoints() throws Exception {
        Path probe = dir.resolve("probe");
        assertEquals(0, run(args("--max-steps", "1", "--checkpoint-dir", probe.toString())).code());
        long size = Files.size(Checkpoint.newest(probe));
        Path disk = Files.createDirectories(dir.resolve("small-disk"));
        long bytes = (5 * size / 2 + 4095) / 4096 * 4096; // two checkpoints fit, a third does not
        Assumptions.assumeTrue(command("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", disk.toString()) == 0,
                "needs root and tmpfs to make a small disk");
        try {
            TrainCommandTest.Run r = run(args("--checkpoint-dir", disk.toString(), "--checkpoint-every", "10", "--keep", "5"));
            assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
            String last = r.err().strip().lines().reduce((a, b) -> b).orElse("");
            // Step 20 ends epoch 1: ckpt-20 fits, then best.safetensors (the best validation loss so far) is the third file.
            assertTrue(last.startsWith("forkprop: cannot write checkpoint " + disk.resolve("best.safetensors") + ": "), last);
            assertTrue(last.contains("No space left on device"), last);
            assertFalse(r.err().contains("\tat "), r.err());
            assertEquals(List.of(disk.resolve("ckpt-10.safetensors"), disk.resolve("ckpt-20.safetensors")), Checkpoint.list(disk));
            assertEquals(List.of(), Checkpoint.tempFiles(disk));
            for (Path f : Checkpoint.list(disk)) assertEquals(f.getFileName().toString(), "ckpt-" + Checkpoint.read(f).get("step") + ".safetensors");
            // The newest checkpoint is complete: copied to a disk with room, it resumes and trains on.
            Path roomy = Files.createDirectories(dir.resolve("roomy"));
            Files.copy(disk.resolve("ckpt-20.safetensors"), roomy.resolve("ckpt-20.safetensors"));
            TrainCommandTest.Run resumed = run(args("--checkpoint-dir", roomy.toString(), "--resume", "--max-steps", "30"));
            assertEquals(0, resumed.code(), resumed.err());
            assertTrue(resumed.err().contains("resumed from " + roomy.resolve("ckpt-20.safetensors")), resumed.err());
        } finally {
            command("umount", disk.toString());
        }
    }

    private static int command(String... cmd) throws Exception {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            readAll(p.getInputStream());
            return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (java.io.IOException ex) {
            return -1; // no such command
        }
    }

    /** A child JVM gets SIGTERM mid-run, saves and exits 143; a second child resumes; both match an uninterrupted child. */
    @Test
    void sigtermThenResumeMatchesUninterruptedChild() throws Exception {
        Path ck = dir.resolve("sig");
        // 784-64-10, 30000 samples, batch 50: 600 steps per epoch, 2 epochs (~1.5 s a child).
        List<String> a = List.of("train", "--data-dir", data(), "--model", "784-64-10", "--dropout", "0.2", "--val", "30000",
                "--epochs", "2", "--batch", "50", "--threads", "2", "--deterministic", "--shards", "2", "--json",
                "--checkpoint-dir", ck.toString(), "--checkpoint-every", "50", "--log-every", "100");
        Process p = child(a);
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        StringBuilder err = new StringBuilder();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = r.readLine()) != null) {
            err.append(line).append('\n');
            if (line.startsWith("forkprop: checkpoint ")) break; // a step marker: training is under way
        }
        // SIGTERM. Through the handle: Process.destroy() would also close our end of stderr.
        assertTrue(p.toHandle().destroy());
        while ((line = r.readLine()) != null) err.append(line).append('\n');
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        out.join();
        assertEquals(143, p.exitValue(), err.toString());
        assertTrue(err.toString().contains("stopped by SIGTERM after step"), err.toString());
        assertTrue(err.toString().contains("--resume"), err.toString());
        Path saved = Checkpoint.newest(ck);
        long stoppedAt = Long.parseLong(Checkpoint.read(saved).get("step"));
        assertTrue(stoppedAt > 0 && stoppedAt < 1200, "stopped mid-run at " + stoppedAt);

        List<String> resume = new ArrayList<>(a);
        resume.add("--resume");
        String resumed = lastJsonSha(resume);
        List<String> plain = new ArrayList<>(a);
        plain.set(plain.indexOf(ck.toString()), dir.resolve("plain").toString());
        String uninterrupted = lastJsonSha(plain);
        System.out.printf("SIGTERM at step %d: resumed %s, uninterrupted %s%n", stoppedAt, resumed, uninterrupted);
        assertEquals(uninterrupted, resumed);
    }

    private static String lastJsonSha(List<String> a) throws Exception {
        Process p = child(a);
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        String out = readAll(p.getInputStream());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), err.join());
        String[] lines = out.strip().split("\n");
        return new ObjectMapper().readTree(lines[lines.length - 1]).get("params_sha256").asText();
    }

    static Process child(List<String> a) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), "dev.forkprop.cli.Main"));
        cmd.addAll(a);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("FORKPROP_JVM_OPTS");
        return pb.start();
    }

    static String readAll(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException ex) {
            throw new java.io.UncheckedIOException(ex);
        }
    }
}
