package dev.forkprop.run;

/**
 * What the {@link Trainer} calls at step boundaries, for checkpoints and stop requests; keeps file
 * I/O out of the loop. Called on the coordinator thread, between steps: parameters, buffers and
 * optimizer state are quiescent and may be read (HB: the engine's phase barrier of the step just
 * finished -> the coordinator returning from {@code Engine.step}).
 *
 * <p>Each call receives the run's {@link Position}, one instance updated in place by the trainer:
 * read it during the call, {@link Position#copy()} what you keep.
 */
public interface StepHook {
    /** Does nothing and never stops. */
    StepHook NONE = new StepHook() {
        @Override public boolean afterStep(Position at) { return false; }
        @Override public void atEnd(Position at, boolean stopped) {}
    };

    /**
     * After the step at {@code at.step()} finished, a good one or a bad one ({@code at.badSteps()}
     * counts this one); return true to stop training now (the test set is still evaluated).
     */
    boolean afterStep(Position at);

    /**
     * After the validation of epoch {@code at.epoch()} (0-based), with a validation set only:
     * {@code valLoss} and {@code valAccuracy} of this epoch; {@code at} holds the lowest validation
     * loss so far with its 1-based epoch ({@code at.bestEpoch() == at.epoch() + 1}: this epoch is
     * the new best). Return true to stop now (the test set is still evaluated). An epoch a resumed
     * run validates again (it was validated before its checkpoint) is not reported twice.
     */
    default boolean afterEpoch(Position at, double valLoss, double valAccuracy) {
        return false;
    }

    /**
     * Once, after the last step (normal end, max steps, early stop, or stop request); before the
     * final evaluation. After divergence (consecutive bad steps) the position is that of the last
     * good step: the skipped updates left parameters and optimizer state as that step did, and
     * {@code at.badSteps()} counts the bad steps up to it, not the run of bad steps after it.
     */
    void atEnd(Position at, boolean stopped);
}
