package dev.forkprop.optim;

import java.util.Objects;

/**
 * Clipping by global norm (PyTorch {@code clip_grad_norm_}, 2-norm): the gradient is multiplied
 * by {@code min(1, maxNorm / (norm + 1e-6))}. Here that factor is not applied in a separate
 * pass; it is folded into the {@code gradScale} passed to {@link Optimizer#beginStep}.
 *
 * <p>Usage by the engine, per step, on the summed gradient {@code grad}:
 * <pre>
 *   worker w:     partial[w] = GradClip.sumOfSquares(grad, from_w, to_w)      // after the reduce
 *   coordinator:  double s = 0; for (w = 0..T-1) s += partial[w];             // fixed order
 *                 float gradScale = clip.gradScale(s, 1f / batchSize);
 * </pre>
 * With a fixed T that sum is deterministic. Its last bits depend on where the slices are cut,
 * so the scale can differ by an ulp between runs with different T; the optimizer update itself
 * never depends on the cut.
 *
 * <p>Immutable; any thread.
 */
public final class GradClip {
    /** PyTorch's term in the denominator of the clip coefficient. */
    public static final double EPS = 1e-6;

    private final float maxNorm;

    /** @param maxNorm clip threshold on the norm of the mean gradient; {@code <= 0} or infinite disables clipping */
    public GradClip(float maxNorm) {
        if (Float.isNaN(maxNorm)) throw new IllegalArgumentException("maxNorm is NaN");
        this.maxNorm = maxNorm;
    }

    public float maxNorm() { return maxNorm; }

    public boolean enabled() { return maxNorm > 0 && maxNorm != Float.POSITIVE_INFINITY; }

    /**
     * {@code sum of x[i]^2} over {@code [from, to)}, each square and the running sum in double
     * (a float square is exact in double), left to right. Allocates nothing; any thread.
     */
    public static double sumOfSquares(float[] x, int from, int to) {
        Objects.checkFromToIndex(from, to, x.length);
        double s = 0;
        for (int i = from; i < to; i++) {
            double v = x[i];
            s += v * v;
        }
        return s;
    }

    /**
     * PyTorch's clip coefficient {@code min(1, maxNorm / (norm + 1e-6))}, in double. A NaN or
     * infinite {@code norm} gives NaN or 0 as PyTorch does with {@code error_if_nonfinite=False};
     * the engine should test {@link Double#isFinite} on the norm and skip the step instead.
     */
    public static double clipCoefficient(double norm, double maxNorm) {
        return Math.min(1.0, maxNorm / (norm + EPS));
    }

    /**
     * The {@code gradScale} for {@link Optimizer#beginStep}: {@code preScale * coef} where
     * {@code coef = clipCoefficient(preScale * sqrt(sumSq), maxNorm)}, or {@code preScale} alone
     * when clipping is disabled. {@code sumSq} is the sum of squares of the unscaled (summed)
     * gradient; {@code preScale} is typically {@code 1/batchSize}, so the norm clipped is that
     * of the mean gradient. Computed in double, rounded to float once.
     */
    public float gradScale(double sumSq, float preScale) {
        if (!enabled()) return preScale;
        double norm = Math.abs((double) preScale) * Math.sqrt(sumSq);
        return (float) (preScale * clipCoefficient(norm, maxNorm));
    }
}
