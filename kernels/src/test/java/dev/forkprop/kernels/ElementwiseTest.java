package dev.forkprop.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Elementwise kernels against scalar double-precision references, and every activation's backward
 * against central finite differences of its own forward.
 */
class ElementwiseTest {
    private static final int[] SIZES = {0, 1, 2, 3, 4, 7, 13, 31, 97};

    private static float[] random(SplittableRandom rnd, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        return x;
    }

    interface Fwd { void apply(float[] x, int xOff, float[] y, int yOff, int n); }
    interface Bwd { void apply(float[] x, float[] y, float[] dy, float[] dx, int n); }

    /** dX from backward equals dY * (f(x+h) - f(x-h)) / 2h, evaluated in double from f in float. */
    private static void checkBackward(String name, Fwd f, Bwd b, double scale) {
        SplittableRandom rnd = new SplittableRandom(42);
        for (int n : SIZES) {
            float[] x = random(rnd, n, scale), y = new float[n], dy = random(rnd, n, 1), dx = new float[n];
            f.apply(x, 0, y, 0, n);
            b.apply(x, y, dy, dx, n);
            for (int i = 0; i < n; i++) {
                if (Math.abs(x[i]) < 1e-2) continue; // skip the kinks of relu-like functions
                double h = 1e-3;
                float[] xp = {(float) (x[i] + h)}, xm = {(float) (x[i] - h)}, yp = new float[1], ym = new float[1];
                f.apply(xp, 0, yp, 0, 1);
                f.apply(xm, 0, ym, 0, 1);
                double numeric = dy[i] * ((double) yp[0] - ym[0]) / ((double) xp[0] - xm[0]);
                assertEquals(numeric, dx[i], 2e-3 * (1 + Math.abs(numeric)), name + " n=" + n + " i=" + i);
            }
        }
    }

    @Test
    void activationBackwardsMatchFiniteDifferences() {
        checkBackward("relu", Activations::relu, (x, y, dy, dx, n) -> Activations.reluBackward(y, 0, dy, 0, dx, 0, n), 3);
        checkBackward("leaky", (x, xo, y, yo, n) -> Activations.leakyRelu(x, xo, y, yo, n, 0.01f),
                (x, y, dy, dx, n) -> Activations.leakyReluBackward(x, 0, dy, 0, dx, 0, n, 0.01f), 3);
        checkBackward("sigmoid", Activations::sigmoid, (x, y, dy, dx, n) -> Activations.sigmoidBackward(y, 0, dy, 0, dx, 0, n), 4);
        checkBackward("tanh", Activations::tanh, (x, y, dy, dx, n) -> Activations.tanhBackward(y, 0, dy, 0, dx, 0, n), 2);
        checkBackward("gelu", Activations::gelu, (x, y, dy, dx, n) -> Activations.geluBackward(x, 0, dy, 0, dx, 0, n), 3);
    }

