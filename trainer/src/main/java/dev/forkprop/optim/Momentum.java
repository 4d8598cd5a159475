package dev.forkprop.optim;

/**
 * SGD with heavy-ball or Nesterov momentum, PyTorch {@code SGD} semantics with dampening 0:
 * <pre>
 *   g    = gradScale * grad[i] + wd * p[i]   (the wd term only when wd != 0)
 *   v[i] = mu * v[i] + g                     (v starts at 0, so step 1 gives v = g exactly)
 *   p[i] -= lr * v[i]                        heavy ball
 *   p[i] -= lr * (g + mu * v[i])             nesterov (with the updated v)
 * </pre>
 * One state tensor, {@code "momentum"} ({@code v}, [P]). Not dampened: PyTorch's
 * {@code dampening} is fixed at 0.
 */
public final class Momentum extends FlatOptimizer {
    private final float mu, weightDecay;
    private final boolean nesterov;
    private final float[] v;   // v: [P], same layout as params

    public Momentum(int paramCount, double momentum, double weightDecay, boolean nesterov) {
        super(nesterov ? "nesterov" : "momentum", paramCount,
              map("momentum", Double.toString(momentum), "nesterov", Boolean.toString(nesterov),
                  "weight_decay", Double.toString(weightDecay)),
              "momentum");
        this.mu = (float) momentum;
        this.weightDecay = (float) weightDecay;
        this.nesterov = nesterov;
        this.v = state(0);
    }

    public boolean nesterov() { return nesterov; }

    @Override
    protected void apply(float[] p, float[] grad, int from, int to) {
        final float lr = this.lr, gs = this.gradScale, wd = this.weightDecay, mu = this.mu;
        final float[] v = this.v;
        final boolean l2 = wd != 0f;
        if (nesterov) {
            for (int i = from; i < to; i++) {
                float g = gs * grad[i];
                if (l2) g += wd * p[i];
                float vi = mu * v[i] + g;
                v[i] = vi;
                p[i] -= lr * (g + mu * vi);
            }
        } else {
            for (int i = from; i < to; i++) {
                float g = gs * grad[i];
                if (l2) g += wd * p[i];
                float vi = mu * v[i] + g;
                v[i] = vi;
                p[i] -= lr * vi;
            }
        }
    }
}
