package dev.forkprop.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.data.Dataset;
import dev.forkprop.data.SpscBatchPrefetch;
import dev.forkprop.io.ParamsHash;
import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.loss.Loss;
import dev.forkprop.loss.SoftmaxCrossEntropy;
import dev.forkprop.model.DelegatingGemm;
import dev.forkprop.model.Init;
import dev.forkprop.model.ModelSpec;
import dev.forkprop.model.Network;
import dev.forkprop.optim.GradClip;
import dev.forkprop.optim.Hyper;
import dev.forkprop.optim.Optimizers;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class EngineTest {

    static Engine engine(String spec, float dropout, String optimizer, int batch, int shards, int threads, long seed) {
        return engine(spec, dropout, optimizer, batch, shards, threads, seed, Gemms.best());
    }

    static Engine engine(String spec, float dropout, String optimizer, int batch, int shards, int threads, long seed, Gemm gemm) {
        Network net = ModelSpec.parse(spec, 784, "relu", dropout);
        Loss loss = new SoftmaxCrossEntropy();
        var opt = Optimizers.create(optimizer, net.layout().size(), Hyper.DEFAULTS);
        Engine e = new Engine(net, loss, opt, new GradClip(0), gemm, batch, shards, threads, seed, 10);
        net.init(e.params, e.buffers, Init.HE_NORMAL, seed);
        return e;
    }

    static void run(Engine e, Dataset data, int[] order, int steps, int batch) {
        for (int s = 1; s <= steps; s++) {
            int start = ((s - 1) * batch) % (order.length - batch + 1);
            assertTrue(e.step(data, order, start, s, 1e-3f));
        }
    }

    /** Same seed, fixed shards: bitwise-identical parameters for 1, 2, 3 and 4 threads. */
    @Test
    void deterministicForAnyThreadCount() throws Exception {
        Dataset data = TestData.mnistTrain();
        int[] order = new int[data.size()];
        SpscBatchPrefetch.shuffle(order, 1);
        String first = null;
        for (int threads = 1; threads <= 4; threads++) {
            try (Engine e = engine("784-256-256-10", 0.2f, "adam", 64, 4, threads, 7)) {
                run(e, data, order, 200, 64);
                String h = ParamsHash.sha256(e.params);
                if (first == null) first = h;
                assertEquals(first, h, "parameters after 200 steps at " + threads + " threads");
            }
        }
    }

    /**
     * The weights each update packs unit by unit are the packs of the new parameters: training
     * with a full repack before every step ({@link Engine#paramsWritten}) gives the same bits, at
     * 1, 2 and 3 threads, with a layer norm between dense layers. And parameters written between
     * steps are trained from, once the engine is told: a step from rewritten initial parameters
     * equals a fresh engine's first step.
     */
    @Test
    void updatePacksTheWeightsItChanged() {
        Dataset data = TestData.mnistTrain();
        int[] order = new int[data.size()];
        SpscBatchPrefetch.shuffle(order, 3);
        for (int threads = 1; threads <= 3; threads++) {
            String[] hash = new String[2];
            for (int repack = 0; repack < 2; repack++) {
                Network net = ModelSpec.parse("dense:97,tanh,ln,dense:33,tanh,dense:10", 784, "relu", 0f);
                var opt = Optimizers.create("adam", net.layout().size(), Hyper.DEFAULTS);
                try (Engine e = new Engine(net, new SoftmaxCrossEntropy(), opt, new GradClip(0), Gemms.best(), 48, threads,
                        threads, 3, 10)) {
                    net.init(e.params, e.buffers, Init.XAVIER_NORMAL, 3);
                    for (int s = 1; s <= 20; s++) {
                        if (repack == 1) e.paramsWritten();
                        assertTrue(e.step(data, order, (s - 1) * 48, s, 1e-2f));
                    }
                    hash[repack] = ParamsHash.sha256(e.params);
                }
            }
            assertEquals(hash[1], hash[0], "20 steps with packs from the update vs a full repack, " + threads + " threads");
        }
        try (Engine a = engine("784-64-10", 0f, "sgd", 32, 2, 2, 5); Engine b = engine("784-64-10", 0f, "sgd", 32, 2, 2, 5)) {
            float[] initial = a.params.clone();
            run(a, data, order, 3, 32);
            System.arraycopy(initial, 0, a.params, 0, initial.length);
            a.paramsWritten();
            assertTrue(a.step(data, order, 0, 1, 1e-3f));
            assertTrue(b.step(data, order, 0, 1, 1e-3f));
            assertArrayEquals(b.params, a.params, "a step from rewritten parameters");
        }
    }

    /**
     * The pool worker's products are slowed (a core the host takes away), so the coordinator,
     * done with its own shard first, computes chunks of the other shard's products: the
     * parameters are still bitwise those of one thread running both shards, dropout included.
     */
    @Test
    void helpingASlowWorkerChangesNoBit() {
        Dataset data = TestData.mnistTrain();
        int[] order = new int[data.size()];
        SpscBatchPrefetch.shuffle(order, 4);
        Gemm slowPool = slowOnPoolThreads(Gemms.best(), 1_000_000);
        String spec = "784-256-256-10";
        try (Engine one = engine(spec, 0.2f, "adam", 128, 2, 1, 9, Gemms.best());
             Engine two = engine(spec, 0.2f, "adam", 128, 2, 2, 9, slowPool)) {
            run(one, data, order, 15, 128);
            run(two, data, order, 15, 128);
            assertEquals(ParamsHash.sha256(one.params), ParamsHash.sha256(two.params), "2 threads helping against 1 thread");
            if (Runtime.getRuntime().availableProcessors() >= 2) {
                // About one or more a step on an idle machine; fewer when other work takes the cores.
                assertTrue(two.helpedChunks() >= 5, "chunks computed for the slow worker in 15 steps: " + two.helpedChunks());
            } else {
                assertEquals(0, two.helpedChunks(), "one core: no spinning helpers");
            }
            assertEquals(0, one.helpedChunks());
        }
    }

    /**
     * A kernel that busy-waits {@code delayNanos} before every product on a pool thread (workers
     * 1..T-1): a slowed core, without sleeping (which could allocate).
     */
    private static Gemm slowOnPoolThreads(Gemm g, long delayNanos) {
        return DelegatingGemm.around(g, () -> {
            if (Thread.currentThread().getName().startsWith("forkprop-worker-")) {
                for (long t0 = System.nanoTime(); System.nanoTime() - t0 < delayNanos; ) Thread.onSpinWait();
            }
        });
    }

    /** An injected worker fault ends the step with its cause, fast, and leaves step k-1's parameters. */
    @Test
    void workerFaultAbortsWithCauseAndKeepsLastParameters() {
        failureDrill(e -> e.injectFault(5, 1), "injected fault in worker 1 at step 5", "worker 1 failed in the compute phase at step 5",
                e -> { });
    }

    /**
     * A pool worker whose task dies outside a phase never arrives at the barrier: the coordinator
     * must notice (it checks every 100 ms while parked) and fail the step within a second, with
     * the cause, parameters intact; the engine then refuses further steps and closes cleanly.
     */
    @Test
    void lostWorkerFailsTheStepInsteadOfHanging() {
        failureDrill(e -> e.injectLostWorker(5, 1), "injected loss of worker 1 at step 5", "worker 1 was lost in the compute phase at step 5",
                e -> {
                    var again = assertThrows(IllegalStateException.class, () -> e.step(TestData.mnistTrain(), new int[60_000], 5 * 32, 6, 1e-3f));
                    assertTrue(again.getMessage().contains("lost a worker"), again.getMessage());
                });
    }

    /**
     * Steps 1-4 of 784-64-10 on 2 workers, then step 5 with {@code inject}'s fault: it must throw
     * a WorkerFailure within a second whose message starts with {@code message} and whose root
     * cause contains {@code rootCause}, and leave step 4's parameters; then {@code after} checks the
     * failed engine before it is closed.
     */
    private static void failureDrill(Consumer<Engine> inject, String rootCause, String message, Consumer<Engine> after) {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            Dataset data = TestData.mnistTrain();
            int[] order = new int[data.size()];
            SpscBatchPrefetch.shuffle(order, 2);
            try (Engine e = engine("784-64-10", 0f, "momentum", 32, 2, 2, 3)) {
                inject.accept(e);
                run(e, data, order, 4, 32);
                float[] before = e.params.clone();
                long t0 = System.nanoTime();
                WorkerFailure f = assertThrows(WorkerFailure.class, () -> e.step(data, order, 4 * 32, 5, 1e-3f));
                assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "failure reported within a second");
                assertTrue(f.getMessage().startsWith(message), f.getMessage());
                Throwable root = f;
                while (root.getCause() != null) root = root.getCause();
                assertTrue(root.getMessage().contains(rootCause), root.toString());
                assertArrayEquals(before, e.params, "parameters of step 4 intact");
                after.accept(e);
            }
        });
    }

    /** Steady-state steps allocate nothing on the coordinator or any worker thread. */
    @Test
    void stepsAllocateNothing() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Dataset data = TestData.mnistTrain();
        int[] order = new int[data.size()];
        SpscBatchPrefetch.shuffle(order, 3);
        // 64-row shards: the first layer's products come in chunks that the other worker can take,
        // and it does, since the pool worker is slowed (SharedProducts must not allocate either).
        try (Engine e = engine("784-256-10", 0.1f, "adam", 128, 2, 2, 5, slowOnPoolThreads(Gemms.best(), 50_000))) {
            run(e, data, order, 300, 128); // warm-up: JIT, lazy workspaces
            long[] ids = threadIds();
            long helpedBefore = e.helpedChunks();
            // A per-step allocation of even 8 bytes shows as >= 800 bytes in every round. A rare
            // one-off in the JDK (a pool thread replaced after its keep-alive, a JIT event on a
            // loaded machine: 256 bytes once in ~10 runs, measured) must not fail the test, so the
            // best of up to 5 rounds has to be exactly zero.
            StringBuilder rounds = new StringBuilder();
            long best = Long.MAX_VALUE;
            for (int round = 0; round < 5 && best != 0; round++) {
                long before = allocated(mx, ids);
                for (int s = 301 + 100 * round; s <= 400 + 100 * round; s++) e.step(data, order, (s * 128) % 50000, s, 1e-3f);
                long bytes = allocated(mx, ids) - before;
                best = Math.min(best, bytes);
                rounds.append(bytes).append(' ');
            }
            assertEquals(0, best, "bytes allocated per 100 steps across coordinator and workers, by round: " + rounds);
            if (Runtime.getRuntime().availableProcessors() >= 2) {
                // About one a step on an idle machine; the point is that the helping paths ran many
                // times while allocation was measured, so half that is enough.
                assertTrue(e.helpedChunks() - helpedBefore >= 50, "chunks helped while measured: " + (e.helpedChunks() - helpedBefore));
            }
        }
    }

    private static long[] threadIds() {
        List<Long> ids = new ArrayList<>();
        ids.add(Thread.currentThread().threadId());
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("forkprop-worker-")) ids.add(t.threadId());
        }
        long[] a = new long[ids.size()];
        for (int i = 0; i < a.length; i++) a[i] = ids.get(i);
        return a;
    }

    /** One id at a time: the array-returning overload would itself allocate on this thread. */
    private static long allocated(com.sun.management.ThreadMXBean mx, long[] ids) {
        long s = 0;
        for (long id : ids) s += Math.max(0, mx.getThreadAllocatedBytes(id));
        return s;
    }
}
