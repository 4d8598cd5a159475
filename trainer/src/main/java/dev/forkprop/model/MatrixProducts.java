package dev.forkprop.model;

/**
 * How a dense layer asks for its three matrix products. The layer says which product it needs and
 * where its operands are; the implementation decides how to compute it: {@link DirectProducts}
 * calls the kernel on this thread, the engine's implementation reads pre-packed weights and lets
 * idle workers compute chunks. A layer knows nothing of packing or helping.
 *
 * <p>Contract for every implementation: the result is bitwise that of the kernel's plain
 * {@code gemm} on the same operands ({@code alpha = 1, beta = 0}: C is overwritten, never
 * accumulated), so the choice of implementation changes no bit. Buffers are row-major, leading
 * dimension equal to the width. Called by the thread that owns the {@link ShardContext}; allocates
 * nothing.
 */
public interface MatrixProducts {

    /** {@code y: [rows, out] = x: [rows, in] * W: [in, out]}, W at {@code layer.weightOffset()} of {@code params}. */
    void forward(Dense layer, int rows, float[] x, int xOff, float[] params, float[] y, int yOff);

    /** {@code dW: [in, out] = x^T: [in, rows] * dy: [rows, out]}, written at {@code layer.weightOffset()} of {@code grad}. */
    void weightGradient(Dense layer, int rows, float[] x, int xOff, float[] dy, int dyOff, float[] grad);

    /** {@code dx: [rows, in] = dy: [rows, out] * W^T: [out, in]}, W at {@code layer.weightOffset()} of {@code params}. */
    void inputGradient(Dense layer, int rows, float[] dy, int dyOff, float[] params, float[] dx, int dxOff);
}
