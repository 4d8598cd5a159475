package dev.forkprop.model;

import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.GemmWorkspace;

/**
 * Everything a layer needs besides its input and output buffers for one forward or backward over
 * a shard: the parameters, the kernel and its workspace, training mode, and what dropout needs to
 * draw per-sample masks.
 *
 * <p>One instance per worker thread, mutated between shards by that thread only (no
 * synchronization: confinement). Allocated once; the step loop only assigns fields.
 */
public final class Pass {
    /** The shared flat parameter vector; read-only during forward and backward. */
    public float[] params;
    /** Per-run non-trainable state (batch-norm running statistics), read-only in a step. */
    public float[] buffers;
    public final Gemm gemm;
    public final GemmWorkspace gemmWs;
    /** Training mode: dropout active, batch norm uses batch statistics. */
    public boolean train;
    /** Seed of the run; with {@link #step} and the sample position it keys dropout masks. */
    public long seed;
    /** Step number, 1-based. */
    public long step;
    /** Position in the minibatch of this shard's first row (dropout keys are per sample). */
    public int rowBase;
    /**
     * The weights pre-packed for {@link #gemm} from the current {@link #params}, or null to pack
     * inside every product. Read-only here; whoever sets it keeps it in step with the parameters.
     */
    public WeightPacks packs;
    /**
     * The current shard's products, offered to idle workers ({@link SharedProducts}), or null to
     * compute every product on this thread alone. The products through pre-packed weights use it
     * only with {@link #packs}; {@code dW} always can.
     */
    public SharedProducts shared;

    public Pass(Gemm gemm) {
        this.gemm = gemm;
        this.gemmWs = gemm.newWorkspace();
    }
}
