package dev.forkprop.model;

import dev.forkprop.kernels.Vec;
import java.util.SplittableRandom;

/**
 * Fully connected layer {@code y = x W + b}.
 *
 * <p>Parameters: {@code layers.<i>.weight: [in, out]} row-major (ld = out) and
 * {@code layers.<i>.bias: [out]}. Note the weight is stored as {@code [in, out]}, the transpose of
 * PyTorch's {@code nn.Linear.weight: [out, in]}; export transposes.
 */
public final class Dense implements Layer {
    private final int in, out;
    private int w, b;
    /** This layer's index among its network's dense layers, in order; set once by {@link Network}. */
    int denseIndex = -1;

    public Dense(int in, int out) {
        if (in <= 0 || out <= 0) throw new IllegalArgumentException("dense needs positive sizes, got " + in + "->" + out);
        this.in = in;
        this.out = out;
    }

    @Override public int in() { return in; }
    @Override public int out() { return out; }
    @Override public String spec() { return "dense:" + out; }

    @Override
    public void declare(ParamLayout.Builder layout, int index) {
        w = layout.param("layers." + index + ".weight", in, out);
        b = layout.param("layers." + index + ".bias", out);
    }

    public int weightOffset() { return w; }
    public int biasOffset() { return b; }

    /** This layer's index among its network's dense layers (0 for the first), or -1 before it joins a network. */
    public int denseIndex() { return denseIndex; }

    @Override
    public void init(float[] params, float[] buffers, Init init, SplittableRandom rnd) {
        init.fill(params, w, in, out, rnd);
        java.util.Arrays.fill(params, b, b + out, 0f);
    }

    @Override
    public void forward(ShardContext p, float[] x, int xOff, float[] y, int yOff, int rows, float[] state) {
        // y: [rows, out] = x: [rows, in] * W: [in, out], then + b
        p.products.forward(this, rows, x, xOff, p.params, y, yOff);
        Vec.addBias(y, yOff, rows, out, out, p.params, b);
    }

    @Override
    public void backward(ShardContext p, float[] x, int xOff, float[] y, int yOff, float[] dy, int dyOff,
                         float[] dx, int dxOff, int rows, float[] state, float[] grad) {
        // dW: [in, out] = x^T: [in, rows] * dY: [rows, out]
        p.products.weightGradient(this, rows, x, xOff, dy, dyOff, grad);
        // db: [out] = column sums of dY
        Vec.colSums(dy, dyOff, rows, out, out, grad, b, false);
        // dX: [rows, in] = dY: [rows, out] * W^T: [out, in]
        if (dx != null) p.products.inputGradient(this, rows, dy, dyOff, p.params, dx, dxOff);
    }
}