    /** The vectorised ReLU family equals its scalar definition exactly, with offsets, tails and NaN. */
    @Test
    void reluFamilyMatchesScalarDefinition() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int n : new int[] {1, 15, 16, 17, 33, 63, 64, 65, 1000}) {
            for (int off : new int[] {0, 3}) {
                float[] x = random(rnd, n + off, 2), dy = random(rnd, n + off, 1);
                x[off + n / 2] = Float.NaN;
                x[off] = -0f;
                float[] y = new float[n + 5], dx = new float[n + 5], ly = new float[n + 5], ldx = new float[n + 5];
                Activations.relu(x, off, y, 2, n);
                Activations.reluBackward(x, off, dy, off, dx, 2, n);
                Activations.leakyRelu(x, off, ly, 2, n, 0.01f);
                Activations.leakyReluBackward(x, off, dy, off, ldx, 2, n, 0.01f);
                for (int i = 0; i < n; i++) {
                    float v = x[off + i], g = dy[off + i];
                    String at = "n=" + n + " off=" + off + " i=" + i;
                    assertEquals(v > 0f ? v : 0f, y[2 + i], at);
                    assertEquals(v > 0f ? g : 0f, dx[2 + i], at);
                    assertEquals(v > 0f ? v : 0.01f * v, ly[2 + i], at);
                    assertEquals(v > 0f ? g : 0.01f * g, ldx[2 + i], at);
                }
                assertEquals(0f, y[0]);
                assertEquals(0f, y[2 + n]);   // nothing written past the range
            }
        }
    }

    @Test
    void forwardValues() {
        float[] x = {-2f, -0.5f, 0f, 0.5f, 2f, 100f, -100f};
        float[] y = new float[x.length];
        Activations.sigmoid(x, 0, y, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            assertEquals(1.0 / (1.0 + Math.exp(-x[i])), y[i], 1e-7, "sigmoid " + x[i]);
        }
        Activations.relu(x, 0, y, 0, x.length);
        assertEquals(0f, y[0]);
        assertEquals(100f, y[5]);
        Activations.tanh(x, 0, y, 0, x.length);
        assertEquals(Math.tanh(0.5), y[3], 1e-7);
        // GELU(1) with the tanh approximation, computed by hand: 0.8411920
        float[] one = {1f};
        Activations.gelu(one, 0, one, 0, 1);
        assertEquals(0.841192, one[0], 1e-6);
    }

    @Test
    void logSoftmaxIsStableForHugeLogits() {
        float[] x = {1e4f, -1e4f, 0f, 1e4f, 1e4f, 1e4f - 1f};
        float[] y = new float[6];
        Softmax.logSoftmaxRows(x, 0, 3, y, 0, 3, 2, 3);
        assertEquals(0f, y[0], 1e-6);
        assertEquals(-2e4f, y[1], 1);
        assertEquals(-1e4f, y[2], 1);
        // Row 2: logits (a, a, a-1): log-softmax = -log(2 + e^-1) for the first two.
        double expect = -Math.log(2 + Math.exp(-1));
        assertEquals(expect, y[3], 1e-5);
        assertEquals(expect - 1, y[5], 1e-5);
        float[] p = new float[6];
        Softmax.softmaxRows(x, 0, 3, p, 0, 3, 2, 3);
        for (int i = 0; i < 6; i++) {
            assertTrue(Float.isFinite(p[i]));
            assertEquals(Math.exp(y[i]), p[i], 1e-6);
        }
    }

    @Test
    void biasColSumsAxpySum() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int rows : SIZES) {
            for (int cols : new int[] {1, 5, 17}) {
                int ld = cols + 3;
                float[] y = random(rnd, rows * ld + 2, 1), b = random(rnd, cols + 1, 1);
                float[] before = y.clone();
                Vec.addBias(y, 2, rows, cols, ld, b, 1);
                float[] sums = new float[cols];
                Vec.colSums(y, 2, rows, cols, ld, sums, 0, false);
                for (int c = 0; c < cols; c++) {
                    double s = 0;
                    for (int r = 0; r < rows; r++) {
                        int i = 2 + r * ld + c;
                        assertEquals(before[i] + b[1 + c], y[i], 1e-6);
                        s += y[i];
                    }
                    assertEquals(s, sums[c], 1e-4);
                }
                // padding between rows is untouched
                for (int r = 0; r < rows; r++) {
                    for (int c = cols; c < ld && 2 + r * ld + c < y.length; c++) {
                        assertEquals(before[2 + r * ld + c], y[2 + r * ld + c]);
                    }
                }
            }
        }
        float[] a = {1, 2, 3}, c = {10, 20, 30};
        Vec.axpy(3, 2f, a, 0, c, 0);
        assertEquals(36f, c[2]);
        float[][] srcs = {{1, 2, 3}, {10, 20, 30}, {100, 200, 300}};
        float[] dst = new float[3];
        Vec.sumInto(srcs, 3, 1, 3, dst);
        assertEquals(0f, dst[0]);
        assertEquals(222f, dst[1]);
        assertEquals(333f, dst[2]);
        assertEquals(14.0, Vec.sumOfSquares(srcs[0], 0, 3));
        assertTrue(Vec.allFinite(srcs[0], 0, 3));
        assertFalse(Vec.allFinite(new float[] {1, Float.NaN}, 0, 2));
        assertFalse(Vec.allFinite(new float[] {Float.NEGATIVE_INFINITY}, 0, 1));
    }

    /**
     * The fused reduce equals {@link Vec#sumInto} bit for bit and its squares equal a double
     * reference; in place into source 0, into a separate buffer, with one source (squares only),
     * over ranges with vector tails; and 1e30 squared does not overflow.
     */
    @Test
    void sumIntoSquaresMatchesSumIntoAndDoubleSquares() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int count : new int[] {1, 2, 3, 5}) {
            for (int[] range : new int[][] {{0, 0}, {0, 1}, {3, 10}, {0, 8}, {5, 4101}, {4096, 8192}, {1, 97}}) {
                int from = range[0], to = range[1], n = to + 3;
                float[][] srcs = new float[count][];
                for (int s = 0; s < count; s++) srcs[s] = random(rnd, n, 3);
                float[] expect = new float[n];
                Vec.sumInto(srcs, count, from, to, expect);
                double ref = 0;
                for (int i = from; i < to; i++) ref += (double) expect[i] * expect[i];
                float[] out = new float[n];
                double sq = Vec.sumIntoSquares(srcs, count, from, to, out);
                assertEquals(ref, sq, 1e-12 * Math.max(1, ref), "count=" + count + " [" + from + "," + to + ")");
                for (int i = from; i < to; i++) assertEquals(expect[i], out[i], "separate dst i=" + i);
                assertEquals(0f, out[to]);
                float[][] copy = new float[count][];
                for (int s = 0; s < count; s++) copy[s] = srcs[s].clone();
                assertEquals(sq, Vec.sumIntoSquares(copy, count, from, to, copy[0]), "in place");
                for (int i = from; i < to; i++) assertEquals(expect[i], copy[0][i], "in place i=" + i);
            }
        }
        float[] big = new float[40];
        java.util.Arrays.fill(big, 1e30f);
        double b = 1e30f;
        assertEquals(40 * b * b, Vec.sumIntoSquares(new float[][] {big}, 1, 0, 40, big), 1e-12 * 40 * b * b);
    }
}
