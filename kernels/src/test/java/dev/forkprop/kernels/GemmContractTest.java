package dev.forkprop.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@link Gemm} contract, run against every fast implementation with {@link GemmReference} as
 * the oracle: exhaustive tiny shapes, primes, every block boundary of the implementation under
 * test, alpha/beta (beta == 0 over NaN), offsets and padded leading dimensions with a sentinel
 * check around the C view, aliased A/B, k == 0, and zero allocation per call.
 */
class GemmContractTest {

    /** Every implementation that must honour the contract, with its block sizes for edge tests. */
    static Stream<Gemm> impls() {
        return Stream.of(ScalarGemm.INSTANCE, VectorGemm.INSTANCE);
    }

    /** Values around which a dimension's handling changes: [m boundaries, n boundaries, k boundaries]. */
    static int[][] boundaries(Gemm g) {
        if (g instanceof VectorGemm) {
            int mr = VectorGemm.MR, nr = VectorGemm.NR, mc = VectorGemm.MC, kc = VectorGemm.KC, nc = VectorGemm.NC;
            int kMax = VectorGemm.KC_MAX; // one reduction block up to kMax, then equal blocks (kcStep)
            return new int[][] {
                {1, mr - 1, mr, mr + 1, 2 * mr + 1, mc - 1, mc, mc + 1, mc + mr + 1},
                {1, nr - 1, nr, nr + 1, 2 * nr + 1, nc - 1, nc, nc + 1},
                {1, 2, kc - 1, kc, kc + 1, kMax, kMax + 1, 784, 2 * kMax + 1}};
        }
        if (g instanceof ScalarGemm) {
            int mc = ScalarGemm.MC, kc = ScalarGemm.KC, nc = ScalarGemm.NC;
            return new int[][] {
                {1, 2, mc - 1, mc, mc + 1, 2 * mc + 1},
                {1, 3, nc - 1, nc, nc + 1, 2 * nc + 1},
                // k % 4 != 0 exercises the tail of the 4-way unrolled reduction.
                {1, 3, 4, 5, kc - 1, kc, kc + 1, 2 * kc + 3}};
        }
        throw new AssertionError("no block sizes known for " + g.name());
    }

    private static final boolean[] FT = {false, true};

    @ParameterizedTest @MethodSource("impls")
    void allTinyShapesAllTransposes(Gemm g) {
        GemmWorkspace ws = g.newWorkspace();
        SplittableRandom rnd = new SplittableRandom(1);
        for (int m = 0; m <= 4; m++) for (int n = 0; n <= 4; n++) for (int k = 0; k <= 4; k++)
            for (boolean ta : FT) for (boolean tb : FT) {
                check(g, ws, rnd, ta, tb, m, n, k, 1f, 0f, false);
                check(g, ws, rnd, ta, tb, m, n, k, -0.5f, 1.5f, true);
            }
    }

    @ParameterizedTest @MethodSource("impls")
    void primes(Gemm g) {
        GemmWorkspace ws = g.newWorkspace();
        SplittableRandom rnd = new SplittableRandom(2);
        int[] primes = {7, 13, 31, 97};
        for (int m : primes) for (int n : primes) for (int k : primes) {
            boolean ta = rnd.nextBoolean(), tb = rnd.nextBoolean();
            check(g, ws, rnd, ta, tb, m, n, k, 1f, 0f, rnd.nextBoolean());
        }
        for (boolean ta : FT) for (boolean tb : FT) check(g, ws, rnd, ta, tb, 97, 31, 13, 0.75f, -1f, true);
    }

    /**
     * Every boundary value of every dimension at least once (the other two dimensions drawn from
     * their own boundary lists), then random points of the cross product. A product costs the
     * reference m*n*k multiply-adds; cases above {@link #MAX_WORK} are redrawn to keep the class fast.
     */
    @ParameterizedTest @MethodSource("impls")
    void blockBoundaries(Gemm g) {
        GemmWorkspace ws = g.newWorkspace();
        SplittableRandom rnd = new SplittableRandom(3);
        int[][] b = boundaries(g);
        List<int[]> cases = new ArrayList<>();
        for (int d = 0; d < 3; d++) {
            for (int v : b[d]) {
                int[] mnk;
                do {
                    mnk = new int[] {pick(rnd, b[0]), pick(rnd, b[1]), pick(rnd, b[2])};
                    mnk[d] = v;
                } while ((long) mnk[0] * mnk[1] * mnk[2] > MAX_WORK);
                cases.add(mnk);
            }
        }
        for (int i = 0; i < 20; i++) {
            int[] mnk;
            do {
                mnk = new int[] {pick(rnd, b[0]), pick(rnd, b[1]), pick(rnd, b[2])};
            } while ((long) mnk[0] * mnk[1] * mnk[2] > MAX_WORK);
            cases.add(mnk);
        }
        for (int[] c : cases) {
            check(g, ws, rnd, rnd.nextBoolean(), rnd.nextBoolean(), c[0], c[1], c[2],
                    rnd.nextBoolean() ? 1f : 0.5f, rnd.nextBoolean() ? 0f : 1f, rnd.nextBoolean());
        }
    }

