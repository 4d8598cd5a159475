package dev.forkprop.engine;

/**
 * What one step (or one evaluation) measured. A single instance per engine, overwritten in place
 * by the coordinator thread; copy what you keep.
 */
public final class StepResult {
    /** Mean loss over the samples. */
    public double loss;
    /** Correctly classified samples (0 for regression). */
    public int correct;
    public int samples;
    /**
     * Norm of the mean gradient (before clipping). With ranks that allreduce and no clip: from the
     * root of the sum of the ranks' own squared norms instead, as no pass is spent on the global one.
     */
    public double gradNorm;
    /**
     * Phase times: {@code computeNanos} forward and backward (and, on a first step, after
     * {@link Engine#paramsWritten} or after a failed update, a pack of the weights); {@code reduceNanos} the sum of the
     * shards' gradients and its norm; {@code updateNanos} the optimizer on it, the packing of the
     * updated weights for the next step, and the statistics commit (near zero for a skipped step).
     */
    public long computeNanos, reduceNanos, updateNanos;
    /** Time in the ranks' collectives ({@link ShardExchange}), not counted in {@code reduceNanos}; 0 in a single process. */
    public long exchangeNanos;
    /**
     * Of the three phase times above, how long the coordinator (worker 0) waited at the phase
     * barriers for the other workers after finishing its own part: load imbalance, wake-up
     * latency and preemption. 0 with one thread.
     */
    public long waitNanos;
    /** False when loss or gradient was NaN or infinite and the update was skipped. */
    public boolean finite;

    public double accuracy() {
        return samples == 0 ? 0 : (double) correct / samples;
    }
}
