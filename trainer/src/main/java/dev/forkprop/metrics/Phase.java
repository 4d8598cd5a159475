package dev.forkprop.metrics;

/** The latencies the trainer measures per step; {@link #tag} names them in .hlog files. */
public enum Phase {
    /** The whole step, as the coordinator timed it: the wait for its batch, then the engine's step. */
    STEP("step"),
    /** Forward and backward on the workers, until the last shard arrived. */
    COMPUTE("compute"),
    /**
     * Summing the shards' gradients and their norm, then the optimizer update and the statistics
     * commit (two phases of the engine; the update near zero when the step was skipped).
     */
    REDUCE_UPDATE("reduce_update"),
    /** Of compute and reduce+update, the coordinator's wait at the barriers for the other workers. */
    BARRIER_WAIT("barrier_wait"),
    /** The coordinator's wait for the loader's next batch (0 when it was ready: the steady state). */
    DATA_WAIT("data_wait"),
    /** The ranks' gradient collectives of a multi-process run (0 in a single process). */
    ALLREDUCE("allreduce");

    /** The .hlog interval tag. */
    public final String tag;

    Phase(String tag) {
        this.tag = tag;
    }

    /** This phase's nanoseconds in {@code e}. */
    public long nanos(StepEvent e) {
        return switch (this) {
            case STEP -> e.stepNanos;
            case COMPUTE -> e.computeNanos;
            case REDUCE_UPDATE -> e.reduceUpdateNanos;
            case BARRIER_WAIT -> e.barrierWaitNanos;
            case DATA_WAIT -> e.dataWaitNanos;
            case ALLREDUCE -> e.allreduceNanos;
        };
    }
}
