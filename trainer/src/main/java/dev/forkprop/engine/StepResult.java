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
    /** Norm of the mean gradient (before clipping); NaN for a bad step when the reduction is fused. */
    public double gradNorm;
    /**
     * Phase times. {@code computeNanos}: forward and backward (and the weight packing, on the
     * steps that pack before compute). {@code reduceNanos}: from the end of compute to the start of
     * the update: with gradient clipping the separate reduce phase; without it only the
     * coordinator's check, the reduction being fused into the update. {@code updateNanos}: the
     * update phase (with the reduction when fused, and the packing of the new weights).
     */
    public long computeNanos, reduceNanos, updateNanos;
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
