package dev.forkprop.run;

import dev.forkprop.engine.Engine;
import dev.forkprop.io.Checkpoint;
import dev.forkprop.model.Network;
import dev.forkprop.optim.Optimizer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * A run's checkpoint and resume policy, as the {@link StepHook} of {@link Trainer#fit}: what to
 * restore before step 1 ({@link #resume}), when to save ({@link #every}, {@link #minutes}, at the
 * end, and {@code best.safetensors} on each new best validation loss), how many to keep, and when
 * to stop ({@link #stopWhen}). The file format is {@link Checkpoint}'s; this class decides only
 * when and what.
 *
 * <p>Besides {@code ckpt-<step>.safetensors}, the directory holds {@code best.safetensors} when
 * the run has a validation split: the checkpoint after the epoch with the lowest validation loss
 * so far (metadata {@code val_loss}, {@code val_accuracy}), rewritten atomically on each new best.
 * No checkpoint is written of a step whose update was skipped (non-finite loss or gradient), nor
 * of parameters that are not finite; after divergence the last good checkpoint stays the newest.
 * With no directory nothing is saved and the hook only answers stop requests.
 *
 * <p>Every checkpoint's metadata is the run's configuration (given at construction: the keys a
 * resumed run must repeat, see {@link #resume}) plus its {@link Position}. Coordinator thread only.
 */
public final class Checkpointing implements StepHook {
    /** The best-validation checkpoint's file name in the checkpoint directory. */
    public static final String BEST = "best.safetensors";

    /** Configuration keys that a resumed run need not repeat (position, length and parallelism). */
    private static final Set<String> MAY_CHANGE = Set.of("step", "epoch", "batches_done", "epochs", "max_steps", "threads", "total_steps");

    private final Network net;
    private final Engine engine;
    private final Optimizer opt;
    private final Map<String, String> config;
    private final Path dir;
    private final PrintStream log;
    private long every;
    private double minutes;
    private int keep = 3;
    private BooleanSupplier stop = () -> false;
    /** False on every rank of a multi-process run but rank 0, whose files they all resume from. */
    private boolean writes = true;

    private long lastSavedStep = -1;
    private long lastSaveNanos = System.nanoTime();
    private Path lastSaved, best;
    /** The position as of the last step the trainer reported: what every checkpoint records. */
    private Position at = new Position();

    /**
     * @param config the run's configuration, recorded in every checkpoint and checked on resume
     * @param dir    where checkpoints go, or null to save none
     * @param log    where "checkpoint written" lines go, or null
     */
    public Checkpointing(Network net, Engine engine, Optimizer opt, Map<String, String> config, Path dir, PrintStream log) {
        this.net = net;
        this.engine = engine;
        this.opt = opt;
        this.config = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(config)); // file order: as given
        this.dir = dir;
        this.log = log;
    }

    /** Saves every {@code steps} steps (0: only at the end). */
    public Checkpointing every(long steps) {
        if (steps < 0) throw new IllegalArgumentException("checkpoint interval must be >= 0 steps, got " + steps);
        this.every = steps;
        return this;
    }

    /** Also saves when this many minutes passed since the last save (0: off). */
    public Checkpointing minutes(double minutes) {
        if (!(minutes >= 0) || !Double.isFinite(minutes)) throw new IllegalArgumentException("checkpoint minutes must be >= 0, got " + minutes);
        this.minutes = minutes;
        return this;
    }

    /** Keeps the newest {@code k} step checkpoints (default 3). */
    public Checkpointing keep(int k) {
        if (k < 1) throw new IllegalArgumentException("must keep at least one checkpoint, got " + k);
        this.keep = k;
        return this;
    }

    /**
     * Whether this process writes checkpoints (default true). The other ranks of a multi-process
     * run keep the same policy and resume from the same files, but leave the writing to rank 0.
     */
    public Checkpointing writes(boolean writes) {
        this.writes = writes;
        return this;
    }

    /** Stops the run at the next step boundary once {@code stop} says so (a signal, a deadline); a final checkpoint is saved. */
    public Checkpointing stopWhen(BooleanSupplier stop) {
        this.stop = stop;
        return this;
    }

    /**
     * Restores the newest checkpoint in the directory into the network, the engine and the
     * optimizer, after checking that this run's configuration matches it (a one-line
     * IllegalArgumentException naming the first mismatch) and that its position is one this run
     * can reach; returns that position, for {@link Trainer#fit}. Call after the network's own
     * initialisation.
     */
    public Position resume(RunLength length) {
        check(dir != null, "resume needs a checkpoint directory");
        Path f = Checkpoint.newest(dir);
        check(f != null, "--resume: no checkpoint (ckpt-<step>.safetensors) in " + dir);
        Checkpoint c = Checkpoint.read(f);
        for (Map.Entry<String, String> e : config.entrySet()) {
            String k = e.getKey();
            if (MAY_CHANGE.contains(k)) continue;
            // Version 1 did not record what later versions added (the CSV encoding and its flags).
            if (c.version().equals("1") && !c.metadata().containsKey(k)) continue;
            String was = c.get(k);
            check(was.equals(e.getValue()), "--resume: " + f + " was written with " + k + " = " + was
                    + ", this run has " + k + " = " + e.getValue() + "; use the same flags or another --checkpoint-dir");
        }
        String schedule = config.get("schedule");
        if (schedule != null && schedule.contains("cosine")) {
            check(c.get("total_steps").equals(Long.toString(length.totalSteps())), "--resume: " + f + " has a cosine schedule over "
                    + c.get("total_steps") + " steps, this run would have " + length.totalSteps() + "; keep --epochs/--max-steps");
        }
        c.restore(net, engine.params, engine.buffers, opt);
        // --epochs and --max-steps may change on resume, so only the epoch's length bounds the position.
        at = Position.readFrom(c, length.stepsPerEpoch());
        lastSavedStep = at.step();
        lastSaved = f;
        if (Files.isRegularFile(dir.resolve(BEST))) best = dir.resolve(BEST);
        say("forkprop: resumed from %s (step %d, epoch %d, batch %d)%n", f, at.step(), at.epoch() + 1, at.batchesDone());
        return at.copy();
    }

    /** The newest checkpoint this run wrote (or resumed from), or null. */
    public Path lastSaved() { return lastSaved; }

    /** {@code best.safetensors} once written (or found on resume), else null. */
    public Path best() { return best; }

    /** The checkpoint directory, or null when the run saves none. */
    public Path dir() { return dir; }

    @Override
    public boolean afterStep(Position now) {
        at.set(now);
        // A step whose update was skipped (non-finite loss or gradient) is not checkpointed; the next good one is.
        if (dir != null && writes && engine.last.finite && ((every > 0 && now.step() % every == 0)
                || (minutes > 0 && System.nanoTime() - lastSaveNanos >= (long) (minutes * 60e9)))) {
            save();
        }
        return stop.getAsBoolean();
    }

    @Override
    public boolean afterEpoch(Position now, double valLoss, double valAccuracy) {
        at.set(now);
        if (dir != null && writes && now.bestEpoch() == now.epoch() + 1) {
            Map<String, String> m = metadata();
            m.put("val_loss", Double.toString(valLoss));
            m.put("val_accuracy", Double.toString(valAccuracy));
            if (finite("best checkpoint after epoch " + (now.epoch() + 1))) {
                Path f = dir.resolve(BEST);
                Checkpoint.capture(net, engine.params, engine.buffers, opt, m).write(f);
                best = f;
                say("forkprop: best validation loss %.4f (epoch %d): %s%n", valLoss, now.epoch() + 1, f);
            }
        }
        return false; // stop requests are answered at the next step boundary
    }

    @Override
    public void atEnd(Position now, boolean stopped) {
        at.set(now);
        if (dir != null && writes && now.step() != lastSavedStep) save();
    }

    /** Saves ckpt-{@code step} of the current position, unless the parameters are not finite. */
    private void save() {
        if (!finite("checkpoint at step " + at.step())) return;
        Path f = Checkpoint.capture(net, engine.params, engine.buffers, opt, metadata()).saveInto(dir, at.step(), keep);
        lastSavedStep = at.step();
        lastSaveNanos = System.nanoTime();
        lastSaved = f;
        say("forkprop: checkpoint %s%n", f);
    }

    private Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>(config);
        // After divergence atEnd saves the last good step: its bad steps are those up to it, and
        // the bad run after it is repeated, and counted again, by a resumed run.
        at.writeTo(m);
        return m;
    }

    /** True when parameters and buffers are all finite; else says that {@code what} is not written. */
    private boolean finite(String what) {
        if (allFinite(engine.params) && allFinite(engine.buffers)) return true;
        say("forkprop: %s not written: the parameters are not finite (NaN or infinite)%s%n", what,
                lastSaved == null ? "" : "; keeping " + lastSaved);
        return false;
    }

    private void say(String format, Object... args) {
        if (log != null) log.printf(format, args);
    }

    private static boolean allFinite(float[] a) {
        for (float v : a) if (!Float.isFinite(v)) return false;
        return true;
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
