package dev.forkprop.bench;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A {@link GemmCall} on OpenBLAS: the operands are copied into 64-byte-aligned off-heap segments
 * once, so a timed {@link #run()} is the {@code cblas_sgemm} downcall and nothing else.
 */
final class OpenBlasGemmCall implements GemmCall {
    private final OpenBlasSgemm blas;
    private final GemmShape s;
    // A shared arena: JMH may run @Setup and @TearDown on a different thread than the benchmark.
    private final Arena arena = Arena.ofShared();
    private final MemorySegment a; // stored A, ld = s.lda()
    private final MemorySegment b; // stored B, ld = s.ldb()
    private final MemorySegment c; // C: [m,n], ld = n

    OpenBlasGemmCall(OpenBlasSgemm blas, GemmOperands ops) {
        this.blas = blas;
        this.s = ops.shape;
        this.a = copyOf(ops.a);
        this.b = copyOf(ops.b);
        this.c = arena.allocate(4L * s.cLength(), 64);
        c.fill((byte) 0xFF); // all-ones bits: a NaN in every float
    }

    private MemorySegment copyOf(float[] x) {
        MemorySegment seg = arena.allocate(4L * x.length, 64);
        MemorySegment.copy(x, 0, seg, JAVA_FLOAT, 0, x.length);
        return seg;
    }

    @Override
    public Object run() {
        final GemmShape s = this.s;
        blas.sgemm(s.transA(), s.transB(), s.m(), s.n(), s.k(), 1f, a, s.lda(), b, s.ldb(), 0f, c, s.ldc());
        return c;
    }

    @Override
    public float[] result() {
        return c.toArray(JAVA_FLOAT);
    }

    @Override
    public void close() {
        arena.close();
    }
}
