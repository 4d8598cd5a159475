package dev.forkprop.cli;

import dev.forkprop.engine.Engine;
import dev.forkprop.engine.StepHook;
import dev.forkprop.engine.Trainer;
import dev.forkprop.io.Checkpoint;
import dev.forkprop.io.TorchExport;
import dev.forkprop.model.Network;
import dev.forkprop.optim.LrSchedule;
import dev.forkprop.optim.Optimizer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The train command's checkpoint flags (a picocli mixin) and the glue between them, the
 * {@link Trainer} and the file format in {@link Checkpoint}: what to restore before step 1, when to
 * save, and what a stop signal does. Not the file format, and not the signal plumbing
 * ({@link StopSignals}).
 *
 * <p>Besides {@code ckpt-<step>.safetensors}, the directory holds {@code best.safetensors} when
 * the run has a validation split: the checkpoint after the epoch with the lowest validation loss
 * so far (metadata {@code val_loss}, {@code val_accuracy}), rewritten atomically on each new best.
 * No checkpoint is written of a step whose update was skipped (non-finite loss or gradient), nor
 * of parameters that are not finite; after divergence the last good checkpoint stays the newest.
 */
public final class CheckpointOptions {

    @Option(names = "--checkpoint-dir", description = "write checkpoints (ckpt-<step>.safetensors) here (default with --out: OUT/checkpoints; without, the run saves none)")
    Path dir;
    @Option(names = "--checkpoint-every", description = "save every N steps (0: only at the end) (default: ${DEFAULT-VALUE})")
    long every = 0;
    @Option(names = "--checkpoint-minutes", description = "also save when this many minutes passed since the last save (0: off) (default: ${DEFAULT-VALUE})")
    double minutes = 0;
    @Option(names = "--keep", description = "keep the newest K checkpoints (default: ${DEFAULT-VALUE})")
    int keep = 3;
    @Option(names = "--resume", description = "continue from the newest checkpoint in --checkpoint-dir; the other flags must match it")
    boolean resume;
    @Option(names = "--init-from", description = "start from weights in PyTorch layout (a file written by 'export')")
    Path initFrom;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /** The best-validation checkpoint's file name in the checkpoint directory. */
    static final String BEST = "best.safetensors";

    /** Configuration keys that a resumed run must repeat exactly (the rest is position or informational). */
    private static final Set<String> POSITION = Set.of("step", "epoch", "batches_done", "epochs", "max_steps", "threads", "total_steps");

    /** Checks the flags on their own; call before loading data. With --out and no --checkpoint-dir, checkpoints go to OUT/checkpoints. */
    void validate(Path out) {
        if (dir == null && out != null) dir = out.resolve("checkpoints");
        check(every >= 0, "--checkpoint-every must be >= 0, got " + every);
        check(minutes >= 0 && Double.isFinite(minutes), "--checkpoint-minutes must be >= 0, got " + minutes);
        check(keep >= 1, "--keep must be >= 1, got " + keep);
        check(dir != null || (!resume && every == 0 && minutes == 0),
                "--resume, --checkpoint-every and --checkpoint-minutes need --checkpoint-dir DIR");
        check(!(resume && initFrom != null), "--resume and --init-from exclude each other");
    }

