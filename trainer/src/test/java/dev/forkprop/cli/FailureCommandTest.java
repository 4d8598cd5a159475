package dev.forkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.io.Checkpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker that throws mid-run (the hidden failure drill {@code --fault-at}) stops training at
 * once with one line naming the worker, phase, step and cause, exit code 1, no stack trace, no
 * hang; the checkpoints written before the failure are intact and the newest one resumes.
 */
class FailureCommandTest {
    @TempDir Path dir;

    @Test
    void failingWorkerStopsTheRunWithOneLine() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            Path ck = dir.resolve("ck");
            TrainCommandTest.Run r = CheckpointCommandTest.run(List.of("train", "--data-dir", CheckpointCommandTest.data(),
                    "--model", "784-16-10", "--batch", "32", "--epochs", "1", "--threads", "2", "--schedule", "constant", "--fault-at", "7",
                    "--checkpoint-dir", ck.toString(), "--checkpoint-every", "2"));
            assertEquals(Main.EXIT_FAILED, r.code(), r.err());
            String[] lines = r.err().strip().split("\n");
            String last = lines[lines.length - 1];
            assertTrue(last.startsWith("forkprop: training stopped: worker 1 failed in the compute phase at step 7: "
                    + "java.lang.IllegalStateException: injected fault in worker 1 at step 7"), last);
            assertTrue(last.contains("(IllegalStateException at dev.forkprop.engine.Engine"), last);
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
            Path newest = Checkpoint.newest(ck);
            assertEquals(Checkpoint.fileFor(ck, 6), newest, "the checkpoint before the failure");
            TrainCommandTest.Run resumed = CheckpointCommandTest.run(List.of("train", "--data-dir", CheckpointCommandTest.data(),
                    "--model", "784-16-10", "--batch", "32", "--epochs", "1", "--threads", "2", "--schedule", "constant", "--max-steps", "10",
                    "--checkpoint-dir", ck.toString(), "--resume"));
            assertEquals(0, resumed.code(), resumed.err());
        });
    }
}
