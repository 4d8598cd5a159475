package dev.forkprop.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.data.BatchSlot;
import dev.forkprop.data.Dataset;
import dev.forkprop.data.SpscBatchPrefetch;
import dev.forkprop.run.Position;
import dev.forkprop.run.RunLength;
import dev.forkprop.run.RunResult;
import dev.forkprop.run.StepHook;
import dev.forkprop.run.Trainer;
import dev.forkprop.io.ParamsHash;
import dev.forkprop.optim.LrSchedule;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The step loop with its loader thread: bitwise results, no allocation, divergence and early stopping. */
class TrainerTest {

    static Trainer trainer(Engine e, float lr) {
        return new Trainer(e, LrSchedule.parse("constant", lr, 0), 7, null, 1e9);
    }

    /** Steps on prefetched slots equal steps that read the dataset in the engine, bit for bit. */
    @Test
    void prefetchedBatchesGiveTheSameParametersAsDirectReads() {
        Dataset data = TestData.mnistTrain().slice(0, 6400); // 100 batches an epoch: 150 steps cross an epoch
        int[] order = new int[data.size()];
        float[] direct;
        try (Engine e = EngineTest.engine("784-64-10", 0.2f, "adam", 64, 2, 2, 7)) {
            for (int s = 1; s <= 150; s++) {
                int epoch = (s - 1) / 100, b = (s - 1) % 100;
                if (b == 0) SpscBatchPrefetch.shuffle(order, 7 + epoch);
                e.step(data, order, b * 64, s, 1e-3f);
            }
            direct = e.params.clone();
        }
        try (Engine e = EngineTest.engine("784-64-10", 0.2f, "adam", 64, 2, 2, 7);
             SpscBatchPrefetch p = SpscBatchPrefetch.start(data, 64, 7, 0, 0, 150)) {
            for (int s = 1; s <= 150; s++) {
                BatchSlot slot = p.take();
                e.step(slot, s, 1e-3f);
                assertThrows(IllegalStateException.class, slot::release, "the engine released the slot after compute");
            }
            assertArrayEquals(direct, e.params);
        }
    }

    /** fit, loader and all: bitwise-identical parameters for 1, 2 and 3 threads at 4 fixed shards. */
    @Test
    void fitIsBitwiseIdenticalForAnyThreadCount() {
        Dataset train = TestData.mnistTrain().slice(0, 3200);
        String first = null;
        for (int threads = 1; threads <= 3; threads++) {
            try (Engine e = EngineTest.engine("784-64-10", 0.2f, "adam", 64, 4, threads, 7)) {
                RunResult r = trainer(e, 1e-3f).fit(train, null, null, 3, 0);
                assertEquals(150, r.steps);
                String h = ParamsHash.sha256(e.params);
                if (first == null) first = h;
                assertEquals(first, h, "parameters after 3 epochs at " + threads + " threads");
            }
        }
    }

