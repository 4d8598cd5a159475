package dev.forkprop.bench;

import java.util.SplittableRandom;

/**
 * The stored A and B of one {@link GemmShape}: uniform in [-1, 1), from a fixed seed so that every
 * implementation (and every forked VM) multiplies the same numbers.
 *
 * <p>Not a result holder: C belongs to each {@link GemmCall}, which may keep it off-heap.
 */
public final class GemmOperands {
    /** Seed used by the benchmark; any value works, a fixed one makes runs comparable. */
    public static final long SEED = 0x5EED_F0E4L;

    public final GemmShape shape;
    /** A: [m,k] (or [k,m] if transA), row-major, ld = shape.lda(). */
    public final float[] a;
    /** B: [k,n] (or [n,k] if transB), row-major, ld = shape.ldb(). */
    public final float[] b;

    private GemmOperands(GemmShape shape, float[] a, float[] b) {
        this.shape = shape;
        this.a = a;
        this.b = b;
    }

    public static GemmOperands random(GemmShape shape, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        return new GemmOperands(shape, fill(new float[shape.aLength()], rnd), fill(new float[shape.bLength()], rnd));
    }

    private static float[] fill(float[] x, SplittableRandom rnd) {
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return x;
    }
}
