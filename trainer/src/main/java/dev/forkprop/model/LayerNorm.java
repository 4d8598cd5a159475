package dev.forkprop.model;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Layer normalisation over the features of each row:
 * {@code y = gamma * (x - mean_row) / sqrt(var_row + eps) + beta}. Row-local, so it behaves the
 * same in training and evaluation and for any sharding.
 *
 * <p>Parameters {@code layers.<i>.weight (gamma): [width]}, {@code layers.<i>.bias (beta): [width]}.
 */
public final class LayerNorm implements Layer {
    public static final float EPS = 1e-5f;

    private final int width;
    private int gamma, beta;

    public LayerNorm(int width) {
        this.width = width;
    }

    @Override public int in() { return width; }
    @Override public int out() { return width; }
    @Override public String spec() { return "layernorm"; }

    @Override
    public void declare(ParamLayout.Builder layout, int index) {
        gamma = layout.param("layers." + index + ".weight", width);
        beta = layout.param("layers." + index + ".bias", width);
    }

    @Override
    public void init(float[] params, float[] buffers, Init init, SplittableRandom rnd) {
        Arrays.fill(params, gamma, gamma + width, 1f);
        Arrays.fill(params, beta, beta + width, 0f);
    }

    /** state: xhat [maxRows*width], then rstd [maxRows]. */
    @Override
    public long stateSize(int maxRows) {
        return (long) maxRows * (width + 1L);
    }

    @Override
    public void forward(ShardContext p, float[] x, int xOff, float[] y, int yOff, int rows, float[] state) {
        final float[] prm = p.params;
        final int rstdOff = rows * width;
        for (int r = 0; r < rows; r++) {
            final int row = r * width;
            double s = 0;
            for (int j = 0; j < width; j++) s += x[xOff + row + j];
            double mean = s / width, ss = 0;
            for (int j = 0; j < width; j++) {
                double d = x[xOff + row + j] - mean;
                ss += d * d;
            }
            float rstd = (float) (1.0 / Math.sqrt(ss / width + EPS));
            state[rstdOff + r] = rstd;
            float m = (float) mean;
            for (int j = 0; j < width; j++) {
                float h = (x[xOff + row + j] - m) * rstd;
                state[row + j] = h;
                y[yOff + row + j] = prm[gamma + j] * h + prm[beta + j];
            }
        }
    }

    @Override
    public void backward(ShardContext p, float[] x, int xOff, float[] y, int yOff, float[] dy, int dyOff,
                         float[] dx, int dxOff, int rows, float[] state, float[] grad) {
        final float[] prm = p.params;
        final int rstdOff = rows * width;
        Arrays.fill(grad, gamma, gamma + width, 0f);
        Arrays.fill(grad, beta, beta + width, 0f);
        for (int r = 0; r < rows; r++) {
            final int row = r * width;
            double sumG = 0, sumGX = 0;
            for (int j = 0; j < width; j++) {
                float g = dy[dyOff + row + j];
                float h = state[row + j];
                grad[gamma + j] += g * h;
                grad[beta + j] += g;
                float gh = g * prm[gamma + j]; // d loss / d xhat
                sumG += gh;
                sumGX += gh * h;
            }
            if (dx != null) {
                // dx = rstd/D * (D*dxhat - sum(dxhat) - xhat*sum(dxhat*xhat))
                float k = state[rstdOff + r] / width, sg = (float) sumG, sgx = (float) sumGX;
                for (int j = 0; j < width; j++) {
                    float gh = dy[dyOff + row + j] * prm[gamma + j];
                    dx[dxOff + row + j] = k * (width * gh - sg - state[row + j] * sgx);
                }
            }
        }
    }
}
