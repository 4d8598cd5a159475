package dev.forkprop.loss;

import dev.forkprop.kernels.Activations;
import dev.forkprop.model.Workspace;

/**
 * Sigmoid binary cross-entropy from logits, per element
 * {@code max(z,0) - z t + log(1 + exp(-|z|))} (never overflows), gradient {@code sigmoid(z) - t};
 * a row's loss is the sum over its outputs.
 *
 * <p>Targets: with a {@code positiveClass >= 0} and one output, {@code t = [label == positiveClass]}
 * (one-vs-rest, e.g. "9 vs not 9"); otherwise {@code w.targets: [rows, cols]} in [0, 1].
 */
public final class SigmoidBce implements Loss {
    private final int positiveClass;

    public SigmoidBce(int positiveClass) {
        this.positiveClass = positiveClass;
    }

    private float target(Workspace w, int r, int c, int cols) {
        return positiveClass >= 0 ? (w.labels[r] == positiveClass ? 1f : 0f) : w.targets[r * cols + c];
    }

    @Override
    public double compute(Workspace w, int rows, int cols, boolean gradient) {
        if (positiveClass >= 0 && cols != 1) {
            throw new IllegalArgumentException("one-vs-rest BCE needs exactly one output, the model has " + cols);
        }
        final float[] z = w.output(), d = w.dLogits;
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                double v = z[i], t = target(w, r, c, cols);
                sum += Math.max(v, 0) - v * t + Math.log1p(Math.exp(-Math.abs(v)));
                if (gradient) d[i] = (float) (Activations.sigmoid(z[i]) - t);
            }
        }
        return sum;
    }

    @Override
    public int correct(Workspace w, int rows, int cols) {
        int ok = 0;
        for (int r = 0; r < rows; r++) {
            boolean all = true;
            for (int c = 0; c < cols; c++) {
                boolean predicted = w.output()[r * cols + c] > 0f;
                all &= predicted == (target(w, r, c, cols) >= 0.5f);
            }
            if (all) ok++;
        }
        return ok;
    }

    @Override
    public String name() {
        return "bce";
    }
}