    /**
     * The run's configuration as checkpoint metadata, from the train command's flags and what it
     * derived from them.
     */
    static Map<String, String> config(TrainCommand t, Network net, Optimizer opt, LrSchedule sched, String lossName,
                                      int shardCount, long totalSteps, int targetWidth) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("data", t.data);
        m.put("normalize", t.normalize);
        m.put("val", Integer.toString(t.val));
        m.put("model", net.spec());
        m.put("input_width", Integer.toString(net.in()));
        m.put("target_width", Integer.toString(targetWidth));
        m.put("loss", lossName);
        m.put("positive_class", Integer.toString(t.positiveClass));
        m.put("optimizer", opt.name());
        opt.hyper().forEach((k, v) -> m.put("optimizer." + k, v));
        m.put("lr", Float.toString(t.lr));
        m.put("schedule", sched.spec());
        m.put("clip", Float.toString(t.clip));
        m.put("batch", Integer.toString(t.batch));
        m.put("shards", Integer.toString(shardCount));
        m.put("seed", Long.toString(t.seed));
        m.put("epochs", Integer.toString(t.epochs));
        m.put("max_steps", Long.toString(t.maxSteps));
        m.put("total_steps", Long.toString(totalSteps));
        m.put("threads", Integer.toString(t.threads));
        return m;
    }

    /**
     * Installs the stop-signal handlers and returns the hook to pass to {@link Trainer#fit}; after
     * the network is initialised call {@link Session#restore}. Close it after training (uninstalls
     * the handlers).
     */
    Session begin(Network net, Engine engine, Optimizer opt, Map<String, String> config) {
        return new Session(net, engine, opt, config, StopSignals.install());
    }

    /** The step hook of one run: periodic and final checkpoints, and the stop flag. */
    final class Session implements StepHook, AutoCloseable {
        private final Network net;
        private final Engine engine;
        private final Optimizer opt;
        private final Map<String, String> config;
        private final StopSignals signals;
        private Trainer.Start start = Trainer.Start.FRESH;
        private long lastSavedStep = -1;
        private long lastSaveNanos = System.nanoTime();
        private Path lastSaved, best;
        // The validation record as of the last step, written into every checkpoint (see Trainer.Start).
        private double bestValLoss = Double.NaN;
        private int bestEpoch, validatedEpochs;
        // The run's bad steps (updates skipped) up to the position last reported by the Trainer,
        // written into every checkpoint so that a resumed run counts on.
        private long badSteps;

        Session(Network net, Engine engine, Optimizer opt, Map<String, String> config, StopSignals signals) {
            this.net = net;
            this.engine = engine;
            this.opt = opt;
            this.config = config;
            this.signals = signals;
        }

        /**
         * Call after the network's own initialisation: imports {@code --init-from} weights, or
         * restores the newest checkpoint for {@code --resume} after checking that this run's
         * configuration matches it (one-line error naming the first mismatch) and that its position
         * is one this run can reach (epochs of {@code perEpoch} batches).
         */
        void restore(int perEpoch) {
            if (initFrom != null) {
                TorchExport.importInto(initFrom, net, engine.params, engine.buffers);
                System.err.printf("forkprop: initialised weights from %s%n", initFrom);
            }
            if (!resume) return;
            Path f = Checkpoint.newest(dir);
            check(f != null, "--resume: no checkpoint (ckpt-<step>.safetensors) in " + dir);
            Checkpoint c = Checkpoint.read(f);
            for (Map.Entry<String, String> e : config.entrySet()) {
                String k = e.getKey();
                if (POSITION.contains(k)) continue;
                String was = c.get(k);
                check(was.equals(e.getValue()), "--resume: " + f + " was written with " + k + " = " + was
                        + ", this run has " + k + " = " + e.getValue() + "; use the same flags or another --checkpoint-dir");
            }
            if (config.get("schedule").contains("cosine")) {
                check(c.get("total_steps").equals(config.get("total_steps")), "--resume: " + f + " has a cosine schedule over "
                        + c.get("total_steps") + " steps, this run would have " + config.get("total_steps") + "; keep --epochs/--max-steps");
            }
            c.restore(net, engine.params, engine.buffers, opt);
            // The position and validation record, range-checked: a validly signed file can still hold
            // nonsense, and the error must name it (checkpoints before early stopping have no record).
            // --epochs and --max-steps may change on resume, so only the epoch's length bounds them.
            long step = c.longField("step", 0, Long.MAX_VALUE);
            int epoch = (int) c.longField("epoch", 0, Integer.MAX_VALUE - 1);
            int batchesDone = (int) c.longField("batches_done", 0, perEpoch);
            if (step != (long) epoch * perEpoch + batchesDone) {
                throw c.bad("position is inconsistent: step " + step + " is not epoch " + epoch + " x " + perEpoch
                        + " batches + " + batchesDone);
            }
            bestValLoss = c.doubleField("best_val_loss", Double.NaN);
            bestEpoch = c.metadata().containsKey("best_epoch") ? (int) c.longField("best_epoch", 0, epoch + 1) : 0;
            validatedEpochs = c.metadata().containsKey("validated_epochs") ? (int) c.longField("validated_epochs", 0, epoch + 1) : 0;
            // Checkpoints before the fifth session have no count: their run's bad steps start at 0.
            badSteps = c.metadata().containsKey("bad_steps") ? c.longField("bad_steps", 0, step) : 0;
            start = new Trainer.Start(step, epoch, batchesDone, bestValLoss, bestEpoch, validatedEpochs, badSteps);
            lastSavedStep = start.step();
            lastSaved = f;
            if (dir != null && java.nio.file.Files.isRegularFile(dir.resolve(BEST))) best = dir.resolve(BEST);
            System.err.printf("forkprop: resumed from %s (step %d, epoch %d, batch %d)%n", f, start.step(), start.epoch() + 1, start.batchesDone());
        }

        Trainer.Start start() { return start; }

        /** The newest checkpoint this run wrote (or resumed from), or null. */
        Path lastSaved() { return lastSaved; }

        /** {@code best.safetensors} once written (or found on resume), else null. */
        Path best() { return best; }

        @Override
        public boolean afterStep(long step, int epoch, int batchesDone, long badSteps) {
            this.badSteps = badSteps;
            // A step whose update was skipped (non-finite loss or gradient) is not checkpointed; the next good one is.
            if (dir != null && engine.last.finite && ((every > 0 && step % every == 0)
                    || (minutes > 0 && System.nanoTime() - lastSaveNanos >= (long) (minutes * 60e9)))) {
                save(step, epoch, batchesDone);
            }
            return signals.received() != null;
        }

        @Override
        public boolean afterEpoch(long step, int epoch, int batchesDone, double valLoss, double valAccuracy,
                                  double bestLoss, int bestAt) {
            bestValLoss = bestLoss;
            bestEpoch = bestAt;
            validatedEpochs = epoch + 1;
            if (dir != null && bestAt == epoch + 1) {
                Map<String, String> m = metadata(step, epoch, batchesDone);
                m.put("val_loss", Double.toString(valLoss));
                m.put("val_accuracy", Double.toString(valAccuracy));
                if (finite("best checkpoint after epoch " + (epoch + 1))) {
                    Path f = dir.resolve(BEST);
                    Checkpoint.capture(net, engine.params, engine.buffers, opt, m).write(f);
                    best = f;
                    System.err.printf("forkprop: best validation loss %.4f (epoch %d): %s%n", valLoss, epoch + 1, f);
                }
            }
            return false;
        }

        @Override
        public void atEnd(long step, int epoch, int batchesDone, long badSteps, boolean stopped) {
            this.badSteps = badSteps;
            Path saved = null;
            if (dir != null && step != lastSavedStep) saved = save(step, epoch, batchesDone);
            else if (dir != null) saved = lastSaved;
            String sig = signals.received();
            if (sig != null) {
                System.err.printf("forkprop: stopped by SIG%s after step %d; %s%n", sig, step, saved == null
                        ? "nothing saved (no --checkpoint-dir)"
                        : "checkpoint " + saved + "; resume with: ./run.sh train " + resumeArgs());
            }
        }

        /** Saves ckpt-{@code step}; returns it, or the last one saved when the parameters are not finite. */
        private Path save(long step, int epoch, int batchesDone) {
            if (!finite("checkpoint at step " + step)) return lastSaved;
            Path f = Checkpoint.capture(net, engine.params, engine.buffers, opt, metadata(step, epoch, batchesDone)).saveInto(dir, step, keep);
            lastSavedStep = step;
            lastSaveNanos = System.nanoTime();
            lastSaved = f;
            System.err.printf("forkprop: checkpoint %s%n", f);
            return f;
        }

        private Map<String, String> metadata(long step, int epoch, int batchesDone) {
            Map<String, String> m = new LinkedHashMap<>(config);
            m.put("step", Long.toString(step));
            m.put("epoch", Integer.toString(epoch));
            m.put("batches_done", Integer.toString(batchesDone));
            m.put("best_val_loss", Double.toString(bestValLoss));
            m.put("best_epoch", Integer.toString(bestEpoch));
            m.put("validated_epochs", Integer.toString(validatedEpochs));
            // Bad steps up to this position (after divergence atEnd saves the last good step, and
            // the bad run after it is repeated, and counted again, by a resumed run).
            m.put("bad_steps", Long.toString(badSteps));
            return m;
        }

        /** True when parameters and buffers are all finite; else says that {@code what} is not written. */
        private boolean finite(String what) {
            if (allFinite(engine.params) && allFinite(engine.buffers)) return true;
            System.err.printf("forkprop: %s not written: the parameters are not finite (NaN or infinite)%s%n", what,
                    lastSaved == null ? "" : "; keeping " + lastSaved);
            return false;
        }

        /** 0, or 128 + the signal number (130 for SIGINT, 143 for SIGTERM) when a signal stopped the run. */
        int exitCode() {
            return signals.exitCode();
        }

        @Override
        public void close() {
            signals.close();
        }
    }

    private static boolean allFinite(float[] a) {
        for (float v : a) if (!Float.isFinite(v)) return false;
        return true;
    }

    private String resumeArgs() {
        List<String> args = mixee == null ? List.of() : mixee.commandLine().getParseResult().originalArgs();
        StringBuilder sb = new StringBuilder();
        if (!args.isEmpty() && args.get(0).equals("train")) args = args.subList(1, args.size());
        for (String a : args) {
            if (a.equals("--resume")) continue;
            sb.append(a.matches("[A-Za-z0-9_./:=,+-]+") ? a : "'" + a.replace("'", "'\\''") + "'").append(' ');
        }
        return sb.append("--resume").toString();
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
