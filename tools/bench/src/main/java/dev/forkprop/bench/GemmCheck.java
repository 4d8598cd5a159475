package dev.forkprop.bench;

import dev.forkprop.kernels.GemmReference;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Checks a benchmarked product {@code C = op(A)*op(B)} against {@link GemmReference} before any
 * timing starts, so that a fast wrong kernel can never produce a GFLOPS number.
 *
 * <p>Small problems are checked whole. Large ones (where the double-accumulating reference would
 * take seconds per fork) are checked on whole rows: the first two, the middle, the last two and a
 * seeded random sample. A whole row reads every column of op(B), so column tails are covered, and
 * the first/last rows cover row tails of any blocking.
 *
 * <p>Tolerance: {@code |c - ref| <= 1e-6 * k} for operands in [-1, 1). A float dot product of
 * length k has a rounding error far below that (about {@code 2e-5} at k = 1024 when summed naively);
 * an indexing or tail bug gives errors of order 1. NaN fails (C is filled with NaN before the
 * call, so a kernel that reads C when beta == 0, or skips an element, is caught).
 */
public final class GemmCheck {
    /** Products up to this many multiply-adds are checked whole (about 0.1 s for the reference). */
    static final long WHOLE_CHECK_MAX_MACS = 1L << 26;
    /** Random rows checked in addition to the edge rows when the product is large. */
    static final int RANDOM_ROWS = 11;

    private GemmCheck() {}

    /**
     * Throws IllegalStateException naming the first wrong element if {@code c} ([m,n], ld = n) is
     * not {@code op(A)*op(B)} of the operands.
     */
    public static void verify(GemmOperands ops, float[] c, String impl) {
        GemmShape s = ops.shape;
        float tol = 1e-6f * s.k();
        float[] refRow = new float[s.n()];
        for (int i : rowsToCheck(s)) {
            // One row of op(A) starts at column i of stored A^T (transA) or at row i of stored A.
            int aOff = s.transA() ? i : i * s.lda();
            GemmReference.INSTANCE.gemm(s.transA(), s.transB(), 1, s.n(), s.k(), 1f, ops.a, aOff, s.lda(),
                    ops.b, 0, s.ldb(), 0f, refRow, 0, s.n(), null);
            for (int j = 0; j < s.n(); j++) {
                float got = c[i * s.ldc() + j];
                float want = refRow[j];
                if (!(Math.abs(got - want) <= tol)) { // written so that NaN fails
                    throw new IllegalStateException(String.format(Locale.ROOT,
                            "result check failed: %s on %s: C[%d,%d] = %s, reference %s (tolerance %.1e)",
                            impl, s.label(), i, j, got, want, tol));
                }
            }
        }
    }

    static TreeSet<Integer> rowsToCheck(GemmShape s) {
        TreeSet<Integer> rows = new TreeSet<>();
        long macs = (long) s.m() * s.n() * s.k();
        if (macs <= WHOLE_CHECK_MAX_MACS) {
            for (int i = 0; i < s.m(); i++) rows.add(i);
            return rows;
        }
        int m = s.m();
        for (int i : new int[] {0, 1, m / 2, m - 2, m - 1}) {
            if (i >= 0 && i < m) rows.add(i);
        }
        SplittableRandom rnd = new SplittableRandom(GemmOperands.SEED ^ m);
        for (int r = 0; r < RANDOM_ROWS; r++) rows.add(rnd.nextInt(m));
        return rows;
    }
}
