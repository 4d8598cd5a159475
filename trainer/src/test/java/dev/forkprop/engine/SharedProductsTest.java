package dev.forkprop.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.model.DelegatingGemm;
import dev.forkprop.model.Network;
import dev.forkprop.model.Init;
import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.GemmWorkspace;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.kernels.ScalarGemm;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A shard's products computed in chunks, by the owner alone or with a helper thread, give exactly
 * the bits of the plain product, for awkward shapes (1, primes, chunks that do not divide the
 * rows); a helper's failure stops the owner instead of leaving it waiting.
 */
class SharedProductsTest {

    private static final int[][] SHAPES = {{1, 1, 1}, {13, 7, 29}, {37, 65, 101}, {64, 33, 10}, {100, 1, 17}, {29, 71, 300}};

    @Test
    void chunksAloneAreBitwiseThePlainProduct() {
        for (Gemm g : new Gemm[] {Gemms.best(), ScalarGemm.INSTANCE}) {
            for (int align : new int[] {1, 12}) {
                SharedProducts board = new SharedProducts(1 << 16, 1, align); // as many chunks as rows allow
                for (int[] s : SHAPES) {
                    Product p = new Product(g, s[0], s[1], s[2], new SplittableRandom(s[0] * 31L + s[2]));
                    p.runShared(board, g.newWorkspace());
                    p.assertBitwise(g.name() + " align " + align);
                }
            }
        }
    }

    @Test
    void chunkSizesFollowTheWork() {
        SharedProducts board = new SharedProducts(0, SharedProducts.MIN_CHUNK_FLOPS, SharedProducts.ROW_ALIGN);
        assertTrue(board.chunkRows(16, 100, 784) >= 16, "784-100-10 at batch 32, 2 shards: one chunk");
        assertEquals(12, board.chunkRows(128, 1024, 784), "784-1024-1024-10 at batch 256, 2 shards: 11 chunks of the first forward");
        assertEquals(36, board.chunkRows(784, 1024, 128), "its first dW: 22 chunks");
        assertEquals(24, board.chunkRows(64, 256, 784), "784-256-256-10 at batch 128, 2 shards: 3 chunks of the first forward");
        assertTrue(board.chunkRows(8191, 1, 1) >= 8191, "a small product is one chunk");
        assertTrue(new SharedProducts(0, 1, 1).chunkRows(100_000, 10, 10) >= 100_000 / 4095, "never more chunks than the claim word holds");
    }

    /**
     * The owner's kernel calls are slowed, so a helper thread takes chunks of most products, and
     * every third of the helper's chunks is slower still, so the owner runs out of chunks before
     * the helper's is done: the bits are still the plain product's, over a run of products of
     * different shapes (an owner that returned before the helper's rows were written, or a helper
     * that took a chunk of an earlier job with a later job's operands, would show).
     */
    @Test
    void helperChangesNoBit() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            Gemm plain = Gemms.best();
            Thread owner = Thread.currentThread();
            Gemm slowOwner = DelegatingGemm.around(plain, () -> {
                if (Thread.currentThread() == owner) sleep(1);
            });
            SharedProducts board = new SharedProducts(1 << 16, 1, 4);
            AtomicInteger helped = new AtomicInteger();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            int[] calls = {0}; // the helper thread's only
            Gemm sometimesSlowHelper = DelegatingGemm.around(plain, () -> {
                if (calls[0]++ % 3 == 0) sleep(3); // the owner runs out of chunks before this one is done
            });
            Thread helper = new Thread(() -> {
                GemmWorkspace ws = plain.newWorkspace();
                try {
                    while (!board.finished(1)) {
                        if (board.help(sometimesSlowHelper, ws)) helped.incrementAndGet();
                        else Thread.onSpinWait();
                    }
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            helper.start();
            GemmWorkspace ws = plain.newWorkspace();
            SplittableRandom rnd = new SplittableRandom(3);
            try {
                for (int round = 0; round < 20; round++) {
                    for (int[] s : SHAPES) {
                        Product p = new Product(plain, s[0], s[1], s[2], rnd);
                        p.runShared(board, ws, slowOwner);
                        p.assertBitwise("round " + round);
                    }
                }
            } finally {
                board.finish(1);
                helper.join();
            }
            assertEquals(null, failed.get());
            assertTrue(helped.get() > 20, "the helper computed " + helped.get() + " chunks");
        });
    }

