package dev.forkprop.run;

import dev.forkprop.io.Checkpoint;
import java.util.Map;

/**
 * Where a run stands: after {@link #step()} steps, at batch {@link #batchesDone()} of 0-based
 * {@link #epoch()} ({@code stepsPerEpoch} batches done at an epoch's last step); the bad steps
 * (updates skipped) up to there; and the validation record: the lowest validation loss so far
 * (NaN: none yet), its 1-based epoch, and how many epochs the record covers (a resumed run
 * validates again the epoch it resumes in; an epoch already counted is not counted twice).
 *
 * <p>The one form of a run's position: where a run starts ({@link Trainer#fit}), what a
 * {@link StepHook} sees after each step, and what a checkpoint records ({@link #writeTo},
 * {@link #readFrom}). The {@link Trainer} keeps one instance per run and updates it in place, so
 * that a step allocates nothing; a hook reads it during the call and {@link #copy()}s what it keeps.
 * Not thread-safe: the coordinator thread only.
 */
public final class Position {
    long step;
    int epoch;
    int batchesDone;
    long badSteps;
    double bestValLoss = Double.NaN;
    int bestEpoch;
    int validatedEpochs;

    /** The start of a fresh run. */
    public Position() {}

    /** After {@code step} steps, {@code batchesDone} batches into 0-based {@code epoch}; no bad step, no validation yet. */
    public Position(long step, int epoch, int batchesDone) {
        if (step < 0 || epoch < 0 || batchesDone < 0) {
            throw new IllegalArgumentException("a position is not negative: step " + step + ", epoch " + epoch + ", batch " + batchesDone);
        }
        this.step = step;
        this.epoch = epoch;
        this.batchesDone = batchesDone;
    }

    public long step() { return step; }
    public int epoch() { return epoch; }
    public int batchesDone() { return batchesDone; }
    /** Bad steps of the run up to here (updates skipped: loss or gradient not finite, or the loss exploded). */
    public long badSteps() { return badSteps; }
    /** Lowest validation loss so far, NaN before the first validation. */
    public double bestValLoss() { return bestValLoss; }
    /** 1-based epoch of {@link #bestValLoss()}, 0 before the first validation. */
    public int bestEpoch() { return bestEpoch; }
    /** Epochs whose validation the record covers. */
    public int validatedEpochs() { return validatedEpochs; }

    /** This position with {@code badSteps} bad steps so far. */
    public Position withBadSteps(long badSteps) {
        Position p = copy();
        p.badSteps = badSteps;
        return p;
    }

    public Position copy() {
        Position p = new Position();
        p.set(this);
        return p;
    }

    void set(Position o) {
        step = o.step;
        epoch = o.epoch;
        batchesDone = o.batchesDone;
        badSteps = o.badSteps;
        bestValLoss = o.bestValLoss;
        bestEpoch = o.bestEpoch;
        validatedEpochs = o.validatedEpochs;
    }

    /**
     * True when this position is the end of an epoch that was not validated before it was saved:
     * {@link Trainer#fit} with a validation set then validates it and writes its epoch row again
     * (and only then; resumed at the end of a validated epoch, it writes none).
     */
    public boolean revalidatesEpoch(int stepsPerEpoch) {
        return batchesDone == stepsPerEpoch && epoch + 1 > validatedEpochs;
    }

    /** Records this position in checkpoint metadata (the keys {@link #readFrom} reads). */
    public void writeTo(Map<String, String> metadata) {
        metadata.put("step", Long.toString(step));
        metadata.put("epoch", Integer.toString(epoch));
        metadata.put("batches_done", Integer.toString(batchesDone));
        metadata.put("best_val_loss", Double.toString(bestValLoss));
        metadata.put("best_epoch", Integer.toString(bestEpoch));
        metadata.put("validated_epochs", Integer.toString(validatedEpochs));
        metadata.put("bad_steps", Long.toString(badSteps));
    }

    /**
     * The position a checkpoint recorded, range-checked against epochs of {@code stepsPerEpoch}
     * batches: a validly signed file can still hold nonsense, and the error names it. Files without
     * a validation record or a bad-step count (written by versions without early stopping or the
     * divergence guard) read as none and 0.
     */
    public static Position readFrom(Checkpoint c, int stepsPerEpoch) {
        long step = c.longField("step", 0, Long.MAX_VALUE);
        int epoch = (int) c.longField("epoch", 0, Integer.MAX_VALUE - 1);
        int batchesDone = (int) c.longField("batches_done", 0, stepsPerEpoch);
        if (step != (long) epoch * stepsPerEpoch + batchesDone) {
            throw c.bad("position is inconsistent: step " + step + " is not epoch " + epoch + " x " + stepsPerEpoch
                    + " batches + " + batchesDone);
        }
        Position p = new Position(step, epoch, batchesDone);
        Map<String, String> m = c.metadata();
        p.bestValLoss = c.doubleField("best_val_loss", Double.NaN);
        p.bestEpoch = m.containsKey("best_epoch") ? (int) c.longField("best_epoch", 0, epoch + 1) : 0;
        p.validatedEpochs = m.containsKey("validated_epochs") ? (int) c.longField("validated_epochs", 0, epoch + 1) : 0;
        p.badSteps = m.containsKey("bad_steps") ? c.longField("bad_steps", 0, step) : 0;
        return p;
    }

    @Override
    public String toString() {
        return "step " + step + " (epoch " + (epoch + 1) + ", batch " + batchesDone + ")";
    }
}
