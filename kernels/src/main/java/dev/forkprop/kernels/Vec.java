package dev.forkprop.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Flat-array vector kernels for the layers and the gradient reduction: bias add, column sums,
 * axpy, fixed-order sums of several buffers. Plain loops over {@code float[]} ranges that C2
 * auto-vectorises, and the Vector API where it does not (reductions); single-threaded; allocate
 * nothing once compiled.
 *
 * <p>Not here: anything with a reduction whose order could vary between calls. Every sum in this
 * class runs in a fixed index order, so results are bitwise reproducible.
 */
public final class Vec {
    private Vec() {}

    /** {@code y[r, c] += b[c]} for a row-major {@code y: [rows, cols]} with leading dim {@code ldy}. */
    public static void addBias(float[] y, int yOff, int rows, int cols, int ldy, float[] b, int bOff) {
        for (int r = 0; r < rows; r++) {
            final int row = yOff + r * ldy;
            for (int c = 0; c < cols; c++) {
                y[row + c] += b[bOff + c];
            }
        }
    }

    /**
     * Column sums of {@code x: [rows, cols]}: {@code dst[c] = (accumulate ? dst[c] : 0) + sum_r x[r, c]},
     * summed in row order (the bias gradient {@code db = sum_rows dY}).
     */
    public static void colSums(float[] x, int xOff, int rows, int cols, int ldx,
                               float[] dst, int dOff, boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(dst, dOff, dOff + cols, 0f);
        }
        for (int r = 0; r < rows; r++) {
            final int row = xOff + r * ldx;
            for (int c = 0; c < cols; c++) {
                dst[dOff + c] += x[row + c];
            }
        }
    }

    /** {@code y[i] += alpha * x[i]} for {@code i in [0, n)}. */
    public static void axpy(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    /** {@code x[i] *= alpha} for {@code i in [off, off + n)}. */
    public static void scale(float[] x, int off, int n, float alpha) {
        for (int i = off, end = off + n; i < end; i++) {
            x[i] *= alpha;
        }
    }

    /**
     * {@code dst[i] = srcs[0][i] + srcs[1][i] + ... + srcs[count-1][i]} for {@code i in [from, to)},
     * added left to right in source order, so the result does not depend on how {@code [from, to)}
     * is cut into calls. {@code dst} may be {@code srcs[0]}.
     */
    public static void sumInto(float[][] srcs, int count, int from, int to, float[] dst) {
        if (count == 0) {
            java.util.Arrays.fill(dst, from, to, 0f);
            return;
        }
        final float[] first = srcs[0];
        if (first != dst) {
            System.arraycopy(first, from, dst, from, to - from);
        }
        for (int s = 1; s < count; s++) {
            final float[] src = srcs[s];
            for (int i = from; i < to; i++) {
                dst[i] += src[i];
            }
        }
    }

    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;
    /** Four floats, widened lane for lane into {@link #D4}: a conversion AVX2 executes natively. */
    private static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
    /**
     * Half of the eight double lanes: 256 bits, which every AVX2 and AVX-512 CPU executes natively.
     * A 512-bit double species is not intrinsified on an AVX2-only CPU: each of its operations
     * would run as Java code and allocate a vector (about 12 MB per step of 784-256-10).
     */
    private static final VectorSpecies<Double> D4 = DoubleVector.SPECIES_256;

    /**
     * {@link #sumInto} and the sum of squares of the result in one pass: returns
     * {@code sum_i dst[i]^2} over {@code [from, to)}, accumulated in double.
     *
     * <p>The per-element sums are exactly those of {@link #sumInto} (source order). The squares
     * go into eight double lanes (element {@code from + 8j + l} into lane {@code l}; lanes 0-3 and
     * 4-7 are two 256-bit vectors) that are added in lane order at the end, then the scalar tail: a fixed order for a given range, in the
     * interpreter as in compiled code (no {@code reduceLanes}, whose order is unspecified), so a
     * block's partial is the same whichever worker computes it. One pass instead of two, and the
     * squares cost nothing next to the memory traffic (a separate scalar loop summing squares in
     * double is latency-bound: 1 ms for 1.9 M floats).
     */
    public static double sumIntoSquares(float[][] srcs, int count, int from, int to, float[] dst) {
        if (count == 0) {
            java.util.Arrays.fill(dst, from, to, 0f);
            return 0;
        }
        final float[] first = srcs[0];
        final boolean store = count > 1 || first != dst;
        DoubleVector sqLo = DoubleVector.zero(D4), sqHi = DoubleVector.zero(D4);
        int i = from;
        for (final int bound = from + F8.loopBound(to - from); i < bound; i += F8.length()) {
            FloatVector acc = FloatVector.fromArray(F8, first, i);
            for (int s = 1; s < count; s++) {
                acc = acc.add(FloatVector.fromArray(F8, srcs[s], i));
            }
            if (store) acc.intoArray(dst, i);
            // Widened from the stored sums (in L1) in two halves: converting the upper half of a
            // 256-bit vector in registers (convertShape part 1) is not intrinsified on AVX2.
            DoubleVector lo = (DoubleVector) FloatVector.fromArray(F4, dst, i).convertShape(VectorOperators.F2D, D4, 0);
            DoubleVector hi = (DoubleVector) FloatVector.fromArray(F4, dst, i + 4).convertShape(VectorOperators.F2D, D4, 0);
            sqLo = lo.fma(lo, sqLo);
            sqHi = hi.fma(hi, sqHi);
        }
        double total = 0;
        for (int l = 0; l < D4.length(); l++) total += sqLo.lane(l);
        for (int l = 0; l < D4.length(); l++) total += sqHi.lane(l);
        for (; i < to; i++) {
            float v = first[i];
            for (int s = 1; s < count; s++) v += srcs[s][i];
            dst[i] = v;
            total += (double) v * v;
        }
        return total;
    }

    /** Sum of squares of {@code x[from, to)}, accumulated in double in index order. */
    public static double sumOfSquares(float[] x, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            double v = x[i];
            s += v * v;
        }
        return s;
    }

    /** True if every element of {@code x[from, to)} is finite (no NaN, no infinity). */
    public static boolean allFinite(float[] x, int from, int to) {
        for (int i = from; i < to; i++) {
            // x - x is 0 for finite x and NaN for NaN and both infinities.
            if (x[i] - x[i] != 0f) return false;
        }
        return true;
    }
}