    /** A helper whose chunk throws makes the owner throw with that cause, instead of waiting for the chunk. */
    @Test
    void helperFailureStopsTheOwner() {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            Gemm plain = Gemms.best();
            Thread owner = Thread.currentThread();
            Gemm failsInHelper = DelegatingGemm.around(plain, () -> {
                if (Thread.currentThread() != owner) throw new IllegalStateException("helper broke");
                sleep(2); // the owner is slow: the helper gets a chunk
            });
            SharedProducts board = new SharedProducts(1 << 16, 1, 1);
            AtomicReference<Throwable> helperSaw = new AtomicReference<>();
            Thread helper = new Thread(() -> {
                GemmWorkspace ws = plain.newWorkspace();
                try {
                    while (!board.finished(1)) board.help(failsInHelper, ws);
                } catch (Throwable t) {
                    helperSaw.set(t);
                }
            });
            helper.start();
            Product p = new Product(plain, 40, 16, 16, new SplittableRandom(1));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> p.runShared(board, plain.newWorkspace(), failsInHelper));
            board.finish(1);
            helper.join();
            assertTrue(e.getMessage().contains("a helping worker failed"), e.getMessage());
            assertEquals("helper broke", e.getCause().getMessage());
            assertEquals("helper broke", helperSaw.get().getMessage(), "the helper's own failure is rethrown to it");
        });
    }

    /**
     * An owner whose own chunk throws leaves no chunk of that job to claim: a helper in a later
     * step would otherwise compute it into arrays that are in use again. The board then works.
     */
    @Test
    void ownerFailureClosesTheJob() {
        Gemm plain = Gemms.best();
        int[] calls = {0};
        Gemm failsSecond = DelegatingGemm.around(plain, () -> {
            if (++calls[0] == 2) throw new IllegalStateException("owner broke");
        });
        SharedProducts board = new SharedProducts(1 << 16, 1, 1);
        Product p = new Product(plain, 40, 16, 16, new SplittableRandom(1));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.runShared(board, plain.newWorkspace(), failsSecond));
        assertEquals("owner broke", e.getMessage());
        assertTrue(!board.help(plain, plain.newWorkspace()), "a chunk of the failed job was still claimable");
        board.finish(1);
        board.begin();
        Product next = new Product(plain, 40, 16, 16, new SplittableRandom(2));
        next.runShared(board, plain.newWorkspace());
        next.assertBitwise("after a failure");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** An NN product through packed B and a TN product (dW = X^T dY), with their plain results. */
    private static final class Product {
        final int m, n, k;
        final float[] a, aT, b, packed, c, cTN, want, wantTN;
        final Gemm g;

        Product(Gemm g, int m, int n, int k, SplittableRandom rnd) {
            this.g = g;
            this.m = m;
            this.n = n;
            this.k = k;
            a = random(rnd, m * k);
            aT = random(rnd, k * m);
            b = random(rnd, k * n);
            packed = new float[(int) g.packedBSize(k, n)];
            g.packB(false, k, n, 0, n, b, 0, n, packed, 0);
            c = new float[m * n];
            cTN = new float[m * n];
            want = new float[m * n];
            wantTN = new float[m * n];
            GemmWorkspace ws = g.newWorkspace();
            g.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, want, 0, n, ws);
            g.gemm(true, false, m, n, k, 1f, aT, 0, m, b, 0, n, 0f, wantTN, 0, n, ws);
            java.util.Arrays.fill(c, Float.NaN);
            java.util.Arrays.fill(cTN, Float.NaN);
        }

        void runShared(SharedProducts board, GemmWorkspace ws) {
            runShared(board, ws, g);
        }

        void runShared(SharedProducts board, GemmWorkspace ws, Gemm ownerGemm) {
            board.gemmPacked(ownerGemm, ws, false, m, n, k, a, 0, k, packed, 0, c, 0, n);
            board.gemmTN(ownerGemm, ws, m, n, k, aT, 0, m, b, 0, n, cTN, 0, n);
        }

        void assertBitwise(String what) {
            for (int i = 0; i < m * n; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(c[i]),
                        what + ": NN " + m + "x" + n + "x" + k + " C[" + i / n + "," + i % n + "]");
                assertEquals(Float.floatToRawIntBits(wantTN[i]), Float.floatToRawIntBits(cTN[i]),
                        what + ": TN " + m + "x" + n + "x" + k + " C[" + i / n + "," + i % n + "]");
            }
        }

        private static float[] random(SplittableRandom rnd, int len) {
            float[] x = new float[len];
            for (int i = 0; i < len; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
            return x;
        }
    }
}
