package dev.forkprop.kernels;

/**
 * Row-wise softmax and log-softmax over a row-major {@code [rows, cols]} matrix, numerically
 * stable: every row is shifted by its maximum, so logits of +-1e4 neither overflow nor lose the
 * answer. Sums run in double in column order. {@code y} may alias {@code x}. Single-threaded;
 * allocate nothing.
 */
public final class Softmax {
    private Softmax() {}

    /** {@code y[r, c] = (x[r, c] - max_r) - log(sum_c' exp(x[r, c'] - max_r))}. */
    public static void logSoftmaxRows(float[] x, int xOff, int ldx, float[] y, int yOff, int ldy,
                                      int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            final int xr = xOff + r * ldx, yr = yOff + r * ldy;
            float max = rowMax(x, xr, cols);
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(x[xr + c] - max);
            }
            // (x - max) first: exact for logits near the max, so +-1e4 keeps full precision,
            // which a single shift by (max + log sum) would round away.
            final float logSum = (float) Math.log(sum);
            for (int c = 0; c < cols; c++) {
                y[yr + c] = (x[xr + c] - max) - logSum;
            }
        }
    }

    /** {@code y[r, c] = exp(x[r, c] - max_r) / sum_c' exp(x[r, c'] - max_r)}. */
    public static void softmaxRows(float[] x, int xOff, int ldx, float[] y, int yOff, int ldy,
                                   int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            final int xr = xOff + r * ldx, yr = yOff + r * ldy;
            float max = rowMax(x, xr, cols);
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                float e = (float) Math.exp(x[xr + c] - max);
                y[yr + c] = e;
                sum += e;
            }
            final float inv = (float) (1.0 / sum);
            for (int c = 0; c < cols; c++) {
                y[yr + c] *= inv;
            }
        }
    }

    private static float rowMax(float[] x, int off, int cols) {
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            float v = x[off + c];
            if (v > max) max = v;
        }
        return max;
    }
}
