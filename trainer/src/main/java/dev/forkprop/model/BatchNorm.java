package dev.forkprop.model;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Batch normalisation over features: {@code y = gamma * (x - mean) / sqrt(var + eps) + beta}.
 *
 * <p>Training uses the statistics of the <em>shard</em> being computed, not of the whole
 * minibatch (like "ghost batch norm"): shards are computed independently on different workers and
 * exchanging statistics mid-forward would add a barrier per layer. With deterministic sharding the
 * shards, and so the results, do not depend on the thread count. Evaluation uses running
 * statistics: after each step every shard's mean and unbiased variance, reduced with the
 * gradients through the statistics slots of the layout, are averaged over shards and folded in
 * with momentum 0.1 (PyTorch's convention: {@code running = 0.9 running + 0.1 batch}).
 *
 * <p>Parameters {@code layers.<i>.weight (gamma): [width]}, {@code layers.<i>.bias (beta): [width]};
 * buffers running mean and running variance {@code [width]} each.
 */
public final class BatchNorm implements Layer {
    public static final float EPS = 1e-5f;
    public static final float MOMENTUM = 0.1f;

    private final int width;
    private int gamma, beta, statMean, statVar, running;
    private String meanName, varName;

    public BatchNorm(int width) {
        this.width = width;
    }

    @Override public int in() { return width; }
    @Override public int out() { return width; }
    @Override public String spec() { return "batchnorm"; }

    @Override
    public void declare(ParamLayout.Builder layout, int index) {
        gamma = layout.param("layers." + index + ".weight", width);
        beta = layout.param("layers." + index + ".bias", width);
        meanName = layout.stat("layers." + index + ".batch_mean", width);
        varName = layout.stat("layers." + index + ".batch_var", width);
    }

    @Override
    public void bind(ParamLayout layout, int index) {
        statMean = layout.tensor(meanName).offset();
        statVar = layout.tensor(varName).offset();
    }

    @Override public int bufferSize() { return 2 * width; }
    @Override public void bindBuffers(int offset) { running = offset; }

    /** Offset of running mean in the buffers; running variance follows it. */
    public int runningOffset() { return running; }

    @Override
    public void init(float[] params, float[] buffers, Init init, SplittableRandom rnd) {
        Arrays.fill(params, gamma, gamma + width, 1f);
        Arrays.fill(params, beta, beta + width, 0f);
        Arrays.fill(buffers, running, running + width, 0f);
        Arrays.fill(buffers, running + width, running + 2 * width, 1f);
    }

    /** state: xhat [maxRows*width], then invstd [width], mean [width], unbiased var [width]. */
    @Override
    public long stateSize(int maxRows) {
        return (long) maxRows * width + 3L * width;
    }

    @Override
    public void forward(ShardContext p, float[] x, int xOff, float[] y, int yOff, int rows, float[] state) {
        final float[] prm = p.params;
        if (!p.train) {
            final float[] buf = p.buffers;
            for (int j = 0; j < width; j++) {
                float inv = (float) (1.0 / Math.sqrt(buf[running + width + j] + EPS));
                float m = buf[running + j], g = prm[gamma + j] * inv, bj = prm[beta + j];
                for (int r = 0; r < rows; r++) {
                    int i = r * width + j;
                    y[yOff + i] = (x[xOff + i] - m) * g + bj;
                }
            }
            return;
        }
        final int xhat = 0;
        final int invStd = stateInv(rows), meanOff = invStd + width, varOff = meanOff + width;
        for (int j = 0; j < width; j++) {
            double s = 0;
            for (int r = 0; r < rows; r++) s += x[xOff + r * width + j];
            double mean = s / rows;
            double ss = 0;
            for (int r = 0; r < rows; r++) {
                double d = x[xOff + r * width + j] - mean;
                ss += d * d;
            }
            double var = ss / rows;
            float inv = (float) (1.0 / Math.sqrt(var + EPS));
            state[invStd + j] = inv;
            state[meanOff + j] = (float) mean;
            state[varOff + j] = (float) (rows > 1 ? ss / (rows - 1) : var);
            float m = (float) mean, g = prm[gamma + j], bj = prm[beta + j];
            for (int r = 0; r < rows; r++) {
                int i = r * width + j;
                float h = (x[xOff + i] - m) * inv;
                state[xhat + i] = h;
                y[yOff + i] = g * h + bj;
            }
        }
    }

    private int stateInv(int rows) {
        // The per-feature vectors sit after the xhat block of the *current* shard size.
        return rows * width;
    }

    @Override
    public void backward(ShardContext p, float[] x, int xOff, float[] y, int yOff, float[] dy, int dyOff,
                         float[] dx, int dxOff, int rows, float[] state, float[] grad) {
        final float[] prm = p.params;
        final int invStd = stateInv(rows), meanOff = invStd + width, varOff = meanOff + width;
        for (int j = 0; j < width; j++) {
            double sumDy = 0, sumDyXhat = 0;
            for (int r = 0; r < rows; r++) {
                int i = r * width + j;
                float g = dy[dyOff + i];
                sumDy += g;
                sumDyXhat += g * state[i];
            }
            grad[gamma + j] = (float) sumDyXhat;
            grad[beta + j] = (float) sumDy;
            grad[statMean + j] = state[meanOff + j];
            grad[statVar + j] = state[varOff + j];
            if (dx != null) {
                // dx = gamma*invstd/N * (N*dy - sum(dy) - xhat*sum(dy*xhat))
                float k = prm[gamma + j] * state[invStd + j] / rows;
                float sDy = (float) sumDy, sDyX = (float) sumDyXhat;
                for (int r = 0; r < rows; r++) {
                    int i = r * width + j;
                    dx[dxOff + i] = k * (rows * dy[dyOff + i] - sDy - state[i] * sDyX);
                }
            }
        }
    }

    @Override
    public void commitStatistics(float[] reduced, int shards, float[] buffers) {
        final float f = MOMENTUM / shards;
        for (int j = 0; j < width; j++) {
            buffers[running + j] = (1 - MOMENTUM) * buffers[running + j] + f * reduced[statMean + j];
            buffers[running + width + j] = (1 - MOMENTUM) * buffers[running + width + j] + f * reduced[statVar + j];
        }
    }
}
