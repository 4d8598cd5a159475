package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forkprop.io.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --max-bad-steps / --on-nonfinite end to end: SGD at lr 1e6 overflows to NaN within a few steps
 * (Adam does not: its step is bounded by the lr, the loss grows huge but stays finite); the run
 * stops with exit code 3 and one line naming the step, the cause and the last good checkpoint,
 * which loads and evaluates.
 */
class DivergenceCommandTest {
    @TempDir Path dir;

    static List<String> args(String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--data-dir", CheckpointCommandTest.data(), "--model", "784-32-10",
                "--optimizer", "sgd", "--lr", "1e6", "--batch", "64", "--epochs", "1", "--threads", "2", "--json"));
        a.addAll(List.of(extra));
        return a;
    }

    private static final Pattern DIVERGED = Pattern.compile(
            "forkprop: diverged at step (\\d+): the loss or gradient was not finite, or the loss exploded, for 3 consecutive steps \\((\\d+)-(\\d+)\\), updates skipped;"
                    + " the learning rate is probably too high \\(--lr 1e6\\): try a smaller --lr, e\\.g\\. 1e5; last good checkpoint: (\\S+)");

    @Test
    void lrOneMillionStopsWithExitThreeAndTheLastGoodCheckpointEvaluates() throws Exception {
        Path ck = dir.resolve("ck"), out = dir.resolve("out");
        TrainCommandTest.Run r = CheckpointCommandTest.run(args("--checkpoint-dir", ck.toString(), "--checkpoint-every", "1",
                "--keep", "2", "--out", out.toString()));
        assertEquals(Main.EXIT_DIVERGED, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        String last = lines[lines.length - 1];
        Matcher m = DIVERGED.matcher(last);
        assertTrue(m.matches(), "one line, last on stderr: " + last);
        long step = Long.parseLong(m.group(1)), first = Long.parseLong(m.group(2));
        assertTrue(step <= 10, "within a few steps: " + step);
        assertEquals(step, Long.parseLong(m.group(3)));
        assertEquals(step - 2, first);
        Path good = Path.of(m.group(4));
        assertEquals(Checkpoint.fileFor(ck, first - 1), good, "the checkpoint of the step before the first bad one");
        assertEquals(good, Checkpoint.newest(ck), "nothing written after it");
        assertEquals(Long.toString(first - 1), Checkpoint.read(good).get("step"));
        assertTrue(r.err().contains("step " + first + ": loss or gradient not finite or loss exploded"), r.err());

        JsonNode j = lastJson(r);
        assertEquals(3, j.get("bad_steps").asInt());
        assertTrue(j.get("diverged").asBoolean());
        assertEquals(first - 1, j.get("last_good_step").asLong());
        assertEquals(step, j.get("steps").asLong());
        List<String> rows = Files.readAllLines(out.resolve("metrics.jsonl"));
        JsonNode lastRow = new ObjectMapper().readTree(rows.get(rows.size() - 1));
        assertEquals(3, lastRow.get("bad_steps").asInt(), rows.toString());

        TrainCommandTest.Run ev = TrainCommandTest.run("eval", "--checkpoint", good.toString(), "--data-dir", CheckpointCommandTest.data());
        assertEquals(0, ev.code(), ev.err());
        assertTrue(ev.out().startsWith("mnist test: 10000 samples"), ev.out());
        assertTrue(ev.out().contains("checkpoint step " + (first - 1)), ev.out());
    }

    /**
     * Without periodic checkpoints the last good state is saved at the end, after the hook has seen
     * two of the three bad steps: its checkpoint counts none of them (a resumed run repeats them).
     */
    @Test
    void theLastGoodCheckpointDoesNotCountTheBadRunAfterIt() throws Exception {
        Path ck = dir.resolve("ck");
        TrainCommandTest.Run r = CheckpointCommandTest.run(args("--checkpoint-dir", ck.toString()));
        assertEquals(Main.EXIT_DIVERGED, r.code(), r.err());
        JsonNode j = lastJson(r);
        assertEquals(3, j.get("bad_steps").asInt());
        Checkpoint good = Checkpoint.read(Checkpoint.newest(ck));
        assertEquals(Long.toString(j.get("last_good_step").asLong()), good.get("step"));
        assertEquals("0", good.get("bad_steps"));
    }

    /** --on-nonfinite stop: the first bad step ends the run; without periodic checkpoints the last good state is saved at the end. */
    @Test
    void stopPolicyEndsAtTheFirstBadStepAndSavesTheLastGoodState() throws Exception {
        Path ck = dir.resolve("ck");
        TrainCommandTest.Run r = CheckpointCommandTest.run(args("--on-nonfinite", "stop", "--checkpoint-dir", ck.toString()));
        assertEquals(Main.EXIT_DIVERGED, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        Matcher m = Pattern.compile("forkprop: diverged at step (\\d+): the loss or gradient was not finite, or the loss exploded, at step \\1, updates skipped; .*"
                + "last good checkpoint: (\\S+)").matcher(lines[lines.length - 1]);
        assertTrue(m.matches(), lines[lines.length - 1]);
        long step = Long.parseLong(m.group(1));
        assertEquals(1, lastJson(r).get("bad_steps").asInt());
        assertEquals(List.of(Checkpoint.fileFor(ck, step - 1)), Checkpoint.list(ck));
        assertEquals(Checkpoint.fileFor(ck, step - 1).toString(), m.group(2));
    }

    /** Without a checkpoint directory the message says so; bad flag values are one-line errors. */
    @Test
    void withoutCheckpointsAndBadFlags() throws Exception {
        TrainCommandTest.Run r = CheckpointCommandTest.run(args("--max-bad-steps", "2"));
        assertEquals(Main.EXIT_DIVERGED, r.code(), r.err());
        assertTrue(r.err().strip().endsWith("for 2 consecutive steps (" + (lastJson(r).get("steps").asLong() - 1) + "-"
                + lastJson(r).get("steps").asLong() + "), updates skipped; the learning rate is probably too high (--lr 1e6):"
                + " try a smaller --lr, e.g. 1e5; no checkpoint kept (no --checkpoint-dir)"), r.err());
        // It ended inside the warm-up (the first 20 steps at least): no latency to report, and it says so.
        assertTrue(lastJson(r).get("step_ms_p50").isNull(), r.out());
        assertTrue(lastJson(r).get("samples_per_sec").isNull(), r.out());
        assertTrue(r.err().contains("step      no timed steps (the run ended in warm-up)"), r.err());
        assertTrue(r.err().contains("step p50 n/a ms"), r.err());
        assertTrue(!r.err().contains("NaN"), r.err());
        BadInputCommandTest.assertOneLineError(TrainCommandTest.run("train", "--max-bad-steps", "0"), "--max-bad-steps must be >= 1, got 0");
        BadInputCommandTest.assertOneLineError(TrainCommandTest.run("train", "--on-nonfinite", "ignore"),
                "--on-nonfinite must be skip or stop, got 'ignore'");
    }

    /**
     * Adam at lr 1e6 keeps every value finite while the loss explodes to about 1e20: the automatic
     * loss limit (a million times the first step's loss) makes those steps bad, and the run stops
     * with exit code 3 within a few steps. An explicit --max-loss does the same.
     */
    @Test
    void adamAtLrOneMillionStopsOnTheExplodedLoss() throws Exception {
        for (List<String> extra : List.of(List.<String>of(), List.of("--max-loss", "1e3"))) {
            List<String> a = new ArrayList<>(List.of("train", "--data-dir", CheckpointCommandTest.data(), "--model", "784-32-10",
                    "--optimizer", "adam", "--lr", "1e6", "--batch", "64", "--epochs", "1", "--threads", "2", "--json"));
            a.addAll(extra);
            TrainCommandTest.Run r = CheckpointCommandTest.run(a);
            assertEquals(Main.EXIT_DIVERGED, r.code(), r.err());
            String[] lines = r.err().strip().split("\n");
            assertTrue(lines[lines.length - 1].matches("forkprop: diverged at step \\d+: the loss or gradient was not finite, or the loss"
                    + " exploded, for 3 consecutive steps .*"), lines[lines.length - 1]);
            assertTrue(lastJson(r).get("steps").asLong() <= 20, "within a few steps: " + r.err());
        }
        BadInputCommandTest.assertOneLineError(TrainCommandTest.run("train", "--max-loss", "0"), "--max-loss must be a positive number, got 0.0");
    }

    static JsonNode lastJson(TrainCommandTest.Run r) throws Exception {
        String[] lines = r.out().strip().split("\n");
        assertFalse(lines.length == 0 || lines[lines.length - 1].isEmpty(), "no JSON on stdout");
        return new ObjectMapper().readTree(lines[lines.length - 1]);
    }
}
