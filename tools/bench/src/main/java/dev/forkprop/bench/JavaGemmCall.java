package dev.forkprop.bench;

import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.GemmWorkspace;
import java.util.Arrays;

/** A {@link GemmCall} on one of our Java kernels: heap arrays and a workspace made once. */
final class JavaGemmCall implements GemmCall {
    private final Gemm gemm;
    private final GemmWorkspace ws;
    private final GemmShape s;
    private final float[] a; // stored A, ld = s.lda()
    private final float[] b; // stored B, ld = s.ldb()
    private final float[] c; // C: [m,n], ld = n

    JavaGemmCall(Gemm gemm, GemmOperands ops) {
        this.gemm = gemm;
        this.ws = gemm.newWorkspace();
        this.s = ops.shape;
        this.a = ops.a.clone();
        this.b = ops.b.clone();
        this.c = new float[s.cLength()];
        Arrays.fill(c, Float.NaN);
    }

    @Override
    public Object run() {
        final GemmShape s = this.s;
        gemm.gemm(s.transA(), s.transB(), s.m(), s.n(), s.k(), 1f, a, 0, s.lda(), b, 0, s.ldb(), 0f, c, 0,
                s.ldc(), ws);
        return c;
    }

    @Override
    public float[] result() {
        return c.clone();
    }

    @Override
    public void close() {}
}
