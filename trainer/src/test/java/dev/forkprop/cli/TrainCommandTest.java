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
    }
}
