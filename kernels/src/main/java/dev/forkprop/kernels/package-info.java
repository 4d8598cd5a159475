/**
 * Float math on flat arrays, with no dependencies: the GEMM interface ({@link dev.forkprop.kernels.Gemm},
 * {@code C = alpha * op(A) * op(B) + beta * C} with BLAS-style {@code m, n, k, lda, ldb, ldc} and
 * offsets), its Vector API implementation ({@link dev.forkprop.kernels.VectorGemm}: packed panels,
 * a register micro-tile, narrower tiles for ragged edges), a scalar one, and the naive
 * {@link dev.forkprop.kernels.GemmReference} every kernel is tested against; elementwise
 * activations, softmax and the vector helpers of the reduce ({@link dev.forkprop.kernels.Vec}).
 *
 * <p>Contract shared by every kernel: a block of rows of C is bitwise that block of the whole
 * product, so that how the rows are split between threads changes no bit. Kernels allocate
 * nothing per call (scratch comes from a caller-owned {@link dev.forkprop.kernels.GemmWorkspace}).
 *
 * <p>Who calls: the model's layers (through {@code MatrixProducts}) and the engine; the bench
 * module's JMH benchmarks. Nothing here knows about layers, threads or training.
 */
package dev.forkprop.kernels;
