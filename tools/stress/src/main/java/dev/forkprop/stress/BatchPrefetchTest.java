package dev.forkprop.stress;

import dev.forkprop.data.BatchSlot;
import dev.forkprop.data.SpscBatchPrefetch;
import dev.forkprop.data.TableDataset;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Protocol 8, the batch prefetch: the production {@link SpscBatchPrefetch}. Its loader
 * ({@code runLoader}, here on an actor thread instead of its own) fills a {@link BatchSlot} in
 * place and publishes it; the consumer {@code take()}s it, reads it and {@code release()}s it,
 * which lets the loader refill it. The two bugs to rule out: the consumer reading a slot the
 * loader is still filling, and the loader overwriting a slot the consumer is still reading.
 *
 * <p>Six samples, batches of two, one epoch: three publications over a ring of two slots, so the
 * third reuses slot 0 and must wait until publication 1 is released. Sample i has the features
 * {@code {i+1, i+1, i+1, i+1}} and the label i. Result, per publication read: k when both rows are
 * whole and are the samples publication k should hold; 9 when a row's features disagree with its
 * label or the rows belong to different publications (half-filled or half-overwritten); another
 * k' when the slot held all of publication k'; 0 when the consumer found it not yet published.
 * r4: how many batches the loader published in its one non-blocking pass.
 */
public class BatchPrefetchTest {
    static final int SAMPLES = 6, BATCH = 2, FEATURES = 4, PUBLICATIONS = 3, RING = 2, TORN = 9;
    static final long SEED = 5;
    static final TableDataset DATA;
    /** EXPECTED[k][r]: the sample in row r of publication k + 1 (the epoch's shuffled order). */
    static final int[][] EXPECTED = new int[PUBLICATIONS][BATCH];

    static {
        float[] x = new float[SAMPLES * FEATURES];
        int[] labels = new int[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            labels[i] = i;
            for (int k = 0; k < FEATURES; k++) x[i * FEATURES + k] = i + 1;
        }
        DATA = TableDataset.classification("six", x, FEATURES, labels, SAMPLES);
        int[] order = new int[SAMPLES];
        SpscBatchPrefetch.shuffle(order, SEED); // epoch 0 uses seed + 0
        for (int k = 0; k < PUBLICATIONS; k++) System.arraycopy(order, k * BATCH, EXPECTED[k], 0, BATCH);
    }

    static SpscBatchPrefetch prefetch() {
        return new SpscBatchPrefetch(DATA, BATCH, SEED, 0, 0, PUBLICATIONS, RING);
    }

    /** Which publication (1-based) {@code s} holds whole, or {@link #TORN}. */
    static int read(BatchSlot s) {
        int publication = 0;
        for (int r = 0; r < BATCH; r++) {
            final int label = s.labels[r];
            for (int k = 0; k < FEATURES; k++) if (s.features[r * FEATURES + k] != label + 1) return TORN;
            int p = 0;
            for (int j = 0; j < PUBLICATIONS; j++) if (EXPECTED[j][r] == label) p = j + 1;
            if (p == 0 || (publication != 0 && p != publication)) return TORN;
            publication = p;
        }
        return publication;
    }

    static void record(IIII_Result r, int k, int v) {
        if (k == 0) r.r1 = v; else if (k == 1) r.r2 = v; else r.r3 = v;
    }

    /**
     * The loader actor: one non-blocking pass (tryLoadNext); r4 = batches published (2 when the
     * third claim found slot 0 still held). Neither actor waits for the other: two actors that
     * wait for each other run in lock-step through jcstress's strides, and a stride on a loaded
     * machine can outlive jcstress's 30 s limit (TIMEOUT, a hard error that says nothing about the
     * protocol). The production loop, runLoader, is tryLoadNext plus a bounded park.
     */
    static void load(SpscBatchPrefetch p, IIII_Result r) {
        int published = 0;
        while (published < PUBLICATIONS && p.tryLoadNext() == 1) published++;
        r.r4 = published;
    }

