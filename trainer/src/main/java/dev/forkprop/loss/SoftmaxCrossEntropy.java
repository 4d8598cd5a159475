package dev.forkprop.loss;

import dev.forkprop.kernels.Softmax;
import dev.forkprop.model.Workspace;

/**
 * Softmax cross-entropy from logits through log-softmax, so logits of +-1e4 stay finite:
 * {@code loss_r = -logsoftmax(z_r)[label_r]}, {@code d loss_r / d z_r = softmax(z_r) - onehot(label_r)}.
 */
public final class SoftmaxCrossEntropy implements Loss {

    @Override
    public double compute(Workspace w, int rows, int cols, boolean gradient) {
        final float[] z = w.output(), d = w.dLogits;
        final int[] labels = w.labels;
        // log-softmax into dLogits (scratch), then turn it into the gradient in place.
        Softmax.logSoftmaxRows(z, 0, cols, d, 0, cols, rows, cols);
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            final int row = r * cols, label = labels[r];
            sum -= d[row + label];
            if (gradient) {
                for (int c = 0; c < cols; c++) d[row + c] = (float) Math.exp(d[row + c]);
                d[row + label] -= 1f;
            }
        }
        return sum;
    }

    @Override
    public int correct(Workspace w, int rows, int cols) {
        final float[] z = w.output();
        int ok = 0;
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int c = 1; c < cols; c++) if (z[r * cols + c] > z[r * cols + best]) best = c;
            if (best == w.labels[r]) ok++;
        }
        return ok;
    }

    @Override
    public String name() {
        return "ce";
    }
}