    /** 1.5e7 multiply-adds: about 0.05 s for the double-accumulating reference. */
    private static final long MAX_WORK = 15_000_000L;

    private static int pick(SplittableRandom rnd, int[] xs) {
        return xs[rnd.nextInt(xs.length)];
    }

    /** beta is applied once even when the reduction spans several KC blocks. */
    @ParameterizedTest @MethodSource("impls")
    void alphaBeta(Gemm g) {
        GemmWorkspace ws = g.newWorkspace();
        SplittableRandom rnd = new SplittableRandom(4);
        int kSpan = boundaries(g)[2][boundaries(g)[2].length - 1];   // more than two KC blocks
        float[] alphas = {1f, -0.5f, 2f, 0f};
        float[] betas = {0f, 1f, -1.5f, 0.25f};
        for (float alpha : alphas) for (float beta : betas) for (boolean ta : FT) for (boolean tb : FT) {
            check(g, ws, rnd, ta, tb, 37, 45, 29, alpha, beta, true);
            check(g, ws, rnd, ta, tb, 14, 35, kSpan, alpha, beta, false);
        }
    }

    @ParameterizedTest @MethodSource("impls")
    void kZeroScalesC(Gemm g) {
        GemmWorkspace ws = g.newWorkspace();
        SplittableRandom rnd = new SplittableRandom(5);
        for (boolean ta : FT) for (boolean tb : FT) {
            check(g, ws, rnd, ta, tb, 5, 6, 0, 1f, 0f, true);   // NaN C becomes 0
            check(g, ws, rnd, ta, tb, 5, 6, 0, 1f, 0.5f, true);
        }
    }

