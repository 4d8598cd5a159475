package dev.forkprop.kernels;

/**
 * Per-thread scratch space for a {@link Gemm}: packed panels of A and B.
 *
 * <p>Not thread-safe by design: each worker owns one and passes it to every call, which is what
 * lets a GEMM call allocate nothing. Created by {@link Gemm#newWorkspace()}, sized once for the
 * implementation's largest blocks; a workspace made by one implementation may be passed to
 * another only if it is large enough (implementations check and throw otherwise).
 */
public final class GemmWorkspace {
    /** Packed panel of op(A); length fixed at construction. */
    final float[] packA;
    /** Packed panel of op(B); length fixed at construction. */
    final float[] packB;

    public GemmWorkspace(int packASize, int packBSize) {
        this.packA = new float[packASize];
        this.packB = new float[packBSize];
    }

    /** Bytes held by this workspace, for memory accounting. */
    public long bytes() {
        return 4L * (packA.length + packB.length);
    }
}
