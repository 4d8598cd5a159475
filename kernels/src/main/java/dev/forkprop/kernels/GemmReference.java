package dev.forkprop.kernels;

/**
 * The naive triple loop: the oracle every fast kernel is tested against, and the fallback for
 * shapes where blocking does not pay. Accumulates each dot product in {@code double} so that it is
 * a tighter reference than any float kernel. Slow on purpose; never tuned.
 */
public final class GemmReference implements Gemm {

    public static final GemmReference INSTANCE = new GemmReference();

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k,
                     float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc,
                     GemmWorkspace ws) {
        Gemm.checkArgs(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    // op(A)[i,p] and op(B)[p,j]: a transpose swaps which index walks the row.
                    float av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    sum += (double) av * bv;
                }
                int ci = cOff + i * ldc + j;
                float prior = beta == 0f ? 0f : beta * c[ci];
                c[ci] = (float) (alpha * sum) + prior;
            }
        }
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public GemmWorkspace newWorkspace() {
        return new GemmWorkspace(0, 0);
    }
}
