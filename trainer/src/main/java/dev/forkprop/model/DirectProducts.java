package dev.forkprop.model;

import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.GemmWorkspace;

/**
 * {@link MatrixProducts} computed by one kernel on the calling thread, packing the weights inside
 * every product. For evaluation outside the engine and for tests; the engine uses pre-packed
 * weights instead. One instance per thread (it owns a kernel workspace).
 */
public final class DirectProducts implements MatrixProducts {
    private final Gemm gemm;
    private final GemmWorkspace ws;

    public DirectProducts(Gemm gemm) {
        this.gemm = gemm;
        this.ws = gemm.newWorkspace();
    }

    @Override
    public void forward(Dense layer, int rows, float[] x, int xOff, float[] params, float[] y, int yOff) {
        final int in = layer.in(), out = layer.out();
        gemm.gemm(false, false, rows, out, in, 1f, x, xOff, in, params, layer.weightOffset(), out, 0f, y, yOff, out, ws);
    }

    @Override
    public void weightGradient(Dense layer, int rows, float[] x, int xOff, float[] dy, int dyOff, float[] grad) {
        final int in = layer.in(), out = layer.out();
        gemm.gemm(true, false, in, out, rows, 1f, x, xOff, in, dy, dyOff, out, 0f, grad, layer.weightOffset(), out, ws);
    }

    @Override
    public void inputGradient(Dense layer, int rows, float[] dy, int dyOff, float[] params, float[] dx, int dxOff) {
        final int in = layer.in(), out = layer.out();
        gemm.gemm(false, true, rows, in, out, 1f, dy, dyOff, out, params, layer.weightOffset(), out, 0f, dx, dxOff, in, ws);
    }
}
