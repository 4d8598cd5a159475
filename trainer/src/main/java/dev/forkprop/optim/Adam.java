package dev.forkprop.optim;

/**
 * Adam with optional coupled L2, PyTorch {@code Adam} semantics ({@code amsgrad=False}):
 * <pre>
 *   g    = gradScale * grad[i] + wd * p[i]            (the wd term only when wd != 0)
 *   m[i] = beta1 * m[i] + (1 - beta1) * g
 *   v[i] = beta2 * v[i] + (1 - beta2) * g * g
 *   p[i] -= stepSize * (m[i] / (sqrt(v[i]) / bc2Sqrt + eps))
 * where, once per step t in beginStep (double, then rounded to float):
 *   stepSize = lr / (1 - beta1^t),   bc2Sqrt = sqrt(1 - beta2^t)
 * </pre>
 * That is {@code p -= lr * mhat / (sqrt(vhat) + eps)} with eps added after the square root of
 * the bias-corrected v, arranged as PyTorch's single-tensor implementation arranges it. At step
 * 1 with eps small the update magnitude is ≈ lr whatever the gradient's scale.
 *
 * <p>Two state tensors, {@code "adam_m"} and {@code "adam_v"}, each [P]. The step number is
 * not state: the engine passes it to {@link #beginStep} (and checkpoints it).
 * For decoupled weight decay use {@link AdamW}.
 */
public final class Adam extends FlatOptimizer {
    private final double beta1, beta2;                  // for the bias corrections, in double
    private final float b1, b2, c1, c2, eps, weightDecay;  // c1 = 1 - beta1, c2 = 1 - beta2, rounded once
    private final float[] m, v;   // m, v: [P], same layout as params
    private float stepSize, bc2Sqrt;

    public Adam(int paramCount, double beta1, double beta2, double eps, double weightDecay) {
        super("adam", paramCount,
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
        this.weightDecay = (float) weightDecay;
        this.m = state(0);
        this.v = state(1);
    }

    @Override
    protected void prepare() {
        stepSize = (float) (lr / (1 - Math.pow(beta1, step)));
        bc2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
    }

    @Override
    protected void apply(float[] p, float[] grad, int from, int to) {
        final float b1 = this.b1, b2 = this.b2, c1 = this.c1, c2 = this.c2, eps = this.eps;
        final float gs = gradScale, wd = weightDecay, stepSize = this.stepSize, bc2Sqrt = this.bc2Sqrt;
        final float[] m = this.m, v = this.v;
        final boolean l2 = wd != 0f;
        for (int i = from; i < to; i++) {
            float g = gs * grad[i];
            if (l2) g += wd * p[i];
            float mi = b1 * m[i] + c1 * g;
            float vi = b2 * v[i] + c2 * g * g;
            m[i] = mi;
            v[i] = vi;
            float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
            p[i] -= stepSize * (mi / denom);
        }
    }
}
