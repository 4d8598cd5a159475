package dev.forkprop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kill -9 harness end to end, small: two SIGKILLs of a 784-128-10 run, resumed, equal to the
 * uninterrupted run. The real run (20 kills, 784-1024-1024-10) is {@code ./run.sh bench crash};
 * this keeps the harness itself working.
 */
class CrashCommandTest {
    @TempDir Path work;

    @Test
    void twoKillsResumeToTheUninterruptedParameters() {
        BenchMainTest.Outcome o = BenchMainTest.run("crash", "--kills", "2", "--model", "784-128-10", "--steps", "300",
                "--checkpoint-every", "5", "--max-delay-ms", "100", "--data-dir", BenchTestData.dataDir().toString(), "--work", work.toString());
        assertEquals(0, o.code(), o.out() + o.err());
        assertTrue(o.out().contains("\nPASS: 2 of 2 kills resumed from a complete checkpoint"), o.out());
        assertEquals(2, o.out().lines().filter(l -> l.matches(" +[12] +[0-9.]+ .* ok")).count(), o.out());
    }
}
