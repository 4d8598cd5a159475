package dev.forkprop.optim;

/**
 * Plain stochastic gradient descent with optional coupled L2 (PyTorch {@code SGD}, momentum 0):
 * <pre>
 *   g = gradScale * grad[i] + wd * p[i]      (the wd term only when wd != 0)
 *   p[i] -= lr * g
 * </pre>
 * No state tensors. Not a momentum optimizer: see {@link Momentum}.
 */
public final class Sgd extends FlatOptimizer {
    private final float weightDecay;

    /** @param weightDecay coupled L2 coefficient, {@code >= 0} */
    public Sgd(int paramCount, double weightDecay) {
        super("sgd", paramCount, map("weight_decay", Double.toString(weightDecay)));
        this.weightDecay = (float) weightDecay;
    }

    @Override
    protected void apply(float[] p, float[] grad, int from, int to) {
        final float lr = this.lr, gs = this.gradScale, wd = this.weightDecay;
        if (wd == 0f) {
            for (int i = from; i < to; i++) p[i] -= lr * (gs * grad[i]);
        } else {
            for (int i = from; i < to; i++) {
                float g = gs * grad[i] + wd * p[i];
                p[i] -= lr * g;
            }
        }
    }
}