    /** A and B may be the same array: C = A * A^T with transB reading the same storage. */
    @ParameterizedTest @MethodSource("impls")
    void aAndBMayAlias(Gemm g) {
        int m = 45, k = 70, lda = 73;
        SplittableRandom rnd = new SplittableRandom(6);
        float[] a = randomArray(rnd, 3 + (m - 1) * lda + k);
        float[] want = new float[m * m], got = new float[m * m];
        GemmReference.INSTANCE.gemm(false, true, m, m, k, 1f, a, 3, lda, a, 3, lda, 0f, want, 0, m, null);
        g.gemm(false, true, m, m, k, 1f, a, 3, lda, a, 3, lda, 0f, got, 0, m, g.newWorkspace());
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-4f * k, "element " + i);
    }

    @ParameterizedTest @MethodSource("impls")
    void rejectsTooSmallWorkspace(Gemm g) {
        float[] a = new float[64 * 64], b = new float[64 * 64], c = new float[64 * 64];
        assertThrows(IllegalArgumentException.class, () ->
                g.gemm(false, false, 64, 64, 64, 1f, a, 0, 64, b, 0, 64, 0f, c, 0, 64, new GemmWorkspace(8, 8)));
    }

    /**
     * After warm-up, a call on the first dense layer's forward shape allocates nothing on this
     * thread. C2 scalar-replaces the FloatVector temporaries only once the kernel is compiled, so
     * the warm-up repeats until the JIT has settled (a bounded number of rounds).
     */
    @ParameterizedTest @MethodSource("impls")
    void noAllocationAfterWarmup(Gemm g) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        int m = 256, k = 784, n = 1024;
        SplittableRandom rnd = new SplittableRandom(7);
        float[] a = randomArray(rnd, m * k), b = randomArray(rnd, k * n), c = new float[m * n];
        GemmWorkspace ws = g.newWorkspace();
        long bytes = -1;
        for (int round = 0; round < 20 && bytes != 0; round++) {
            for (int i = 0; i < 5; i++) g.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n, ws);
            long probe0 = mx.getThreadAllocatedBytes(tid);
            long probe1 = mx.getThreadAllocatedBytes(tid);   // cost of the probe itself
            g.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n, ws);
            long after = mx.getThreadAllocatedBytes(tid);
            bytes = (after - probe1) - (probe1 - probe0);
        }
        assertEquals(0L, bytes, g.name() + " allocated per call after warm-up");
    }

    /**
     * An element of C does not depend on the shape of the product around it: any block of rows
     * and columns, computed as a product of its own, is bitwise the same block of the whole
     * product. The vector kernel runs narrower micro-kernels on ragged edges (1-4 and 5-8 rows, at
     * most one vector of columns), and a worker's shard is a block of the batch's rows, so this is
     * what keeps those kernels, and the shard size, from changing any bit.
     */
    @ParameterizedTest @MethodSource("impls")
    void blocksOfCAreBitwiseTheWholeProduct(Gemm g) {
        GemmWorkspace ws = g.newWorkspace();
        SplittableRandom rnd = new SplittableRandom(11);
        final int m = 29, n = 71;
        for (int k : new int[] {1, 7, 300, 784}) for (boolean ta : FT) for (boolean tb : FT) {
            int lda = ta ? m : k, ldb = tb ? k : n;
            float[] a = randomArray(rnd, (ta ? k : m) * lda), b = randomArray(rnd, (tb ? n : k) * ldb);
            float[] whole = new float[m * n];
            g.gemm(ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, whole, 0, n, ws);
            for (int rows = 1; rows <= 13; rows++) for (int cols : new int[] {1, 10, 16, 17, 33, n}) {
                int r0 = rnd.nextInt(m - rows + 1), c0 = rnd.nextInt(n - cols + 1);
                float[] part = new float[rows * cols];
                g.gemm(ta, tb, rows, cols, k, 1f, a, ta ? r0 : r0 * lda, lda, b, tb ? c0 * ldb : c0, ldb,
                        0f, part, 0, cols, ws);
                for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) {
                    assertEquals(Float.floatToRawIntBits(whole[(r0 + i) * n + c0 + j]), Float.floatToRawIntBits(part[i * cols + j]),
                            g.name() + (ta ? " T" : " N") + (tb ? "T" : "N") + " k=" + k + ": C[" + (r0 + i) + "," + (c0 + j)
                                    + "] computed in a " + rows + " x " + cols + " product");
                }
            }
        }
    }

    /**
     * Pre-packed B: packing a random partition of the columns (in shuffled order, as parallel
     * workers would) and then {@code gemmPacked} gives exactly the bits of the matching
     * {@code gemm}, over every block boundary of n and k, both storage orders of B, and A
     * transposed or not; and a packed operand can be reused for several A's.
     */
    @ParameterizedTest @MethodSource("impls")
    void prepackedBIsBitwiseEqualToGemm(Gemm g) {
        GemmWorkspace ws = g.newWorkspace();
        SplittableRandom rnd = new SplittableRandom(5);
        int[][] bounds = boundaries(g);
        int align = g.packBAlign();
        for (int n : bounds[1]) for (int k : bounds[2]) {
            if ((long) n * k > 600_000) continue;
            boolean tb = rnd.nextBoolean(), ta = rnd.nextBoolean();
            int ldb = (tb ? k : n) + rnd.nextInt(3), bOff = rnd.nextInt(5);
            float[] b = randomArray(rnd, bOff + (tb ? n : k) * ldb);
            int pOff = rnd.nextInt(9);
            float[] packed = new float[(int) (pOff + g.packedBSize(k, n)) + 4];
            java.util.Arrays.fill(packed, Float.NaN);   // every used slot must be written
            // A random partition of [0, n) into aligned column ranges, packed in reverse order.
            List<int[]> parts = new ArrayList<>();
            for (int n0 = 0; n0 < n; ) {
                int n1 = Math.min(n, n0 + align * (1 + rnd.nextInt(3)));
                parts.add(new int[] {n0, n1});
                n0 = n1;
            }
            for (int i = parts.size() - 1; i >= 0; i--) {
                g.packB(tb, k, n, parts.get(i)[0], parts.get(i)[1], b, bOff, ldb, packed, pOff);
            }
            for (int m : new int[] {1, 13, 97}) {
                int lda = (ta ? m : k) + 1;
                float[] a = randomArray(rnd, (ta ? k : m) * lda), want = new float[m * n + 2], got = new float[m * n + 2];
                g.gemm(ta, tb, m, n, k, 0.5f, a, 0, lda, b, bOff, ldb, 0f, want, 1, n, ws);
                g.gemmPacked(ta, m, n, k, 0.5f, a, 0, lda, packed, pOff, 0f, got, 1, n, ws);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                            g.name() + " packed " + (ta ? "T" : "N") + (tb ? "T" : "N") + " m=" + m + " n=" + n
                                    + " k=" + k + " element " + i);
                }
            }
        }
    }

    /**
     * Packing an untransposed B by row ranges (any partition of [0, k), in reverse order, as the
     * workers that updated those rows would) writes the same packed operand as packB over all
     * columns, padding included, over every block boundary of n and k.
     */
    @ParameterizedTest @MethodSource("impls")
    void packingByRowsIsThePackedOperand(Gemm g) {
        SplittableRandom rnd = new SplittableRandom(6);
        int[][] bounds = boundaries(g);
        for (int n : bounds[1]) for (int k : bounds[2]) {
            if ((long) n * k > 600_000) continue;
            int ldb = n + rnd.nextInt(3), bOff = rnd.nextInt(5), pOff = rnd.nextInt(9);
            float[] b = randomArray(rnd, bOff + k * ldb);
            int size = (int) (pOff + g.packedBSize(k, n)) + 4;
            float[] want = new float[size], got = new float[size];
            java.util.Arrays.fill(want, Float.NaN);
            java.util.Arrays.fill(got, Float.NaN);
            g.packB(false, k, n, 0, n, b, bOff, ldb, want, pOff);
            List<int[]> parts = new ArrayList<>();
            for (int k0 = 0; k0 < k; ) {
                int k1 = Math.min(k, k0 + 1 + rnd.nextInt(Math.max(1, k / 3)));
                parts.add(new int[] {k0, k1});
                k0 = k1;
            }
            for (int i = parts.size() - 1; i >= 0; i--) {
                g.packBRows(k, n, parts.get(i)[0], parts.get(i)[1], b, bOff, ldb, got, pOff);
            }
            for (int i = 0; i < size; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                        g.name() + " rows packed n=" + n + " k=" + k + " element " + i + " of " + parts.size() + " parts");
            }
        }
    }

    @ParameterizedTest @MethodSource("impls")
    void packBRowsRejectsRowsOutsideB(Gemm g) {
        float[] b = new float[64 * 64], packed = new float[(int) g.packedBSize(64, 64)];
        assertThrows(IllegalArgumentException.class, () -> g.packBRows(64, 64, -1, 3, b, 0, 64, packed, 0));
        assertThrows(IllegalArgumentException.class, () -> g.packBRows(64, 64, 5, 65, b, 0, 64, packed, 0));
        assertThrows(IllegalArgumentException.class, () -> g.packBRows(64, 64, 5, 4, b, 0, 64, packed, 0));
        assertThrows(IllegalArgumentException.class, () -> g.packBRows(64, 64, 0, 64, b, 0, 64, new float[10], 0));
    }

    @Test
    void reductionBlocksAreEqualAndBounded() {
        assertEquals(1, VectorGemm.kcStep(1));
        assertEquals(VectorGemm.KC_MAX, VectorGemm.kcStep(VectorGemm.KC_MAX));
        assertEquals(262, VectorGemm.kcStep(784)); // 262 + 262 + 260, not 256 x 3 + 16
        assertEquals(256, VectorGemm.kcStep(1024));
        for (int k = 1; k <= 5000; k++) {
            int step = VectorGemm.kcStep(k), blocks = (k + step - 1) / step;
            assertTrue(step <= VectorGemm.KC_MAX, "k=" + k);
            // The fewest blocks that fit, and the last one no more than one block count short.
            assertEquals((k + VectorGemm.KC_MAX - 1) / VectorGemm.KC_MAX, blocks, "k=" + k);
            assertTrue(k - (blocks - 1) * step >= step - blocks, "k=" + k);
        }
    }

    @Test
    void packBRejectsMisalignedColumns() {
        float[] b = new float[64 * 64], packed = new float[(int) VectorGemm.INSTANCE.packedBSize(64, 64)];
        assertThrows(IllegalArgumentException.class,
                () -> VectorGemm.INSTANCE.packB(false, 64, 64, 1, 64, b, 0, 64, packed, 0));
        assertThrows(IllegalArgumentException.class,
                () -> VectorGemm.INSTANCE.packB(false, 64, 64, 0, 64, b, 0, 64, new float[10], 0));
    }

    @Test
    void gemmsPicksAndNames() {
        assertSame(VectorGemm.INSTANCE, Gemms.byName("vector"));
        assertSame(ScalarGemm.INSTANCE, Gemms.byName("scalar"));
        assertSame(GemmReference.INSTANCE, Gemms.byName("reference"));
        assertThrows(IllegalArgumentException.class, () -> Gemms.byName("blas"));
        if (System.getProperty("forkprop.gemm") == null) {
            // Tests run with --add-modules jdk.incubator.vector; AVX2 or wider gives >= 256 bits.
            Gemm best = Gemms.best();
            assertTrue(best == VectorGemm.INSTANCE || VectorGemm.S.vectorBitSize() < 256, best.name());
        }
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * Runs one product with {@code g} and with the reference and compares. With {@code padded}, A, B
     * and C sit at nonzero offsets with leading dimensions wider than their rows, and every element
     * of C outside the view must keep its sentinel value.
     *
     * <p>Tolerance, per element: a float dot product of length k accumulated in any order (blocked,
     * FMA) differs from the exact one by at most {@code k*u*sum_p |a_ip*b_pj|} to first order
     * (u = 2^-24, Higham's gamma_k bound); scaling by alpha and adding beta*C round twice more. The
     * reference is exact up to one final rounding. So the bound is
     * {@code 2*(k+3)*u*(|alpha|*sum_p|a_ip*b_pj| + |beta*c_ij|)}, the factor 2 covering the
     * reference's own rounding and second-order terms, plus the smallest normal float for zeros.
     */
    static void check(Gemm g, GemmWorkspace ws, SplittableRandom rnd, boolean ta, boolean tb,
                      int m, int n, int k, float alpha, float beta, boolean padded) {
        int aRows = ta ? k : m, aCols = ta ? m : k;
        int bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + (padded ? 1 + rnd.nextInt(5) : 0);
        int ldb = bCols + (padded ? 1 + rnd.nextInt(5) : 0);
        int ldc = n + (padded ? 1 + rnd.nextInt(5) : 0);
        int aOff = padded ? 1 + rnd.nextInt(7) : 0, bOff = padded ? 1 + rnd.nextInt(7) : 0;
        int cOff = padded ? 1 + rnd.nextInt(7) : 0;
        float[] a = randomArray(rnd, aOff + Math.max(0, aRows * lda) + 3);
        float[] b = randomArray(rnd, bOff + Math.max(0, bRows * ldb) + 3);
        float[] c0 = new float[cOff + m * ldc + 3];
        final float sentinel = 12345.678f;
        java.util.Arrays.fill(c0, sentinel);
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
            c0[cOff + i * ldc + j] = beta == 0f ? Float.NaN : (float) (rnd.nextDouble() * 2 - 1);
        }
        float[] want = c0.clone(), got = c0.clone();
        GemmReference.INSTANCE.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, want, cOff, ldc, null);
        g.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, got, cOff, ldc, ws);
        String where = g.name() + (ta ? " T" : " N") + (tb ? "T" : "N") + " m=" + m + " n=" + n + " k=" + k
                + " alpha=" + alpha + " beta=" + beta + (padded ? " padded" : "");
        for (int idx = 0; idx < got.length; idx++) {
            int rel = idx - cOff;
            int i = rel >= 0 ? rel / Math.max(ldc, 1) : -1, j = rel >= 0 ? rel % Math.max(ldc, 1) : -1;
            boolean inView = rel >= 0 && i < m && j < n;
            if (!inView) {
                if (Float.floatToRawIntBits(got[idx]) != Float.floatToRawIntBits(sentinel)) {
                    fail(where + ": wrote outside the C view at index " + idx);
                }
                continue;
            }
            double absDot = 0;
            for (int p = 0; p < k; p++) {
                float av = ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                float bv = tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                absDot += Math.abs((double) av * bv);
            }
            double priorMag = beta == 0f ? 0 : Math.abs((double) beta * c0[idx]);
            double tol = 2.0 * (k + 3) * 0x1p-24 * (Math.abs(alpha) * absDot + priorMag) + Float.MIN_NORMAL;
            double err = Math.abs((double) got[idx] - want[idx]);
            if (!(err <= tol)) {   // also catches NaN leaking from C when beta == 0
                fail(where + ": C[" + i + "," + j + "] = " + got[idx] + ", reference " + want[idx]
                        + ", |err| " + err + " > tol " + tol);
            }
        }
    }

    static float[] randomArray(SplittableRandom rnd, int len) {
        float[] x = new float[len];
        for (int i = 0; i < len; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
        return x;
    }
}
