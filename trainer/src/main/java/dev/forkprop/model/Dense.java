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
    /** This layer's index among its network's dense layers (set by {@link Network}; used by {@link WeightPacks}). */
    int packIndex = -1;

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

    @Override
    public void init(float[] params, float[] buffers, Init init, SplittableRandom rnd) {
        init.fill(params, w, in, out, rnd);
        java.util.Arrays.fill(params, b, b + out, 0f);
    }

    @Override
    public void forward(Pass p, float[] x, int xOff, float[] y, int yOff, int rows, float[] state) {
        // y: [rows, out] = x: [rows, in] * W: [in, out], then + b
        final WeightPacks packs = p.packs;
        if (packs != null && p.shared != null) {
            p.shared.gemmPacked(p.gemm, p.gemmWs, false, rows, out, in, x, xOff, in, packs.data, packs.forwardOffset(packIndex),
                    y, yOff, out);
        } else if (packs != null) {
            p.gemm.gemmPacked(false, rows, out, in, 1f, x, xOff, in, packs.data, packs.forwardOffset(packIndex),
                    0f, y, yOff, out, p.gemmWs);
        } else {
            p.gemm.gemm(false, false, rows, out, in, 1f, x, xOff, in, p.params, w, out, 0f, y, yOff, out, p.gemmWs);
        }
        Vec.addBias(y, yOff, rows, out, out, p.params, b);
    }

    @Override
    public void backward(Pass p, float[] x, int xOff, float[] y, int yOff, float[] dy, int dyOff,
                         float[] dx, int dxOff, int rows, float[] state, float[] grad) {
        // dW: [in, out] = x^T: [in, rows] * dY: [rows, out]
        if (p.shared != null) {
            p.shared.gemmTN(p.gemm, p.gemmWs, in, out, rows, x, xOff, in, dy, dyOff, out, grad, w, out);
        } else {
            p.gemm.gemm(true, false, in, out, rows, 1f, x, xOff, in, dy, dyOff, out, 0f, grad, w, out, p.gemmWs);
        }
        // db: [out] = column sums of dY
        Vec.colSums(dy, dyOff, rows, out, out, grad, b, false);
        if (dx != null) {
            // dX: [rows, in] = dY: [rows, out] * W^T: [out, in]
            final WeightPacks packs = p.packs;
            final int packed = packs == null ? -1 : packs.backwardOffset(packIndex);
            if (packed >= 0 && p.shared != null) {
                p.shared.gemmPacked(p.gemm, p.gemmWs, false, rows, in, out, dy, dyOff, out, packs.data, packed, dx, dxOff, in);
            } else if (packed >= 0) {
                p.gemm.gemmPacked(false, rows, in, out, 1f, dy, dyOff, out, packs.data, packed, 0f, dx, dxOff, in, p.gemmWs);
            } else {
                p.gemm.gemm(false, true, rows, in, out, 1f, dy, dyOff, out, p.params, w, out, 0f, dx, dxOff, in, p.gemmWs);
            }
        }
    }
}
