package dev.forkprop.loss;

import dev.forkprop.model.Workspace;

/**
 * Mean squared error against real-valued targets {@code w.targets: [rows, cols]}: a row's loss is
 * {@code mean_c (z - t)^2}, so the batch mean equals PyTorch's {@code MSELoss()}; gradient
 * {@code 2 (z - t) / cols}.
 */
public final class Mse implements Loss {

    @Override
    public double compute(Workspace w, int rows, int cols, boolean gradient) {
        final float[] z = w.output(), t = w.targets, d = w.dLogits;
        final float k = 2f / cols;
        double sum = 0;
        for (int i = 0, n = rows * cols; i < n; i++) {
            float e = z[i] - t[i];
            sum += (double) e * e;
            if (gradient) d[i] = k * e;
        }
        return sum / cols;
    }

    @Override
    public int correct(Workspace w, int rows, int cols) {
        return -1;
    }

    @Override
    public String name() {
        return "mse";
    }
}
