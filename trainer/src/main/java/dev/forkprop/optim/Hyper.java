package dev.forkprop.optim;

/**
 * Optimizer hyper-parameters other than the learning rate (which comes from an
 * {@link LrSchedule} each step). Each optimizer reads only the fields it uses.
 *
 * <p>Doubles, as PyTorch keeps them (Python floats): derived constants such as
 * {@code 1 - beta2} and the bias corrections are computed in double and rounded to float once.
 * Storing {@code beta2 = 0.999f} instead would make {@code 1 - beta2} off by 1.3e-5 relative.
 *
 * @param momentum    momentum factor mu for {@code momentum}/{@code nesterov}, {@code >= 0}
 * @param beta1       Adam first-moment decay, in {@code [0, 1)}
 * @param beta2       Adam second-moment decay, in {@code [0, 1)}
 * @param eps         Adam denominator term, added after the square root, {@code >= 0}
 * @param weightDecay coupled L2 ({@code g += wd * p}) for sgd, momentum, nesterov and adam;
 *                    decoupled decay ({@code p *= 1 - lr * wd}) for adamw. {@code >= 0}
 */
public record Hyper(double momentum, double beta1, double beta2, double eps, double weightDecay) {

    /** PyTorch's defaults, except momentum 0.9 (PyTorch: 0) and weight decay 0 (PyTorch's AdamW: 0.01). */
    public static final Hyper DEFAULTS = new Hyper(0.9, 0.9, 0.999, 1e-8, 0);

    public Hyper {
        check("momentum", momentum, 0, Double.POSITIVE_INFINITY);
        check("beta1", beta1, 0, 1);
        check("beta2", beta2, 0, 1);
        check("eps", eps, 0, Double.POSITIVE_INFINITY);
        check("weightDecay", weightDecay, 0, Double.POSITIVE_INFINITY);
    }

    public Hyper withMomentum(double v) { return new Hyper(v, beta1, beta2, eps, weightDecay); }
    public Hyper withBetas(double b1, double b2) { return new Hyper(momentum, b1, b2, eps, weightDecay); }
    public Hyper withEps(double v) { return new Hyper(momentum, beta1, beta2, v, weightDecay); }
    public Hyper withWeightDecay(double v) { return new Hyper(momentum, beta1, beta2, eps, v); }

    /** Requires {@code lo <= v < hi} and v finite. */
    private static void check(String name, double v, double lo, double hi) {
        if (!(v >= lo && v < hi) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(name + " = " + v + " is outside [" + lo + ", " + hi + ")");
        }
    }
}
