package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The train command end to end: a short real run, and one-line errors with exit code 2. */
class TrainCommandTest {

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static String mirrorDataDir() {
        return dev.forkprop.engine.TestDataAccess.mnistParent().toString();
    }

    @Test
    void shortRunPrintsJsonSummaryLast() throws Exception {
        Run r = run("train", "--data-dir", mirrorDataDir(), "--model", "784-32-10", "--epochs", "1", "--max-steps", "60",
                "--batch", "64", "--threads", "2", "--json");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        JsonNode j = new ObjectMapper().readTree(lines[lines.length - 1]);
        for (String f : new String[] {"test_accuracy", "test_loss", "epochs", "steps", "threads", "samples_per_sec",
                "step_ms_p50", "step_ms_p99", "step_ms_p999", "wall_s", "params_sha256"}) {
            assertTrue(j.has(f), "missing " + f + " in " + lines[lines.length - 1]);
        }
        assertEquals(60, j.get("steps").asInt());
        assertTrue(j.get("test_accuracy").asDouble() > 0.7, "60 steps already learn something");
        assertEquals(64, j.get("params_sha256").asText().length());
    }

    /** A batch that leaves fewer than 32 rows per shard gets one warning saying what to change; a thick one none. */
    @Test
    void thinShardsAreWarnedAboutOnce() {
        Run thin = run("train", "--data-dir", mirrorDataDir(), "--model", "784-16-10", "--max-steps", "5", "--batch", "40",
                "--threads", "2");
        assertEquals(0, thin.code(), thin.err());
        assertEquals(1, thin.err().lines().filter(l -> l.contains("warning: batch 40 over 2 shards gives 20 rows per shard")
                && l.endsWith("use a larger --batch, or fewer --threads")).count(), thin.err());
        Run thick = run("train", "--data-dir", mirrorDataDir(), "--model", "784-16-10", "--max-steps", "5", "--batch", "64",
                "--threads", "2");
        assertEquals(0, thick.code(), thick.err());
        assertTrue(!thick.err().contains("warning: batch"), thick.err());
    }

    /** --max-minutes stops a long run at a step boundary, saves a checkpoint, evaluates and exits 0. */
    @Test
    void maxMinutesStopsTheRunInTime(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        long t0 = System.nanoTime();
        Run r = run("train", "--data-dir", mirrorDataDir(), "--model", "784-32-10", "--epochs", "1000", "--batch", "64",
                "--threads", "2", "--max-minutes", "0.02", "--checkpoint-dir", dir.toString(), "--json");
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("forkprop: stopped after --max-minutes 0.02 at step "), r.err());
        String[] lines = r.out().strip().split("\n");
        JsonNode j = new ObjectMapper().readTree(lines[lines.length - 1]);
        assertTrue(j.get("steps").asLong() > 0 && j.get("steps").asLong() < 937_000, "stopped early: " + j.get("steps"));
        assertTrue(j.get("test_accuracy").asDouble() > 0.5, "the test set is still evaluated");
        assertTrue(dev.forkprop.io.Checkpoint.newest(dir) != null, "a checkpoint at the stop");
        assertTrue(seconds < 60, "1.2 s of training, plus loading and evaluation: " + seconds + " s");
    }

    /** --data FILE.csv: a real CSV trains (here: a linear regression problem written by the test). */
    @Test
    void trainsOnACsvFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        StringBuilder csv = new StringBuilder("x1,x2,y\n");
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
        for (int i = 0; i < 2000; i++) {
            double a = rnd.nextDouble() * 2 - 1, b = rnd.nextDouble() * 2 - 1;
            csv.append(a).append(',').append(b).append(',').append(2 * a - 3 * b + 0.5).append('\n');
        }
        java.nio.file.Path file = dir.resolve("linear.csv");
        java.nio.file.Files.writeString(file, csv);
        Run r = run("train", "--data", file.toString(), "--task", "regression", "--label", "y", "--model", "2-1",
                "--optimizer", "sgd", "--lr", "0.1", "--batch", "20", "--epochs", "20", "--threads", "2", "--json");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        JsonNode j = new ObjectMapper().readTree(lines[lines.length - 1]);
        assertTrue(j.get("test_loss").asDouble() < 1e-3, "test MSE " + j.get("test_loss"));
        assertTrue(j.get("test_accuracy").isNull(), "regression has no accuracy");

        java.nio.file.Path bad = dir.resolve("nan.csv");
        java.nio.file.Files.writeString(bad, "a,b,label\n1,2,0\n3,NaN,1\n");
        assertOneLineError(run("train", "--data", bad.toString(), "--model", "2-2"), "nan.csv: line 3");
    }

    private static void assertOneLineError(Run r, String expectedFragment) {
        assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().contains(expectedFragment), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertTrue(r.out().isEmpty(), r.out());
    }

    @Test
    void badInputGivesOneLineAndExitTwo() {
        assertOneLineError(run("train", "--batch", "0"), "--batch must be positive, got 0");
        assertOneLineError(run("train", "--data-dir", mirrorDataDir(), "--model", "784-100-1O"),
                "model spec '784-100-1O': bad token '1O'");
        assertOneLineError(run("train", "--data-dir", mirrorDataDir(), "--model", "dense:100,relux,dense:10"),
                "bad token 'relux'");
        assertOneLineError(run("train", "--lr", "abc"), "Invalid value for option '--lr'");
        assertOneLineError(run("train", "--bogus"), "Unknown option: '--bogus'");
        assertOneLineError(run("train", "--data", "cifar"), "cifar");
        assertOneLineError(run("train", "--data-dir", mirrorDataDir(), "--optimizer", "rmsprop"), "unknown optimizer 'rmsprop'");
        // Arguments are literal: picocli's default would read "@DIR" as an argument file, a stack trace for a directory.
        assertOneLineError(run("train", "--batch", "@" + mirrorDataDir()), "'@" + mirrorDataDir() + "' is not an int");
        assertOneLineError(run("train", "--data", "@" + mirrorDataDir()), "unknown dataset '@" + mirrorDataDir() + "'");
        assertOneLineError(run("train", "--clip", "NaN"), "--clip must be >= 0 (0: off), got NaN");
        assertOneLineError(run("train", "--momentum", "-1"), "--momentum must be >= 0, got -1.0");
    }
}
