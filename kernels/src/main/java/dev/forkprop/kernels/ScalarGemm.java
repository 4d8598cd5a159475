package dev.forkprop.kernels;

/**
 * Portable cache-blocked GEMM in plain Java: {@code C = alpha * op(A) * op(B) + beta * C}
 * (contract in {@link Gemm}). The fallback when the Vector API is missing or too narrow.
 *
 * <p>Any thread may call it with its own {@link GemmWorkspace}; a call runs on the calling thread
 * and allocates nothing (packed blocks and the row accumulator live in the workspace). Memory
 * consistency effects: none beyond those of plain array writes; the caller publishes {@code C}.
 *
 * <p>It is deliberately simple: packed, cache-blocked, with a contiguous multiply-add over rows
 * of packed B as its inner loop, and no hand register blocking. It is not the fast path;
 * {@link VectorGemm} is (see the design notes for why C2 25 leaves this loop scalar).
 */
public final class ScalarGemm implements Gemm {

    /*
     * Design notes.
     *
     *   for jc in n step NC
     *     for pc in k step KC
     *       pack op(B)[pc:pc+kc, jc:jc+nc] -> packB [kc][nc] row-major    (stays in L2)
     *       for ic in m step MC
     *         pack op(A)[ic:ic+mc, pc:pc+kc] -> packA [mc][kc] row-major
     *         for i in mc:       acc[0:nc] = sum_p A[i,p] * B[p, 0:nc]   (acc: [nc], L1)
     *                            C[i, jc:jc+nc] = alpha*acc + beta*C    (beta = 1 after pc = 0)
     *
     * The p loop is unrolled by 4 so that each pass over acc does four multiply-adds per load and
     * store of acc. Packing absorbs the transposes.
     *
     * Measured on JDK 25.0.3 / Zen 5 (AVX-512): C2's SuperWord does NOT vectorize this j loop,
     * nor the plain axpy {@code acc[accOff + j] += a * pb[bo + j]}: acc and pb are both float[]
     * that could be the same array, and with two different loop-invariant offsets C2 25 cannot
     * prove the distance safe (it vectorizes only when the store and the loads share one index
     * expression; runtime alias checks arrive after JDK 25). Standalone: axpy with distinct
     * variable offsets 7 GFLOPS, with identical offsets 29 GFLOPS. So this kernel runs scalar:
     * about 9-10 GFLOPS for the dense-layer shapes, against 7 for the non-unrolled axpy form. It
     * is the fallback; VectorGemm is the fast path.
     */

    /** Reduction depth of a packed block (a packed A row of 1 KiB). Not tuned: scalar-bound. */
    static final int KC = 256;
    /** Rows of op(A) per packed block: 64 KiB of packed A. Not tuned: scalar-bound. */
    static final int MC = 64;
    /** Columns of op(B) per packed block: KC x NC floats of B = 512 KiB, half of a 1 MiB L2. */
    static final int NC = 512;

    /** Floats of packA: one MC x KC block, then the NC-float row accumulator. */
    static final int PACK_A_SIZE = MC * KC + NC;
    /** Floats of packB: one KC x NC block. */
    static final int PACK_B_SIZE = KC * NC;

    public static final ScalarGemm INSTANCE = new ScalarGemm();

