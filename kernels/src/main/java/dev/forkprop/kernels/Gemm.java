package dev.forkprop.kernels;

/**
 * General matrix multiply on row-major {@code float[]} with offsets and leading dimensions:
 * {@code C = alpha * op(A) * op(B) + beta * C}, where {@code op(X)} is {@code X} or {@code X^T}.
 *
 * <p>Shapes (all row-major): {@code op(A)} is {@code [m, k]}, {@code op(B)} is {@code [k, n]},
 * {@code C} is {@code [m, n]} with {@code ldc >= n}. Stored {@code A} is {@code [m, k]} with
 * {@code lda >= k} when not transposed, {@code [k, m]} with {@code lda >= m} when transposed;
 * likewise stored {@code B} is {@code [k, n]} ({@code ldb >= n}) or {@code [n, k]} ({@code ldb >= k}).
 * The three products of a dense layer are {@code Y = X*W} (NN), {@code dW = X^T*dY} (TN) and
 * {@code dX = dY*W^T} (NT).
 *
 * <p>Contract for every implementation:
 * <ul>
 *   <li>{@code beta == 0} overwrites {@code C}: whatever {@code C} held (NaN included) is
 *       not read.</li>
 *   <li>{@code k == 0} scales {@code C} by {@code beta}; {@code m == 0} or {@code n == 0} is a
 *       no-op.</li>
 *   <li>{@code C} must not alias {@code A} or {@code B}; {@code A} and {@code B} may alias.</li>
 *   <li>Single-threaded: a call runs on the calling thread and never spawns threads.</li>
 *   <li>Allocates nothing: scratch space comes from the caller's {@link GemmWorkspace}, which
 *       must be confined to one thread at a time (one workspace per worker).</li>
 * </ul>
 */
public interface Gemm {

    /** {@code C = alpha * op(A) * op(B) + beta * C}; see the interface contract. */
    void gemm(boolean transA, boolean transB, int m, int n, int k,
              float alpha, float[] a, int aOff, int lda,
              float[] b, int bOff, int ldb,
              float beta, float[] c, int cOff, int ldc,
              GemmWorkspace ws);

    /*
     * Pre-packed B. A layer's weights are the B operand of two products per step (Y = X*W and
     * dX = dY*W^T), for every shard; packing them once per step into the kernel's panel layout,
     * and sharing the packed copy read-only between workers, takes the packing (a transpose for
     * W^T) out of every shard's products. Packing is split by column ranges so that workers can
     * pack disjoint parts in parallel. The defaults store op(B) row-major ([k, n], ld = n) and
     * multiply with the ordinary gemm; fast kernels override all four methods together.
     */

    /** Floats that {@link #packB} needs for {@code op(B): [k, n]}. */
    default long packedBSize(int k, int n) {
        return (long) k * n;
    }

    /** Column granularity of {@link #packB}: {@code n0} and {@code n1} must be multiples of it (or n). */
    default int packBAlign() {
        return 1;
    }

    /**
     * Packs columns {@code [n0, n1)} of {@code op(B): [k, n]} into {@code packed} at {@code pOff}
     * (the whole packed operand starts there; the layout is the implementation's). Packing every
     * column range of a partition of {@code [0, n)}, in any order or on any threads, gives the
     * same packed operand.
     */
    default void packB(boolean transB, int k, int n, int n0, int n1, float[] b, int bOff, int ldb,
                       float[] packed, int pOff) {
        for (int p = 0; p < k; p++) {
            for (int j = n0; j < n1; j++) {
                packed[pOff + p * n + j] = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
            }
        }
    }

    /**
     * Packs rows {@code [k0, k1)} of an untransposed {@code B: [k, n]}, every column, into the
     * packed operand at {@code pOff}: exactly the values {@link #packB}{@code (false, k, n, 0, n, ...)}
     * writes for those rows. Packing every row range of a partition of {@code [0, k)}, in any order
     * or on any threads, gives the same packed operand as {@code packB}. (So whoever has just
     * written some rows of a weight matrix can pack them while they are in its cache.)
     */
    default void packBRows(int k, int n, int k0, int k1, float[] b, int bOff, int ldb, float[] packed, int pOff) {
        checkPackRows(k, n, k0, k1, b, bOff, ldb, packed, pOff, packedBSize(k, n));
        for (int p = k0; p < k1; p++) {
            for (int j = 0; j < n; j++) packed[pOff + p * n + j] = b[bOff + p * ldb + j];
        }
    }

    /** The checks of {@link #packBRows}: a row range inside {@code [0, k)}, B and the packed operand in bounds. */
    static void checkPackRows(int k, int n, int k0, int k1, float[] b, int bOff, int ldb, float[] packed, int pOff,
                              long packedSize) {
        if (k0 < 0 || k1 > k || k0 > k1) {
            throw new IllegalArgumentException("packBRows rows [" + k0 + ", " + k1 + ") outside [0, " + k + ")");
        }
        checkMatrix("B", b, bOff, ldb, k, n);
        if (pOff < 0 || pOff + packedSize > packed.length) {
            throw new IllegalArgumentException("packed B needs " + packedSize + " floats at " + pOff
                    + ", array has " + packed.length);
        }
    }

    /**
     * {@code C = alpha * op(A) * B + beta * C} with {@code B} pre-packed by {@link #packB} for the
     * same {@code k} and {@code n}: bitwise equal to the matching {@link #gemm} call.
     */
    default void gemmPacked(boolean transA, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                            float[] packed, int pOff, float beta, float[] c, int cOff, int ldc,
                            GemmWorkspace ws) {
        gemm(transA, false, m, n, k, alpha, a, aOff, lda, packed, pOff, Math.max(1, n), beta, c, cOff, ldc, ws);
    }

    /** Short name used by flags, benchmarks and logs, e.g. {@code "vector"}. */
    String name();

    /** A workspace large enough for any call of this implementation; allocate once per thread. */
    GemmWorkspace newWorkspace();

    /** Checks the arguments shared by all implementations; throws IllegalArgumentException. */
    static void checkArgs(boolean transA, boolean transB, int m, int n, int k,
                          float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative size m=" + m + " n=" + n + " k=" + k);
        }
        if (m == 0 || n == 0) return;
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        checkMatrix("A", a, aOff, lda, aRows, aCols);
        checkMatrix("B", b, bOff, ldb, bRows, bCols);
        checkMatrix("C", c, cOff, ldc, m, n);
    }

    /** Checks that {@code x} holds a row-major {@code [rows, cols]} view at {@code off} with {@code ld}. */
    static void checkMatrix(String name, float[] x, int off, int ld, int rows, int cols) {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) {
            throw new IllegalArgumentException(name + ": leading dimension " + ld + " < columns " + cols);
        }
        long last = off + (long) (rows - 1) * ld + cols;
        if (off < 0 || last > x.length) {
            throw new IllegalArgumentException(name + ": [" + rows + "x" + cols + "] at offset " + off
                    + " with ld " + ld + " needs " + last + " elements, array has " + x.length);
        }
    }
}
