package dev.forkprop.run;

import dev.forkprop.data.BatchSlot;
import dev.forkprop.data.Dataset;
import dev.forkprop.data.SpscBatchPrefetch;
import dev.forkprop.engine.Engine;
import dev.forkprop.engine.StepResult;
import dev.forkprop.io.ParamsHash;
import dev.forkprop.metrics.LatencySummary;
import dev.forkprop.metrics.Phase;
import dev.forkprop.metrics.PhaseHistograms;
import dev.forkprop.metrics.ProgressLog;
import dev.forkprop.metrics.SpscTelemetryRing;
import dev.forkprop.metrics.StepEvent;
import dev.forkprop.metrics.TelemetrySink;
import dev.forkprop.optim.LrSchedule;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training loop, top to bottom: take a batch, step, log, evaluate, decide whether to go on.
 * The parallel step itself lives in {@link Engine} and the batches come from a loader thread
 * ({@link SpscBatchPrefetch}); this class only decides when to stop and what to report.
 *
 * <p>Epochs use a seeded Fisher-Yates shuffle of the training indices ({@code seed + epoch}), and
 * drop the last incomplete batch (like PyTorch's {@code drop_last=True}) so every step has the same
 * shape and the buffers sized for it. The loader fills the batches in that order ahead of the step
 * loop; the time the loop waits for one is the {@link Phase#DATA_WAIT} latency. One coordinator
 * thread; interrupting it stops training at the next step boundary.
 *
 * <p>Stopping early: after {@link #maxBadSteps} consecutive steps whose loss or gradient was not
 * finite (the engine skipped their updates) the run stops as {@link RunResult#diverged}; with
 * {@link #earlyStop} patience P it stops after P epochs without a lower validation loss
 * ({@link RunResult#earlyStopped}). Either way the test set is still evaluated.
 *
 * <p>Telemetry: each step the coordinator fills one preallocated slot of a
 * {@link SpscTelemetryRing} and publishes it; the reporter thread prints progress, records the
 * latency histograms and writes the optional .hlog. The loop itself does no I/O, no formatting and
 * no allocation per step; if the reporter falls a full ring behind, step telemetry is dropped and
 * counted ({@link RunResult#droppedTelemetry}), training never waits for it.
 */
public final class Trainer {

    private final Engine engine;
    private final LrSchedule schedule;
    private final long seed;
    private final PrintStream log;
    private final long logEveryNanos;
    private final Path hlog;
    private final List<TelemetrySink> extraSinks = new ArrayList<>();
    private TelemetrySink progress;
    private int maxBadSteps;
    private boolean autoMaxLoss;
    private double lossUnits = 1;
    private int earlyStopPatience;
    private long warmupSteps = -1;

    public Trainer(Engine engine, LrSchedule schedule, long seed, PrintStream log, double logEverySeconds) {
        this(engine, schedule, seed, log, logEverySeconds, null);
    }

    /**
     * @param log             progress lines and the final latency summary, or null for none
     * @param logEverySeconds seconds between progress lines; also the length of one .hlog interval
     * @param hlog            where to write step/phase latency intervals (HdrHistogram log), or null
     */
    public Trainer(Engine engine, LrSchedule schedule, long seed, PrintStream log, double logEverySeconds, Path hlog) {
        this.engine = engine;
        this.schedule = schedule;
        this.seed = seed;
        this.log = log;
        this.logEveryNanos = (long) (logEverySeconds * 1e9);
        this.hlog = hlog;
    }

    /**
     * Adds {@code sink} to the reporter thread of every later {@link #fit}, after the latency
     * histograms and the progress display (metrics.jsonl, charts). Call before {@code fit}.
     */
    public Trainer addSink(TelemetrySink sink) {
        extraSinks.add(sink);
        return this;
    }

    /**
     * Replaces the line-per-interval {@link ProgressLog} with {@code progress} (a terminal progress
     * bar); the end-of-run latency summary still goes to {@code log}. Call before {@code fit}.
     */
    public Trainer progress(TelemetrySink progress) {
        this.progress = progress;
        return this;
    }

    /**
     * With {@code auto}, the first good step of {@link #fit} sets the engine's loss limit
     * ({@link Engine#maxLoss}) to {@value #AUTO_MAX_LOSS_FACTOR} x max(1, its loss): a loss a
     * million times the starting one has diverged, finite or not.
     */
    public Trainer autoMaxLoss(boolean auto) {
        this.autoMaxLoss = auto;
        return this;
    }

    /** See {@link #autoMaxLoss}. */
    public static final double AUTO_MAX_LOSS_FACTOR = 1e6;

    /**
     * Multiplies every loss this trainer reports (progress, epoch rows, validation, test, the
     * result) by {@code factor}: with standardised regression targets, the target's variance gives
     * the mean squared error in the data's units. Training itself, and the divergence guard, see
     * the engine's loss. Default 1.
     */
    public Trainer lossUnits(double factor) {
        if (!(factor > 0) || !Double.isFinite(factor)) throw new IllegalArgumentException("loss units must be a positive number, got " + factor);
        this.lossUnits = factor;
        return this;
    }

    /**
     * Stops a later {@link #fit} after {@code n} consecutive bad steps (loss or gradient not
     * finite, update skipped): 1 stops at the first, 0 never stops (bad steps are only counted).
     */
    /**
     * Steps of a later {@link #fit} left out of the timed figures (samples/s, latency): JIT
     * compilation, first touches of buffers. Default (negative): the first 10% of the steps, at
     * least 20, but never more than half of the fit's steps, so that a short run still times its
     * second half.
     */
    public Trainer warmupSteps(long n) {
        this.warmupSteps = n;
        return this;
    }

    public Trainer maxBadSteps(int n) {
        if (n < 0) throw new IllegalArgumentException("max bad steps must be >= 0, got " + n);
        this.maxBadSteps = n;
        return this;
    }

    /**
     * Early stopping for a later {@link #fit}: stop after {@code patience} epochs in a row without
     * a validation loss below the best so far (0: off). Needs a validation set.
     */
    public Trainer earlyStop(int patience) {
        if (patience < 0) throw new IllegalArgumentException("early-stop patience must be >= 0, got " + patience);
        this.earlyStopPatience = patience;
        return this;
    }

    /** A fresh run of {@code epochs} epochs (at most {@code maxSteps} steps when positive), no hook. */
    public RunResult fit(Dataset train, Dataset val, Dataset test, int epochs, long maxSteps) {
        return fit(train, val, test, RunLength.of(train.size(), engine.plan().batch, epochs, maxSteps), new Position(), StepHook.NONE);
    }

    /**
     * Trains from {@code start} (a fresh run, or a resumed one whose parameters, buffers and
     * optimizer state were restored by the caller) and calls {@code hook} after every step. The
     * shuffle of epoch e depends only on (seed, e) and dropout on (seed, step, row), so a resumed
     * run repeats exactly the steps the uninterrupted run would have taken.
     */
    public RunResult fit(Dataset train, Dataset val, Dataset test, RunLength length, Position start, StepHook hook) {
        final int batch = engine.plan().batch;
        final int perEpoch = length.stepsPerEpoch(), epochs = length.epochs();
        if (perEpoch != train.size() / batch) {
            throw new IllegalArgumentException("the run length has " + perEpoch + " steps per epoch, the training set "
                    + train.size() / batch + " at batch " + batch);
        }
        final boolean validate = val != null && val.size() > 0;
        if (earlyStopPatience > 0 && !validate) throw new IllegalArgumentException("early stopping needs a validation set");
        final long totalSteps = length.totalSteps();
        final long warmup = start.step() + (warmupSteps >= 0 ? warmupSteps
                : Math.min(Math.max(20, totalSteps / 10), Math.max(0, totalSteps - start.step()) / 2));
        final RunResult res = new RunResult();
        res.threads = engine.plan().threads;
        final StepResult r = engine.last;
        if (start.batchesDone() > perEpoch || start.epoch() < 0) {
            throw new IllegalArgumentException("cannot start at batch " + start.batchesDone() + " of epoch " + start.epoch()
                    + ": an epoch has " + perEpoch + " batches");
        }
        long step = start.step(), timedSamples = 0, timedNanos = 0, waitNanos = 0;
        // The run's position, one object updated in place (hooks read it); `good` is that of the last good step.
        final Position at = start.copy(), good = start.copy();
        long lastGood = start.step();
        boolean lossLimitSet = false;
        int badRun = 0;
        res.bestValLoss = start.bestValLoss();
        res.bestEpoch = start.bestEpoch();
        res.skippedSteps = start.badSteps();
        final long startNanos = System.nanoTime();
        final PhaseHistograms latency = new PhaseHistograms(logEveryNanos, hlog == null ? null : HlogFile.open(hlog, start.step()));
        final SpscTelemetryRing telemetry = SpscTelemetryRing.start(sinks(latency, startNanos));
        try (SpscBatchPrefetch batches = SpscBatchPrefetch.start(train, batch, seed, start.epoch(), start.batchesDone(),
                totalSteps - start.step())) {
            outer:
            for (int epoch = start.epoch(); epoch < epochs; epoch++) {
                double epochLoss = 0;
                long epochCorrect = 0, epochSamples = 0;
                for (int b = epoch == start.epoch() ? start.batchesDone() : 0; b < perEpoch; b++) {
                    if (step >= totalSteps) break outer;
                    if (Thread.currentThread().isInterrupted()) {
                        res.interrupted = true;
                        break outer;
                    }
                    step++;
                    float lr = schedule.lr(step);
                    long t0 = System.nanoTime();
                    BatchSlot slot = batches.take(); // HB: the loader's fill -> publish -> take
                    long tData = System.nanoTime();
                    if (slot.epoch() != epoch || slot.index() != b) {
                        throw new IllegalStateException("the loader is out of step: batch " + (slot.index() + 1) + " of epoch " + (slot.epoch() + 1)
                                + " for step " + step + " (batch " + (b + 1) + " of epoch " + (epoch + 1) + ")");
                    }
                    boolean ok = engine.step(slot, step, lr); // releases the slot after the compute phase
                    long t1 = System.nanoTime();
                    long dt = t1 - t0, wait = tData - t0;
                    waitNanos += wait;
                    if (ok && autoMaxLoss && !lossLimitSet) {
                        // The first good step of this fit sets the explosion limit (--max-loss auto).
                        engine.maxLoss(AUTO_MAX_LOSS_FACTOR * Math.max(1.0, r.loss));
                        lossLimitSet = true;
                    }
                    if (!ok) {
                        res.skippedSteps++;
                        if (badRun++ == 0) res.firstBadStep = step;
                    }
                    epochLoss += r.loss * r.samples;
                    epochCorrect += r.correct;
                    epochSamples += r.samples;
                    boolean timed = step > warmup;
                    if (timed) {
                        timedSamples += batch;
                        timedNanos += dt;
                    }
                    StepEvent e = telemetry.tryClaim(); // null: the reporter is a full ring behind; dropped, counted
                    if (e != null) {
                        e.step(step, epoch + 1, totalSteps, lr, dt, timed, t1).dataWait(wait)
                                .result(r.loss * lossUnits, r.correct, r.samples, r.computeNanos, r.reduceNanos + r.updateNanos, r.waitNanos, ok)
                                .allreduce(r.exchangeNanos);
                        telemetry.publish(e);
                    }
                    at.step = step;
                    at.epoch = epoch;
                    at.batchesDone = b + 1;
                    at.badSteps = res.skippedSteps;
                    if (ok) {
                        badRun = 0;
                        lastGood = step;
                        good.set(at);
                    }
                    if (!ok && maxBadSteps > 0 && badRun >= maxBadSteps) {
                        res.diverged = true;
                        res.lastBadStep = step;
                        break outer; // no afterStep: nothing is checkpointed at a bad step
                    }
                    if (hook.afterStep(at)) {
                        res.interrupted = true;
                        break outer;
                    }
                }
                res.epochs = epoch + 1;
                // No step of this epoch ran here when the run resumed from a checkpoint taken after
                // the epoch's last step: its training loss is then unknown (NaN, not 0).
                res.trainLoss = epochSamples > 0 ? epochLoss / epochSamples * lossUnits : Double.NaN;
                boolean stop = false, newRecord = false;
                if (validate) {
                    engine.evaluate(val);
                    res.valLoss = r.loss * lossUnits;
                    res.valAccuracy = r.accuracy();
                    if (epoch + 1 > start.validatedEpochs()) { // else: validated before the checkpoint we resumed from
                        newRecord = true;
                        if (Double.isFinite(res.valLoss) && !(res.valLoss >= res.bestValLoss)) { // NaN best: none yet
                            res.bestValLoss = res.valLoss;
                            res.bestEpoch = epoch + 1;
                        }
                        at.bestValLoss = res.bestValLoss;
                        at.bestEpoch = res.bestEpoch;
                        at.validatedEpochs = epoch + 1;
                        if (at.step == lastGood) good.set(at);
                        stop = hook.afterEpoch(at, res.valLoss, res.valAccuracy);
                        if (stop) res.interrupted = true;
                        if (earlyStopPatience > 0 && epoch + 1 - res.bestEpoch >= earlyStopPatience) {
                            res.earlyStopped = true;
                            stop = true;
                        }
                    }
                }
                // An epoch row reports the steps this run took in the epoch, or a validation it did
                // for the first time; resumed at an epoch's end, the row was written before.
                StepEvent e = epochSamples > 0 || newRecord ? telemetry.tryClaim() : null;
                if (e != null) {
                    e.epochEnd(step, epoch + 1, totalSteps, res.trainLoss, epochCorrect, epochSamples, res.valLoss, res.valAccuracy, System.nanoTime());
                    telemetry.publish(e);
                }
                if (stop) break;
            }
            res.lastGoodStep = lastGood;
            if (res.diverged) {
                good.badSteps = res.skippedSteps - badRun;
                hook.atEnd(good, true); // the state is still the last good step's
            } else {
                hook.atEnd(at, res.interrupted || res.earlyStopped);
            }
        } finally {
            telemetry.close(); // drains the ring; HB: everything the sinks wrote -> here (Thread.join)
        }
        res.steps = step;
        res.samplesPerSec = timedNanos > 0 ? timedSamples / (timedNanos / 1e9) : Double.NaN;
        res.dataWaitSeconds = waitNanos / 1e9;
        res.droppedTelemetry = telemetry.dropped();
        res.telemetryFailures = telemetry.failures();
        if (latency.summary() != null) res.setLatency(latency.summary());
        if (log != null) printLatency(res);
        if (test != null) {
            engine.evaluate(test);
            res.testLoss = r.loss * lossUnits;
            res.testAccuracy = test.isClassification() ? r.accuracy() : Double.NaN; // regression: no accuracy
        }
        res.helpedChunks = engine.helpedChunks();
        res.paramsSha256 = ParamsHash.sha256(engine.params);
        res.wallSeconds = (System.nanoTime() - startNanos) / 1e9;
        return res;
    }

    private TelemetrySink[] sinks(PhaseHistograms latency, long start) {
        List<TelemetrySink> sinks = new ArrayList<>();
        sinks.add(latency);
        if (progress != null) sinks.add(progress);
        else if (log != null) sinks.add(new ProgressLog(log, logEveryNanos, start));
        sinks.addAll(extraSinks);
        return sinks.toArray(TelemetrySink[]::new);
    }

    private void printLatency(RunResult res) {
        log.printf("latency after warm-up, ms (%d timed steps)%n%s", res.latency.timedSteps(), res.latency.format());
        if (Double.isNaN(res.dataWaitMsP50)) {
            log.printf("data wait: %.1f ms in all%n", res.dataWaitSeconds * 1e3);
        } else {
            log.printf("data wait: %.1f ms in all, p50 %.3f p99 %.3f max %.3f ms after warm-up%n", res.dataWaitSeconds * 1e3,
                    res.dataWaitMsP50, res.dataWaitMsP99, res.dataWaitMsMax);
        }
        if (res.skippedSteps > 0) log.printf("bad steps: %d (loss or gradient not finite or loss exploded, update skipped)%n", res.skippedSteps);
        if (res.droppedTelemetry > 0) log.printf("telemetry: %d events dropped (reporter fell behind)%n", res.droppedTelemetry);
        for (Throwable t : res.telemetryFailures) {
            log.printf("telemetry failure: %s%s%n", t.getMessage(), t.getCause() == null ? "" : " <- " + t.getCause());
        }
        if (hlog != null) log.printf("latency log: %s%n", hlog);
    }
}
