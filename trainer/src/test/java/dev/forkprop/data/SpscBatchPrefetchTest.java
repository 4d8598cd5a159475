package dev.forkprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The loader's order, shapes, resume position, failure publication, shutdown and allocation. */
class SpscBatchPrefetchTest {

    /** Sample i: features {i, i + 0.5, i + 0.25}, label i % 5. */
    static TableDataset numbered(int n) {
        float[] x = new float[n * 3];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            x[3 * i] = i;
            x[3 * i + 1] = i + 0.5f;
            x[3 * i + 2] = i + 0.25f;
            labels[i] = i % 5;
        }
        return TableDataset.classification("numbered", x, 3, labels, 5);
    }

    /** The sample ids of every batch a fresh run of {@code epochs} epochs visits, in order. */
    static List<int[]> expectedBatches(int n, int batch, long seed, int epochs) {
        List<int[]> out = new ArrayList<>();
        int[] order = new int[n];
        for (int e = 0; e < epochs; e++) {
            reference(order, seed + e);
            for (int b = 0; b < n / batch; b++) {
                int[] ids = new int[batch];
                System.arraycopy(order, b * batch, ids, 0, batch);
                out.add(ids);
            }
        }
        return out;
    }

    /** The reference shuffle: Fisher-Yates drawing from a new SplittableRandom, as SpscBatchPrefetch.shuffle must. */
    static void reference(int[] order, long seed) {
        for (int i = 0; i < order.length; i++) order[i] = i;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = order.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    @Test
    void shuffleDrawsExactlyWhatSplittableRandomDraws() {
        for (int n : new int[] {0, 1, 2, 3, 4, 7, 8, 16, 17, 100, 1000, 60_000}) {
            for (long seed : new long[] {0, 1, 2, 7, -1, Long.MAX_VALUE, 0x9e3779b97f4a7c15L}) {
                int[] a = new int[n], b = new int[n];
                SpscBatchPrefetch.shuffle(a, seed);
                reference(b, seed);
                assertArrayEquals(b, a, "n " + n + " seed " + seed);
            }
        }
    }

    private static void assertBatch(int[] ids, BatchSlot s, Dataset d) {
        for (int r = 0; r < ids.length; r++) {
            float[] row = new float[3];
            d.features(ids[r], row, 0);
            for (int k = 0; k < 3; k++) assertEquals(row[k], s.features[r * 3 + k], "row " + r + " feature " + k);
            assertEquals(d.label(ids[r]), s.labels[r], "row " + r + " label");
        }
    }

    /** 10 samples, batch 3: 3 batches an epoch (sample order[9] dropped), 8 batches over 3 epochs. */
    @Test
    void batchesFollowTheSeededOrderOfEachEpoch() {
        TableDataset d = numbered(10);
        List<int[]> expected = expectedBatches(10, 3, 42, 3);
        try (SpscBatchPrefetch p = SpscBatchPrefetch.start(d, 3, 42, 0, 0, 8)) {
            for (int k = 0; k < 8; k++) {
                BatchSlot s = p.take();
                assertEquals(k / 3, s.epoch());
                assertEquals(k % 3, s.index());
                assertBatch(expected.get(k), s, d);
                s.release();
            }
            IllegalStateException past = assertThrows(IllegalStateException.class, p::take);
            assertTrue(past.getMessage().contains("all 8 planned batches"), past.getMessage());
        }
    }

    /** A run resumed at batch 2 of epoch 1 gets the batches the uninterrupted run had from there; also at an epoch's end. */
    @Test
    void aResumedRunGetsTheUninterruptedRunsBatches() {
        TableDataset d = numbered(10);
        List<int[]> expected = expectedBatches(10, 3, 9, 4);
        for (int[] at : new int[][] {{1, 2}, {1, 3}, {0, 0}, {2, 1}}) {
            int first = at[0] * 3 + at[1];
            try (SpscBatchPrefetch p = SpscBatchPrefetch.start(d, 3, 9, at[0], at[1], expected.size() - first)) {
                for (int k = first; k < expected.size(); k++) {
                    BatchSlot s = p.take();
                    assertEquals(k / 3, s.epoch(), "batch " + k + " from " + at[0] + "/" + at[1]);
                    assertEquals(k % 3, s.index());
                    assertBatch(expected.get(k), s, d);
                    p.release(s);
                }
            }
        }
    }

    @Test
    void regressionBatchesCarryTargets() {
        TableDataset d = SyntheticRegression.generate(20, 4, 2, 0.1, 3).dataset();
        int[] order = new int[20];
        SpscBatchPrefetch.shuffle(order, 5);
        try (SpscBatchPrefetch p = SpscBatchPrefetch.start(d, 6, 5, 0, 0, 3)) {
            for (int b = 0; b < 3; b++) {
                BatchSlot s = p.take();
                assertEquals(0, s.labels.length);
                assertEquals(6 * 2, s.targets.length);
                for (int r = 0; r < 6; r++) {
                    float[] x = new float[4], y = new float[2];
                    d.features(order[b * 6 + r], x, 0);
                    d.target(order[b * 6 + r], y, 0);
                    for (int k = 0; k < 4; k++) assertEquals(x[k], s.features[r * 4 + k]);
                    for (int k = 0; k < 2; k++) assertEquals(y[k], s.targets[r * 2 + k]);
                }
                s.release();
            }
        }
    }

    /** A dataset whose reads throw for one sample: the loader's failure. */
    static Dataset failingAt(Dataset d, int badSample) {
        return new Dataset() {
            @Override public String name() { return "failing"; }
            @Override public String describe() { return "failing"; }
            @Override public int size() { return d.size(); }
            @Override public int featureDim() { return d.featureDim(); }
            @Override public int numClasses() { return d.numClasses(); }
            @Override public int targetDim() { return d.targetDim(); }
            @Override public int label(int sample) { return d.label(sample); }
            @Override public void target(int sample, float[] dst, int dstOff) { d.target(sample, dst, dstOff); }
            @Override public Dataset slice(int from, int to) { throw new UnsupportedOperationException(); }
            @Override public void features(int sample, float[] dst, int dstOff) {
                if (sample == badSample) throw new IllegalStateException("disk on fire (test)");
                d.features(sample, dst, dstOff);
            }
        };
    }

    /** The batches before the failure arrive whole; the one the loader could not fill throws, fast, with the cause. */
    @Test
    void aLoaderFailureReachesTheConsumerWithItsCause() {
        TableDataset d = numbered(40);
        List<int[]> expected = expectedBatches(40, 4, 1, 1);
        int badBatch = 6;
        Dataset failing = failingAt(d, expected.get(badBatch)[2]);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            try (SpscBatchPrefetch p = SpscBatchPrefetch.start(failing, 4, 1, 0, 0, 10)) {
                for (int k = 0; k < badBatch; k++) {
                    BatchSlot s = p.take();
                    assertBatch(expected.get(k), s, d);
                    s.release();
                }
                BatchLoaderFailure f = assertThrows(BatchLoaderFailure.class, p::take);
                assertTrue(f.getMessage().contains("failed filling batch 7 of epoch 1 of failing"), f.getMessage());
                assertInstanceOf(IllegalStateException.class, f.getCause());
                assertEquals("disk on fire (test)", f.getCause().getMessage());
            }
        });
    }

    /** close() with a loader parked on a full ring, and with one that has not been consumed from at all, returns at once. */
    @Test
    void closeStopsALoaderWaitingForAFreeSlot() {
        TableDataset d = numbered(1000);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            SpscBatchPrefetch p = SpscBatchPrefetch.start(d, 10, 1, 0, 0, 1_000_000);
            BatchSlot s = p.take(); // the loader fills the other 3 slots, then parks
            s.release();
            Thread.sleep(50);
            Thread loader = loaderThread();
            long t0 = System.nanoTime();
            p.close();
            assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "close within a second");
            assertFalse(loader != null && loader.isAlive(), "loader thread ended");
            p.close(); // idempotent
            assertThrows(IllegalStateException.class, p::take);
        });
    }

    private static Thread loaderThread() {
        for (Thread t : Thread.getAllStackTraces().keySet()) if (t.getName().equals("forkprop-loader") && t.isAlive()) return t;
        return null;
    }

    @Test
    void misuseIsCaught() throws Exception {
        TableDataset d = numbered(20);
        try (SpscBatchPrefetch p = SpscBatchPrefetch.start(d, 2, 1, 0, 0, 5)) {
            BatchSlot s = p.take();
            assertThrows(IllegalStateException.class, p::take, "take before release");
            CompletableFuture<Void> other = CompletableFuture.runAsync(() -> p.release(s));
            ExecutionException ex = assertThrows(ExecutionException.class, other::get);
            assertTrue(ex.getCause().getMessage().contains("single consumer"), ex.getCause().toString());
            s.release();
            assertThrows(IllegalStateException.class, s::release, "released twice");
            BatchSlot t = p.take();
            assertSame(t, t); // the next slot is handed out after a release
            t.release();
        }
        assertThrows(IllegalArgumentException.class, () -> new SpscBatchPrefetch(d, 2, 1, 0, 0, 5, 3));
        assertThrows(IllegalArgumentException.class, () -> new SpscBatchPrefetch(d, 21, 1, 0, 0, 5, 4));
        assertThrows(IllegalArgumentException.class, () -> new SpscBatchPrefetch(d, 2, 1, 0, 11, 5, 4));
    }

    /** Steady state: take and release allocate nothing on the consumer, and filling nothing on the loader, across epochs. */
    @Test
    void takeReleaseAndTheLoaderAllocateNothing() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        TableDataset d = numbered(256);
        // 16 batches an epoch: each round of 1,000 batches crosses ~60 epoch boundaries (a shuffle each).
        try (SpscBatchPrefetch p = SpscBatchPrefetch.start(d, 16, 3, 0, 0, 20_000)) {
            for (int k = 0; k < 5_000; k++) p.take().release(); // warm-up: JIT
            long me = Thread.currentThread().threadId(), loader = loaderThread().threadId();
            StringBuilder rounds = new StringBuilder();
            long best = Long.MAX_VALUE;
            for (int round = 0; round < 5 && best != 0; round++) {
                long before = Math.max(0, mx.getThreadAllocatedBytes(me)) + Math.max(0, mx.getThreadAllocatedBytes(loader));
                for (int k = 0; k < 1_000; k++) p.take().release();
                long bytes = Math.max(0, mx.getThreadAllocatedBytes(me)) + Math.max(0, mx.getThreadAllocatedBytes(loader)) - before;
                best = Math.min(best, bytes);
                rounds.append(bytes).append(' ');
            }
            assertEquals(0, best, "bytes allocated per 1,000 batches on the consumer and loader threads, by round: " + rounds);
        }
    }
}
