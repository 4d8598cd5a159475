package dev.forkprop.model;

import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.GemmWorkspace;

/**
 * A kernel for tests that runs a hook ahead of every product and then the real kernel's: a slowed
 * core (a delay on some threads) or a failing one (a throw).
 */
public final class DelegatingGemm implements Gemm {
    private final Gemm g;
    private final Runnable before;

    private DelegatingGemm(Gemm g, Runnable before) {
        this.g = g;
        this.before = before;
    }

    /** {@code g}, with {@code before} run on the calling thread ahead of each {@code gemm} and {@code gemmPacked}. */
    public static Gemm around(Gemm g, Runnable before) {
        return new DelegatingGemm(g, before);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc, GemmWorkspace ws) {
        before.run();
        g.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, ws);
    }

    @Override
    public void gemmPacked(boolean transA, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                           float[] packed, int pOff, float beta, float[] c, int cOff, int ldc, GemmWorkspace ws) {
        before.run();
        g.gemmPacked(transA, m, n, k, alpha, a, aOff, lda, packed, pOff, beta, c, cOff, ldc, ws);
    }

    @Override public long packedBSize(int k, int n) { return g.packedBSize(k, n); }
    @Override public int packBAlign() { return g.packBAlign(); }

    @Override
    public void packB(boolean transB, int k, int n, int n0, int n1, float[] b, int bOff, int ldb, float[] packed, int pOff) {
        g.packB(transB, k, n, n0, n1, b, bOff, ldb, packed, pOff);
    }

    @Override
    public void packBRows(int k, int n, int k0, int k1, float[] b, int bOff, int ldb, float[] packed, int pOff) {
        g.packBRows(k, n, k0, k1, b, bOff, ldb, packed, pOff);
    }

    @Override public String name() { return g.name(); }
    @Override public GemmWorkspace newWorkspace() { return g.newWorkspace(); }
}