    @JCStressTest
    @Outcome(id = {"0, 0, 0, [23]", "1, 0, 0, [23]", "1, 2, 0, [23]", "1, 2, 3, 3"}, expect = ACCEPTABLE,
            desc = "Every publication taken was whole and in order (0: not published yet when the consumer looked).")
    @Outcome(id = ".*9.*", expect = FORBIDDEN, desc = "Torn batch: a half-filled slot, or one being overwritten while read.")
    @Outcome(id = "3, .*", expect = FORBIDDEN, desc = "Overwrite: the loader refilled slot 0 with publication 3 before publication 1 was released.")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: a lost, repeated or invented publication.")
    @State
    public static class Production {
        final SpscBatchPrefetch p = prefetch();

        @Actor
        public void loader(IIII_Result r) {
            load(p, r);
        }

        @Actor
        public void consumer(IIII_Result r) {
            for (int k = 0; k < PUBLICATIONS; k++) {
                BatchSlot s = p.tryTake();  // HB: the loader's fill -> publish -> take
                if (s == null) break;       // not published yet: 0 here and after
                record(r, k, read(s));
                s.release();                // HB: the reads above -> release -> the loader's claim of this slot
            }
        }
    }

    /**
     * Broken twin: the consumer releases each slot before reading it (a use after release), so the
     * loader may refill slot 0 with publication 3 while publication 1 is read. A missing gate, not
     * a reordering: x86 shows it.
     */
    @JCStressTest
    @Outcome(id = {"0, 0, 0, [23]", "1, 0, 0, [23]", "1, 2, 0, [23]", "1, 2, 3, 3"}, expect = ACCEPTABLE,
            desc = "The reads happened to finish before the loader refilled the slot.")
    @Outcome(id = "[39], .*", expect = ACCEPTABLE_INTERESTING, desc = "Publication 1 overwritten before or while being read (the bug, caught).")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: only slot 0's first publication is ever reused.")
    @State
    public static class BrokenReadAfterRelease {
        final SpscBatchPrefetch p = prefetch();

        @Actor
        public void loader(IIII_Result r) {
            load(p, r);
        }

        @Actor
        public void consumer(IIII_Result r) {
            for (int k = 0; k < PUBLICATIONS; k++) {
                BatchSlot s = p.tryTake();
                if (s == null) break;
                s.release();
                record(r, k, read(s));
            }
        }
    }

    /**
     * Broken twin: for publication 3 the consumer does not {@code take()} (which checks the ring's
     * cursor) but looks at the slot it already holds for the loader's position field to say batch
     * index 2, then reads it. The loader writes the position before the rows (no order within a
     * fill is promised: the published cursor is the only ready signal), so the rows may still be
     * publication 1's or half written. A protocol bug, visible on x86.
     */
    @JCStressTest
    @Outcome(id = {"0, 0, 0, [23]", "1, 0, 0, [23]", "1, 2, 0, [23]", "1, 2, 3, 3"}, expect = ACCEPTABLE,
            desc = "The rows happened to be complete when the position field was seen (0: not seen yet).")
    @Outcome(id = "1, 2, [19], 3", expect = ACCEPTABLE_INTERESTING, desc = "Publication 3 read before it was published: stale or half-filled (the bug, caught).")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: publications 1 and 2 are taken properly.")
    @State
    public static class BrokenReadBeforePublication {
        final SpscBatchPrefetch p = prefetch();

        @Actor
        public void loader(IIII_Result r) {
            load(p, r);
        }

        @Actor
        public void consumer(IIII_Result r) {
            BatchSlot s0 = p.tryTake();
            if (s0 == null) return;
            r.r1 = read(s0);
            s0.release();
            BatchSlot s1 = p.tryTake();
            if (s1 == null) return;
            r.r2 = read(s1);
            s1.release();
            if (s0.index() == 2) r.r3 = read(s0);   // the bug: the position field as the ready signal
        }
    }

    /**
     * Clean shutdown: a loader waiting for a free slot (the consumer took nothing; the ring is
     * full after two batches) ends after {@code close()}, through its bounded park. STALE would be
     * a run that hangs at exit on its loader.
     */
    @JCStressTest(Mode.Termination)
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "The loader returned after close().")
    @Outcome(id = "STALE", expect = FORBIDDEN, desc = "The loader kept waiting on the full ring after close().")
    @State
    public static class CloseEndsAWaitingLoader {
        final SpscBatchPrefetch p = new SpscBatchPrefetch(DATA, BATCH, SEED, 0, 0, 1_000_000, RING);

        @Actor
        public void loader() {
            p.runLoader();
        }

        @Signal
        public void close() {
            p.close();
        }
    }
}
