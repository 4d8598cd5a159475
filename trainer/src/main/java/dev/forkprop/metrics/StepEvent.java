package dev.forkprop.metrics;

/**
 * One preallocated slot of the {@link SpscTelemetryRing}: what the coordinator measured for one
 * training step, or (kind {@link #EPOCH_END}) the totals of one epoch. Plain mutable fields, no
 * references to anything that changes; not a value object and not meant to be kept.
 *
 * <p>Ownership: between {@link SpscTelemetryRing#tryClaim()} and
 * {@link SpscTelemetryRing#publish(StepEvent)} only the producer (coordinator) thread writes a
 * slot; after publication only the reporter thread reads it, until the ring wraps around to it.
 * Every field is overwritten on each claim, so a sink must copy what it keeps.
 *
 * <p>Memory consistency effects: the producer's plain writes to the fields happen-before the
 * reporter's reads, through the release store of the ring's cursor in {@code publish} and the
 * acquire load of it in the reporter's sequence barrier.
 */
public final class StepEvent {
    /** {@link #kind}: one training step. */
    public static final int STEP = 0;
    /** {@link #kind}: an epoch finished; {@code loss/correct/samples} are epoch totals. */
    public static final int EPOCH_END = 1;

    /** {@link #STEP} or {@link #EPOCH_END}. */
    public int kind;
    /** 1-based global step (for EPOCH_END: the last step of the epoch). */
    public long step;
    /** 1-based epoch. */
    public int epoch;
    /** Planned total steps of the run, for progress lines. */
    public long totalSteps;
    /** Mean loss over {@link #samples}. */
    public double loss;
    public long correct;
    public long samples;
    /** Learning rate this step used (NaN for EPOCH_END). */
    public double lr;
    /**
     * Wall time of the whole step and of its phases, ns: weight packing, forward and backward;
     * reduce and update; and, of those, the coordinator's wait at the phase barriers for the other
     * workers (load imbalance, wake-ups, preemption).
     */
    public long stepNanos, computeNanos, reduceUpdateNanos, barrierWaitNanos;
    /** The ranks' gradient collectives (0 in a single process). */
    public long allreduceNanos;
    /** How long the coordinator waited for this step's batch from the loader, ns (part of {@link #stepNanos}). */
    public long dataWaitNanos;
    /** False when the step was skipped for a non-finite loss or gradient. */
    public boolean finite;
    /** True after warm-up: latency percentiles and samples/s cover only timed steps. */
    public boolean timed;
    /** {@code System.nanoTime()} when the producer filled the slot; drives log periods. */
    public long nanoTime;
    /** EPOCH_END only: validation loss and accuracy, NaN when there is no validation set. */
    public double valLoss, valAccuracy;

    /** Fraction of {@link #samples} classified correctly (0 when there are none). */
    public double accuracy() {
        return samples == 0 ? Double.NaN : (double) correct / samples;
    }

    /**
     * The training half of an epoch line: {@code train loss 0.1234 acc 0.9876}, or a note when the
     * epoch's steps all ran before the checkpoint this run resumed from (no samples here).
     */
    public String trainSummary() {
        return samples == 0 ? "no training steps here (resumed at its end)"
                : String.format(java.util.Locale.ROOT, "train loss %.4f acc %.4f", loss, accuracy());
    }

    /** Fills the step fields; {@code kind}, val fields reset. Allocation-free. */
    public StepEvent step(long step, int epoch, long totalSteps, double lr, long stepNanos, boolean timed, long nanoTime) {
        this.kind = STEP;
        this.step = step;
        this.epoch = epoch;
        this.totalSteps = totalSteps;
        this.lr = lr;
        this.stepNanos = stepNanos;
        this.timed = timed;
        this.nanoTime = nanoTime;
        this.valLoss = Double.NaN;
        this.valAccuracy = Double.NaN;
        this.dataWaitNanos = 0;
        return this;
    }

    /** Sets the wait for the step's batch (after {@link #step}, which resets it to 0). Allocation-free. */
    public StepEvent dataWait(long nanos) {
        this.dataWaitNanos = nanos;
        return this;
    }

    /** Fills what the engine measured. Allocation-free. */
    public StepEvent result(double loss, long correct, long samples, long computeNanos, long reduceUpdateNanos, long barrierWaitNanos,
                            boolean finite) {
        this.loss = loss;
        this.correct = correct;
        this.samples = samples;
        this.computeNanos = computeNanos;
        this.reduceUpdateNanos = reduceUpdateNanos;
        this.barrierWaitNanos = barrierWaitNanos;
        this.finite = finite;
        this.allreduceNanos = 0;
        return this;
    }

    /** Fills the time of the ranks' collectives, after {@link #result}. Allocation-free. */
    public StepEvent allreduce(long nanos) {
        this.allreduceNanos = nanos;
        return this;
    }

    /** Fills an {@link #EPOCH_END} slot. Allocation-free. */
    public StepEvent epochEnd(long step, int epoch, long totalSteps, double trainLoss, long correct, long samples,
                              double valLoss, double valAccuracy, long nanoTime) {
        this.kind = EPOCH_END;
        this.step = step;
        this.epoch = epoch;
        this.totalSteps = totalSteps;
        this.loss = trainLoss;
        this.correct = correct;
        this.samples = samples;
        this.lr = Double.NaN;
        this.stepNanos = this.computeNanos = this.reduceUpdateNanos = this.barrierWaitNanos = this.dataWaitNanos = this.allreduceNanos = 0;
        this.finite = true;
        this.timed = false;
        this.nanoTime = nanoTime;
        this.valLoss = valLoss;
        this.valAccuracy = valAccuracy;
        return this;
    }
}
