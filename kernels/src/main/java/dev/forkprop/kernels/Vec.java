package dev.forkprop.kernels;

/**
 * Flat-array vector kernels for the layers and the gradient reduction: bias add, column sums,
 * axpy, fixed-order sums of several buffers. Plain loops over {@code float[]} ranges that C2
 * auto-vectorises; single-threaded; allocate nothing.
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
