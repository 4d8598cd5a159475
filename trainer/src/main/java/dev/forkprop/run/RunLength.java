package dev.forkprop.run;

/**
 * How long a run is: {@code stepsPerEpoch} full batches per epoch (the last incomplete batch is
 * dropped, like PyTorch's {@code drop_last=True}, so that every step has the shape the buffers are
 * sized for) and {@code totalSteps} in all. The one place this arithmetic lives: the trainer, the
 * learning-rate schedule, checkpoints and the progress display all take it from here.
 */
public record RunLength(int stepsPerEpoch, int epochs, long totalSteps) {

    /**
     * The length of {@code epochs} epochs over {@code trainSize} samples at {@code batch}, cut at
     * {@code maxSteps} when that is positive.
     *
     * @throws IllegalArgumentException when the batch is larger than the training set
     */
    public static RunLength of(int trainSize, int batch, int epochs, long maxSteps) {
        if (batch <= 0 || epochs <= 0 || maxSteps < 0) {
            throw new IllegalArgumentException("batch and epochs must be positive and max steps >= 0, got "
                    + batch + ", " + epochs + ", " + maxSteps);
        }
        int perEpoch = trainSize / batch;
        if (perEpoch == 0) {
            throw new IllegalArgumentException("batch " + batch + " is larger than the training set (" + trainSize + " samples)");
        }
        long all = (long) perEpoch * epochs;
        return new RunLength(perEpoch, epochs, maxSteps > 0 ? Math.min(maxSteps, all) : all);
    }
}
