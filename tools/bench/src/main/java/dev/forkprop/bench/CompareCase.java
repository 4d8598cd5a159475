package dev.forkprop.bench;

import dev.forkprop.optim.Optimizers;
import java.util.List;
import java.util.Locale;

/**
 * One {@code bench compare} case: an MLP given as a compact spec (dense widths, ReLU between
 * them, as both {@code ModelSpec} and {@code torch_bench.py} read it), a global batch and an
 * optimizer. Text form {@code MODEL:BATCH:OPTIMIZER}, e.g. {@code 784-100-10:32:sgd}.
 *
 * <p>Only compact specs: the PyTorch side builds {@code nn.Sequential(Linear, ReLU, ..., Linear)}
 * and nothing else, so a case is something both sides can run.
 */
record CompareCase(String model, int batch, String optimizer) {

    /** The cases {@code bench compare} runs when none are given, smallest first. */
    static final List<CompareCase> DEFAULTS = List.of(
            parse("784-100-10:32:sgd"),
            parse("784-256-256-10:128:adam"),
            parse("784-1024-1024-10:256:adam"),
            parse("784-4096-4096-10:512:momentum"));

    /**
     * Training work per timed run that sets the default step count: 2e11 flop took 2-6 s per run
     * at one thread for the middle two cases on the 2-core EPYC VM under load (forkprop and
     * PyTorch); the smallest case hits MAX_STEPS and the largest MIN_STEPS. Three repeats of all
     * default cases at 1 and 2 threads took 13-17 minutes there.
     */
    static final double FLOP_PER_RUN = 2e11;
    static final int MIN_STEPS = 20, MAX_STEPS = 2000;

    CompareCase {
        if (!model.matches("[0-9]+(-[0-9]+)+")) {
            throw new IllegalArgumentException("model '" + model + "' is not a compact spec such as 784-100-10");
        }
        for (String w : model.split("-")) {
            if (w.length() > 9 || Integer.parseInt(w) <= 0) {
                throw new IllegalArgumentException("model '" + model + "': widths must be between 1 and 999999999");
            }
        }
        if (batch <= 0) throw new IllegalArgumentException("batch must be positive, got " + batch);
        if (!Optimizers.NAMES.contains(optimizer)) {
            throw new IllegalArgumentException("unknown optimizer '" + optimizer + "' (expected one of "
                    + String.join(", ", Optimizers.NAMES) + ")");
        }
    }

    /** Parses {@code MODEL:BATCH:OPTIMIZER}; one-line {@link IllegalArgumentException} otherwise. */
    static CompareCase parse(String text) {
        String[] f = text.trim().toLowerCase(Locale.ROOT).split(":", -1);
        if (f.length != 3) {
            throw new IllegalArgumentException("case '" + text + "' is not MODEL:BATCH:OPTIMIZER, e.g. 784-100-10:32:sgd");
        }
        int batch;
        try {
            batch = Integer.parseInt(f[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("case '" + text + "': batch '" + f[1] + "' is not a number");
        }
        return new CompareCase(f[0], batch, f[2]);
    }

    /** The text form, {@code MODEL:BATCH:OPTIMIZER}. */
    String text() {
        return model + ":" + batch + ":" + optimizer;
    }

    /** Weights of all dense layers, {@code sum in * out} (biases left out: they are a rounding error). */
    long weights() {
        String[] w = model.split("-");
        long sum = 0;
        for (int i = 0; i + 1 < w.length; i++) sum += Long.parseLong(w[i]) * Long.parseLong(w[i + 1]);
        return sum;
    }

    /** About 6 flop per weight and sample: 2 forward (Y = XW), 4 backward (dX and dW). */
    double flopPerStep() {
        return 6.0 * weights() * batch;
    }

    /** {@link #FLOP_PER_RUN} worth of steps, within [{@link #MIN_STEPS}, {@link #MAX_STEPS}]. */
    int defaultSteps() {
        return (int) Math.max(MIN_STEPS, Math.min(MAX_STEPS, Math.round(FLOP_PER_RUN / flopPerStep())));
    }

    /** A quarter of the timed steps, within [5, 100]. */
    static int defaultWarmup(int steps) {
        return Math.max(5, Math.min(100, steps / 4));
    }
}
