/**
 * The network: layers ({@link dev.forkprop.model.Dense}, activations, dropout, batch norm, layer
 * norm), each with {@code forward} and {@code backward} side by side over a shard of rows in
 * caller-given buffers; {@link dev.forkprop.model.Network} and the spec parser
 * ({@link dev.forkprop.model.ModelSpec}); one flat parameter array and its offsets
 * ({@link dev.forkprop.model.ParamLayout}); a worker's per-shard buffers
 * ({@link dev.forkprop.model.Workspace}) and per-shard context
 * ({@link dev.forkprop.model.ShardContext}).
 *
 * <p>A dense layer asks for its three matrix products through
 * {@link dev.forkprop.model.MatrixProducts} and knows nothing of how they are computed:
 * {@link dev.forkprop.model.DirectProducts} calls the kernel on the calling thread (evaluation,
 * tests); the engine supplies pre-packed weights and idle-worker helping behind the same
 * interface. Layers hold no per-shard state, so any number of workers can run one layer at once.
 *
 * <p>Who calls: the engine (training and evaluation), {@code eval}, {@code export}. Depends on
 * {@code kernels} only.
 */
package dev.forkprop.model;