    /**
     * The whole step loop, steady state: nothing allocated per step on the coordinator, the workers
     * or the loader (measured from a step hook, which itself allocates nothing).
     */
    @Test
    void fitAllocatesNothingPerStepWithTheLoader() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Dataset train = TestData.mnistTrain(); // 937 batches of 64 an epoch: steps 300..800 stay in epoch 1
        long[] ids = new long[16];
        long[] at = new long[6]; // allocated bytes at steps 300, 400, ..., 800
        int[] n = new int[1];
        StepHook probe = new StepHook() {
            @Override
            public boolean afterStep(Position p) {
                final long step = p.step();
                if (step == 300) n[0] = threadIds(ids);
                if (step >= 300 && step % 100 == 0) {
                    long s = 0;
                    for (int i = 0; i < n[0]; i++) s += Math.max(0, mx.getThreadAllocatedBytes(ids[i]));
                    at[(int) (step / 100 - 3)] = s;
                }
                return false;
            }

            @Override
            public void atEnd(Position p, boolean stopped) {}
        };
        try (Engine e = EngineTest.engine("784-128-10", 0.1f, "adam", 64, 2, 2, 5)) {
            trainer(e, 1e-3f).fit(train, null, null, RunLength.of(train.size(), 64, 1, 820), new Position(), probe);
        }
        assertTrue(n[0] >= 3, "coordinator, a worker and the loader measured: " + n[0]);
        StringBuilder rounds = new StringBuilder();
        long best = Long.MAX_VALUE;
        for (int k = 1; k < at.length; k++) {
            best = Math.min(best, at[k] - at[k - 1]);
            rounds.append(at[k] - at[k - 1]).append(' ');
        }
        // As in EngineTest: a rare one-off in the JDK must not fail the test, a per-step allocation shows in every round.
        assertEquals(0, best, "bytes allocated per 100 steps on the coordinator, workers and loader, by round: " + rounds);
    }

    private static int threadIds(long[] ids) {
        int n = 0;
        ids[n++] = Thread.currentThread().threadId();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            String name = t.getName();
            if (name.startsWith("forkprop-worker-") || name.equals("forkprop-loader")) ids[n++] = t.threadId();
        }
        return n;
    }

    /** SGD at lr 1e6 overflows within a few steps: the run stops after 3 bad steps in a row and reports the last good step. */
    @Test
    void consecutiveBadStepsStopTheRun() {
        Dataset train = TestData.mnistTrain().slice(0, 6400);
        List<long[]> ends = new ArrayList<>();
        StepHook hook = new StepHook() {
            @Override public boolean afterStep(Position p) { return false; }
            @Override public void atEnd(Position p, boolean stopped) {
                ends.add(new long[] {p.step(), p.epoch(), p.batchesDone(), p.badSteps(), stopped ? 1 : 0});
            }
        };
        try (Engine e = EngineTest.engine("784-32-10", 0f, "sgd", 64, 2, 2, 5)) {
            RunResult r = trainer(e, 1e6f).maxBadSteps(3).fit(train, null, TestData.mnistTest(), RunLength.of(train.size(), 64, 5, 0),
                    new Position(), hook);
            assertTrue(r.diverged, "diverged");
            assertEquals(3, r.lastBadStep - r.firstBadStep + 1);
            assertEquals(r.lastBadStep, r.steps, "stopped at the third bad step");
            assertTrue(r.steps < 20, "within a few steps: " + r.steps);
            assertEquals(r.firstBadStep - 1, r.lastGoodStep);
            assertTrue(r.skippedSteps >= 3);
            assertEquals(1, ends.size());
            // At the last good step, with the bad steps before it: the three after it are not its.
            assertArrayEquals(new long[] {r.lastGoodStep, 0, r.lastGoodStep, r.skippedSteps - 3, 1}, ends.get(0),
                    "atEnd at the last good step");
        }
        // maxBadSteps 0: bad steps are only counted, the run goes on to its end; the hook sees the
        // count after every step (what a checkpoint records), counted on from the start's.
        long[] seen = new long[41];
        StepHook counter = new StepHook() {
            @Override public boolean afterStep(Position p) {
                seen[(int) p.step()] = p.badSteps();
                return false;
            }
            @Override public void atEnd(Position p, boolean stopped) {
                seen[0] = p.badSteps();
            }
        };
        try (Engine e = EngineTest.engine("784-32-10", 0f, "sgd", 64, 2, 2, 5)) {
            RunResult r = trainer(e, 1e6f).maxBadSteps(0).fit(train, null, null, RunLength.of(train.size(), 64, 1, 40),
                    new Position().withBadSteps(7), counter);
            assertFalse(r.diverged);
            assertEquals(40, r.steps);
            assertTrue(r.skippedSteps > 37, "bad steps counted: " + r.skippedSteps);
            assertEquals(r.skippedSteps, seen[40], "the last step's count");
            assertEquals(r.skippedSteps, seen[0], "atEnd's count");
            for (int s = 2; s <= 40; s++) assertTrue(seen[s] - seen[s - 1] <= 1 && seen[s] >= seen[s - 1], "step " + s);
            assertTrue(seen[1] == 7 || seen[1] == 8, "counted on from the start's 7: " + seen[1]);
        }
    }

    /**
     * An lr too small to change a float parameter: every epoch's validation loss equals the first,
     * so with patience 2 the run stops after epoch 3 and reports epoch 1 as the best.
     */
    @Test
    void earlyStopAfterPatienceEpochsWithoutImprovement() {
        Dataset train = TestData.mnistTrain().slice(0, 640), val = TestData.mnistTrain().slice(59_000, 60_000);
        List<String> epochs = new ArrayList<>();
        StepHook hook = new StepHook() {
            @Override public boolean afterStep(Position p) { return false; }
            @Override public void atEnd(Position p, boolean stopped) {}
            @Override public boolean afterEpoch(Position p, double valLoss, double valAccuracy) {
                epochs.add(p.epoch() + ":" + p.bestEpoch());
                return false;
            }
        };
        try (Engine e = EngineTest.engine("784-32-10", 0f, "sgd", 64, 2, 2, 5)) {
            RunResult r = trainer(e, 1e-30f).earlyStop(2).fit(train, val, TestData.mnistTest(), RunLength.of(train.size(), 64, 10, 0),
                    new Position(), hook);
            assertTrue(r.earlyStopped);
            assertEquals(3, r.epochs);
            assertEquals(30, r.steps);
            assertEquals(1, r.bestEpoch);
            assertEquals(r.valLoss, r.bestValLoss);
            assertEquals(List.of("0:1", "1:1", "2:1"), epochs);
            assertTrue(r.testAccuracy >= 0, "the test set is still evaluated");
        }
        try (Engine e = EngineTest.engine("784-32-10", 0f, "sgd", 64, 2, 2, 5)) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> trainer(e, 1e-3f).earlyStop(2).fit(train, null, null, 2, 0));
            assertTrue(ex.getMessage().contains("validation set"), ex.getMessage());
        }
    }
}
