package dev.forkprop.model;

/**
 * A worker's per-shard context: everything a layer needs besides its input and output buffers for
 * one forward or backward over a shard: the parameters, how to compute matrix products, training
 * mode, and what dropout needs to draw per-sample masks.
 *
 * <p>One instance per worker thread, mutated between shards by that thread only (no
 * synchronization: confinement). Allocated once; the step loop only assigns fields.
 */
public final class ShardContext {
    /** The shared flat parameter vector; read-only during forward and backward. */
    public float[] params;
    /** Per-run non-trainable state (batch-norm running statistics), read-only in a step. */
    public float[] buffers;
    /** How dense layers compute their matrix products (the kernel, and whatever the caller adds to it). */
    public final MatrixProducts products;
    /** Training mode: dropout active, batch norm uses batch statistics. */
    public boolean train;
    /** Seed of the run; with {@link #step} and the sample position it keys dropout masks. */
    public long seed;
    /** Step number, 1-based. */
    public long step;
    /** Position in the minibatch of this shard's first row (dropout keys are per sample). */
    public int rowBase;

    public ShardContext(MatrixProducts products) {
        this.products = products;
    }
}