    private ScalarGemm() {}

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public GemmWorkspace newWorkspace() {
        return new GemmWorkspace(PACK_A_SIZE, PACK_B_SIZE);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k,
                     float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc,
                     GemmWorkspace ws) {
        Gemm.checkArgs(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0) {
            VectorGemm.scaleC(m, n, beta, c, cOff, ldc);
            return;
        }
        final float[] pa = ws.packA;   // [mc][kc] block, then acc [NC]
        final float[] pb = ws.packB;   // [kc][nc] block
        final int kcMax = Math.min(k, KC), ncMax = Math.min(n, NC);
        long needA = (long) Math.min(m, MC) * kcMax + ncMax;
        long needB = (long) kcMax * ncMax;
        if (pa.length < needA || pb.length < needB) {
            throw new IllegalArgumentException("workspace too small for scalar GEMM: packA "
                    + pa.length + " < " + needA + " or packB " + pb.length + " < " + needB
                    + "; use ScalarGemm.newWorkspace()");
        }
        final int accOff = pa.length - ncMax;
        for (int jc = 0; jc < n; jc += NC) {
            final int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                final int kc = Math.min(KC, k - pc);
                final float betaBlock = pc == 0 ? beta : 1f;
                packB(transB, b, bOff, ldb, pc, kc, jc, nc, pb);
                for (int ic = 0; ic < m; ic += MC) {
                    final int mc = Math.min(MC, m - ic);
                    packA(transA, a, aOff, lda, ic, mc, pc, kc, pa);
                    for (int i = 0; i < mc; i++) {
                        rowTimesBlock(kc, nc, pa, i * kc, pb, pa, accOff);
                        storeRow(nc, alpha, betaBlock, pa, accOff, c, cOff + (ic + i) * ldc + jc);
                    }
                }
            }
        }
    }

    /**
     * {@code acc[0:nc] = sum_p a[p] * B[p, 0:nc]} with {@code a = pa[ao : ao+kc]} and {@code B}
     * the packed block {@code [kc][nc]}.
     */
    static void rowTimesBlock(int kc, int nc, float[] pa, int ao, float[] pb, float[] acc, int accOff) {
        java.util.Arrays.fill(acc, accOff, accOff + nc, 0f);
        int p = 0;
        for (; p + 3 < kc; p += 4) {
            final float a0 = pa[ao + p], a1 = pa[ao + p + 1], a2 = pa[ao + p + 2], a3 = pa[ao + p + 3];
            final int b0 = p * nc, b1 = b0 + nc, b2 = b1 + nc, b3 = b2 + nc;
            for (int j = 0; j < nc; j++) {
                acc[accOff + j] += a0 * pb[b0 + j] + a1 * pb[b1 + j] + a2 * pb[b2 + j] + a3 * pb[b3 + j];
            }
        }
        for (; p < kc; p++) {
            final float a0 = pa[ao + p];
            final int b0 = p * nc;
            for (int j = 0; j < nc; j++) acc[accOff + j] += a0 * pb[b0 + j];
        }
    }

    /** {@code C[0:nc] = alpha * acc + beta * C}, not reading C when {@code beta == 0}. */
    static void storeRow(int nc, float alpha, float beta, float[] acc, int accOff, float[] c, int ci) {
        if (beta == 0f) {
            for (int j = 0; j < nc; j++) c[ci + j] = alpha * acc[accOff + j];
        } else {
            for (int j = 0; j < nc; j++) c[ci + j] = alpha * acc[accOff + j] + beta * c[ci + j];
        }
    }

    /** Packs {@code op(B)[pc:pc+kc, jc:jc+nc]} into {@code pb} as {@code [kc][nc]} row-major. */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc,
                      float[] pb) {
        if (!transB) {
            for (int p = 0; p < kc; p++) System.arraycopy(b, bOff + (pc + p) * ldb + jc, pb, p * nc, nc);
        } else {
            // B stored [n, k]: op(B)[p, j] = B[j, p]; read rows of B, write columns of the block.
            for (int j = 0; j < nc; j++) {
                final int src = bOff + (jc + j) * ldb + pc;
                for (int p = 0; p < kc; p++) pb[p * nc + j] = b[src + p];
            }
        }
    }

    /** Packs {@code op(A)[ic:ic+mc, pc:pc+kc]} into {@code pa} as {@code [mc][kc]} row-major. */
    static void packA(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc,
                      float[] pa) {
        if (!transA) {
            for (int i = 0; i < mc; i++) System.arraycopy(a, aOff + (ic + i) * lda + pc, pa, i * kc, kc);
        } else {
            // A stored [k, m]: op(A)[i, p] = A[p, i]; read rows of A, write columns of the block.
            for (int p = 0; p < kc; p++) {
                final int src = aOff + (pc + p) * lda + ic;
                for (int i = 0; i < mc; i++) pa[i * kc + p] = a[src + i];
            }
        }
    }
}
