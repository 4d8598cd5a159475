package dev.forkprop.data;

import java.util.SplittableRandom;

/**
 * A seeded linear regression problem with a known answer: {@code y = W x + b + noise * e}, where
 * {@code x} and {@code e} are standard normal, {@code W} ({@code [outDim, inDim]}) is drawn
 * uniformly from {@code [-1, 1)} and {@code b} ({@code [outDim]}) likewise. A model that learns
 * well recovers {@link #weights()} and {@link #bias()}; with {@code noise = 0} the minimum MSE is 0,
 * otherwise {@code noise^2}.
 *
 * <p>Same arguments, same data, on any JVM: one {@link SplittableRandom} draws W, then b, then per
 * sample x followed by e, in that order. Not thread-safe to build; the result is immutable.
 */
public final class SyntheticRegression {

    private final TableDataset dataset;
    // w: [outDim, inDim] row-major
    private final float[] w;
    // b: [outDim]
    private final float[] b;
    private final int inDim;
    private final int outDim;

    private SyntheticRegression(TableDataset dataset, float[] w, float[] b, int inDim, int outDim) {
        this.dataset = dataset;
        this.w = w;
        this.b = b;
        this.inDim = inDim;
        this.outDim = outDim;
    }

    /**
     * Draws {@code n} samples. Allocates {@code n * (inDim + outDim)} floats.
     *
     * @throws IllegalArgumentException if a size is not positive, {@code noise} is negative or not
     *                                  finite, or the arrays would exceed {@code Integer.MAX_VALUE}
     */
    public static SyntheticRegression generate(int n, int inDim, int outDim, double noise, long seed) {
        if (n <= 0 || inDim <= 0 || outDim <= 0) {
            throw new IllegalArgumentException("sizes must be positive: n=" + n + " inDim=" + inDim + " outDim=" + outDim);
        }
        if (!(noise >= 0) || Double.isInfinite(noise)) {
            throw new IllegalArgumentException("noise must be finite and >= 0, got " + noise);
        }
        if ((long) n * Math.max(inDim, outDim) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("n x dim too large for one array: " + n + " x " + Math.max(inDim, outDim));
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] w = new float[outDim * inDim];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextDouble(-1.0, 1.0);
        }
        float[] b = new float[outDim];
        for (int o = 0; o < outDim; o++) {
            b[o] = (float) rnd.nextDouble(-1.0, 1.0);
        }
        float[] x = new float[n * inDim];   // x: [n, inDim]
        float[] y = new float[n * outDim];  // y: [n, outDim]
        for (int s = 0; s < n; s++) {
            int xo = s * inDim;
            for (int i = 0; i < inDim; i++) {
                x[xo + i] = (float) rnd.nextGaussian();
            }
            for (int o = 0; o < outDim; o++) {
                double acc = b[o];
                for (int i = 0; i < inDim; i++) {
                    acc += (double) w[o * inDim + i] * x[xo + i];
                }
                y[s * outDim + o] = (float) (acc + noise * rnd.nextGaussian());
            }
        }
        String name = "synthetic-regression(n=" + n + ",in=" + inDim + ",out=" + outDim + ",noise=" + noise
                + ",seed=" + seed + ")";
        return new SyntheticRegression(TableDataset.regression(name, x, inDim, y, outDim), w, b, inDim, outDim);
    }

    /** The samples: {@code featureDim() == inDim}, {@code targetDim() == outDim}, {@code numClasses() == 0}. */
    public TableDataset dataset() {
        return dataset;
    }

    /** A copy of the true {@code W}: {@code [outDim, inDim]}, row-major. */
    public float[] weights() {
        return w.clone();
    }

    /** A copy of the true {@code b}: {@code [outDim]}. */
    public float[] bias() {
        return b.clone();
    }

    public int inDim() {
        return inDim;
    }

    public int outDim() {
        return outDim;
    }
}
