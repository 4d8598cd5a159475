package dev.forkprop.engine;

import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.GemmWorkspace;
import dev.forkprop.model.Dense;
import dev.forkprop.model.MatrixProducts;

/**
 * A worker's {@link MatrixProducts}: the weights come pre-packed from {@link WeightPacks} (packed
 * once per step by the update, not once per shard), and while the worker runs a shard offered to
 * idle workers ({@link #shard} set) each product goes through that shard's {@link SharedProducts},
 * so that helpers can compute chunks of it. Bitwise the plain kernel either way (the
 * {@link MatrixProducts} contract).
 *
 * <p>One per worker, used only by the thread running that worker; allocates nothing per product.
 */
final class EngineProducts implements MatrixProducts {
    final Gemm gemm;
    final GemmWorkspace ws;
    private final WeightPacks packs;
    /** The board of the shard being computed, or null to compute every product on this thread alone. */
    SharedProducts shard;

    EngineProducts(Gemm gemm, WeightPacks packs) {
        this.gemm = gemm;
        this.ws = gemm.newWorkspace();
        this.packs = packs;
    }

    @Override
    public void forward(Dense layer, int rows, float[] x, int xOff, float[] params, float[] y, int yOff) {
        final int in = layer.in(), out = layer.out(), packed = packs.forwardOffset(layer.denseIndex());
        final SharedProducts s = shard;
        if (s != null) s.gemmPacked(gemm, ws, false, rows, out, in, x, xOff, in, packs.data, packed, y, yOff, out);
        else gemm.gemmPacked(false, rows, out, in, 1f, x, xOff, in, packs.data, packed, 0f, y, yOff, out, ws);
    }

    @Override
    public void weightGradient(Dense layer, int rows, float[] x, int xOff, float[] dy, int dyOff, float[] grad) {
        final int in = layer.in(), out = layer.out(), w = layer.weightOffset();
        final SharedProducts s = shard;
        if (s != null) s.gemmTN(gemm, ws, in, out, rows, x, xOff, in, dy, dyOff, out, grad, w, out);
        else gemm.gemm(true, false, in, out, rows, 1f, x, xOff, in, dy, dyOff, out, 0f, grad, w, out, ws);
    }

    @Override
    public void inputGradient(Dense layer, int rows, float[] dy, int dyOff, float[] params, float[] dx, int dxOff) {
        final int in = layer.in(), out = layer.out(), packed = packs.backwardOffset(layer.denseIndex());
        final SharedProducts s = shard;
        if (packed < 0) { // the first layer has no W^T pack: its dX is never needed in training
            gemm.gemm(false, true, rows, in, out, 1f, dy, dyOff, out, params, layer.weightOffset(), out, 0f, dx, dxOff, in, ws);
        } else if (s != null) {
            s.gemmPacked(gemm, ws, false, rows, in, out, dy, dyOff, out, packs.data, packed, dx, dxOff, in);
        } else {
            gemm.gemmPacked(false, rows, in, out, 1f, dy, dyOff, out, packs.data, packed, 0f, dx, dxOff, in, ws);
        }
    }
}
