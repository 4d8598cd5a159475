package dev.forkprop.engine;

/**
 * What the {@link Trainer} calls at step boundaries, for checkpoints and stop requests; keeps file
 * I/O out of the loop. Called on the coordinator thread, between steps: parameters, buffers and
 * optimizer state are quiescent and may be read (HB: the engine's phase barrier of the step just
 * finished -> the coordinator returning from {@link Engine#step}).
 *
 * <p>Position convention: {@code epoch} is 0-based and {@code batchesDone} counts the batches of
 * that epoch already trained (so {@code perEpoch} at an epoch's last step); a run started at
 * {@link Trainer.Start}{@code (step, epoch, batchesDone)} continues exactly there.
 */
public interface StepHook {
    /** Does nothing and never stops. */
    StepHook NONE = new StepHook() {
        @Override public boolean afterStep(long step, int epoch, int batchesDone, long badSteps) { return false; }
        @Override public void atEnd(long step, int epoch, int batchesDone, long badSteps, boolean stopped) {}
    };

    /**
     * After step {@code step} finished, a good one or a bad one ({@code badSteps}: the run's bad
     * steps so far, this one included, counted on from {@link Trainer.Start#badSteps} on a resumed
     * run); return true to stop training now (the test set is still evaluated).
     */
    boolean afterStep(long step, int epoch, int batchesDone, long badSteps);

    /**
     * After the validation of epoch {@code epoch} (0-based), with a validation set only:
     * {@code valLoss} and {@code valAccuracy} of this epoch, and the lowest validation loss so far
     * with its 1-based epoch ({@code bestEpoch == epoch + 1}: this epoch is the new best). Return
     * true to stop now (the test set is still evaluated). An epoch a resumed run validates again
     * (it was validated before its checkpoint) is not reported twice.
     */
    default boolean afterEpoch(long step, int epoch, int batchesDone, double valLoss, double valAccuracy,
                               double bestValLoss, int bestEpoch) {
        return false;
    }

    /**
     * Once, after the last step (normal end, max steps, early stop, or stop request); before the
     * final evaluation. After divergence (consecutive bad steps) the position is that of the last
     * good step: the skipped updates left parameters and optimizer state as that step did, and
     * {@code badSteps} counts the bad steps up to it, not the run of bad steps after it.
     */
    void atEnd(long step, int epoch, int batchesDone, long badSteps, boolean stopped);
}
