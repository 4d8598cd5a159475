package dev.forkprop.optim;

/**
 * Adam with decoupled weight decay (Loshchilov &amp; Hutter), PyTorch {@code AdamW} semantics:
 * the parameter is first shrunk, then takes the plain {@link Adam} step (no L2 in the gradient):
 * <pre>
 *   p[i] *= 1 - lr * wd                                 (decay, computed once per step)
 *   g    = gradScale * grad[i]
 *   m[i] = beta1 * m[i] + (1 - beta1) * g
 *   v[i] = beta2 * v[i] + (1 - beta2) * g * g
 *   p[i] -= stepSize * (m[i] / (sqrt(v[i]) / bc2Sqrt + eps))
 * </pre>
 * with {@code stepSize} and {@code bc2Sqrt} as in {@link Adam}. Unlike Adam's coupled L2, the
 * decay never passes through m and v, so it is not rescaled by the adaptive denominator.
 * State tensors {@code "adam_m"}, {@code "adam_v"}, each [P].
 */
public final class AdamW extends FlatOptimizer {
    private final double beta1, beta2, weightDecay;  // for the per-step scalars, in double
    private final float b1, b2, c1, c2, eps;         // c1 = 1 - beta1, c2 = 1 - beta2, rounded once
    private final float[] m, v;   // m, v: [P], same layout as params
    private float stepSize, bc2Sqrt, decay;

    public AdamW(int paramCount, double beta1, double beta2, double eps, double weightDecay) {
        super("adamw", paramCount,
              map("beta1", Double.toString(beta1), "beta2", Double.toString(beta2),
                  "eps", Double.toString(eps), "weight_decay", Double.toString(weightDecay)),
              "adam_m", "adam_v");
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.b1 = (float) beta1;
        this.b2 = (float) beta2;
        this.c1 = (float) (1 - beta1);
        this.c2 = (float) (1 - beta2);
        this.eps = (float) eps;
        this.weightDecay = weightDecay;
        this.m = state(0);
        this.v = state(1);
    }

    @Override
    protected void prepare() {
        stepSize = (float) (lr / (1 - Math.pow(beta1, step)));
        bc2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        decay = (float) (1 - (double) lr * weightDecay);
    }

    @Override
    protected void apply(float[] p, float[] grad, int from, int to) {
        final float b1 = this.b1, b2 = this.b2, c1 = this.c1, c2 = this.c2, eps = this.eps;
        final float gs = gradScale, decay = this.decay, stepSize = this.stepSize, bc2Sqrt = this.bc2Sqrt;
        final float[] m = this.m, v = this.v;
        for (int i = from; i < to; i++) {
            float g = gs * grad[i];
            float mi = b1 * m[i] + c1 * g;
            float vi = b2 * v[i] + c2 * g * g;
            m[i] = mi;
            v[i] = vi;
            float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
            p[i] = p[i] * decay - stepSize * (mi / denom);
        }
    }
}
