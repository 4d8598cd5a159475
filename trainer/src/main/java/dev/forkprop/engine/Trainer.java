package dev.forkprop.engine;

import dev.forkprop.data.Dataset;
import dev.forkprop.metrics.LatencySummary;
import dev.forkprop.metrics.Phase;
import dev.forkprop.metrics.PhaseHistograms;
import dev.forkprop.metrics.ProgressLog;
import dev.forkprop.metrics.SpscTelemetryRing;
import dev.forkprop.metrics.StepEvent;
import dev.forkprop.metrics.TelemetrySink;
import dev.forkprop.optim.LrSchedule;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The training loop, top to bottom: shuffle, step, log, evaluate. The parallel step itself lives
 * in {@link Engine}; this class only decides what each step trains on and when to report.
 *
 * <p>Epochs use a seeded Fisher-Yates shuffle of the training indices ({@code seed + epoch}), and
 * drop the last incomplete batch (like PyTorch's {@code drop_last=True}) so every step has the same
 * shape and the buffers sized for it. One coordinator thread; interrupting it stops training at
 * the next step boundary.
 *
 * <p>Telemetry: each step the coordinator fills one preallocated slot of a
 * {@link SpscTelemetryRing} and publishes it; the reporter thread prints progress, records the
 * latency histograms and writes the optional .hlog. The loop itself does no I/O, no formatting and
 * no allocation per step; if the reporter falls a full ring behind, step telemetry is dropped and
 * counted ({@link Result#droppedTelemetry}), training never waits for it.
 */
public final class Trainer {

    /** What a run reports at the end. */
    public static final class Result {
        public int epochs;
        public long steps;
        public double testLoss = Double.NaN, testAccuracy = Double.NaN;
        public double valLoss = Double.NaN, valAccuracy = Double.NaN;
        public double trainLoss = Double.NaN;
        /** Training samples per second over the steps after warm-up. */
        public double samplesPerSec;
        public double wallSeconds;
        public long skippedSteps;
        public boolean interrupted;
        /** Step and per-phase latency after warm-up (ns histograms, 3 significant digits). */
        public LatencySummary latency = LatencySummary.empty();
        /** Step latency after warm-up, ms (NaN when no step was timed). */
        public double stepMsP50 = Double.NaN, stepMsP99 = Double.NaN, stepMsP999 = Double.NaN;
        /** Per-phase latency after warm-up, ms. */
        public double computeMsP50 = Double.NaN, computeMsP99 = Double.NaN;
        public double reduceMsP50 = Double.NaN, reduceMsP99 = Double.NaN;
        public double updateMsP50 = Double.NaN, updateMsP99 = Double.NaN;
        /** Telemetry events dropped because the reporter was a full ring behind. */
        public long droppedTelemetry;
        /** Failures of telemetry sinks (progress log, histograms, .hlog); training went on. */
        public List<Throwable> telemetryFailures = List.of();

        void setLatency(LatencySummary l) {
            latency = l;
            stepMsP50 = l.percentileMs(Phase.STEP, 50);
            stepMsP99 = l.percentileMs(Phase.STEP, 99);
            stepMsP999 = l.percentileMs(Phase.STEP, 99.9);
            computeMsP50 = l.percentileMs(Phase.COMPUTE, 50);
            computeMsP99 = l.percentileMs(Phase.COMPUTE, 99);
            reduceMsP50 = l.percentileMs(Phase.REDUCE, 50);
            reduceMsP99 = l.percentileMs(Phase.REDUCE, 99);
            updateMsP50 = l.percentileMs(Phase.UPDATE, 50);
            updateMsP99 = l.percentileMs(Phase.UPDATE, 99);
        }
    }

    private final Engine engine;
    private final LrSchedule schedule;
    private final long seed;
    private final PrintStream log;
    private final long logEveryNanos;
    private final Path hlog;
    private final List<TelemetrySink> extraSinks = new ArrayList<>();
    private TelemetrySink progress;

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

    /** Steps per epoch for a training set of {@code n} samples at this engine's batch. */
    public int stepsPerEpoch(int n) {
        return n / engine.plan().batch;
    }

    /** Where a run begins: after {@code step} steps, at batch {@code batchesDone} of 0-based {@code epoch}. */
    public record Start(long step, int epoch, int batchesDone) {
        public static final Start FRESH = new Start(0, 0, 0);
    }

    public Result fit(Dataset train, Dataset val, Dataset test, int epochs, long maxSteps) {
        return fit(train, val, test, epochs, maxSteps, Start.FRESH, StepHook.NONE);
    }

    /**
     * Trains from {@code start} (a fresh run, or a resumed one whose parameters, buffers and
     * optimizer state were restored by the caller) and calls {@code hook} after every step. The
     * shuffle of epoch e depends only on (seed, e) and dropout on (seed, step, row), so a resumed
     * run repeats exactly the steps the uninterrupted run would have taken.
     */
    public Result fit(Dataset train, Dataset val, Dataset test, int epochs, long maxSteps, Start start, StepHook hook) {
        final int batch = engine.plan().batch;
        final int perEpoch = stepsPerEpoch(train.size());
        if (perEpoch == 0) {
            throw new IllegalArgumentException("batch " + batch + " is larger than the training set (" + train.size() + " samples)");
        }
        final long totalSteps = maxSteps > 0 ? Math.min(maxSteps, (long) perEpoch * epochs) : (long) perEpoch * epochs;
        final long warmup = start.step() + Math.max(20, totalSteps / 10);
        final int[] order = new int[train.size()];
        final Result res = new Result();
        final StepResult r = engine.last;
        if (start.batchesDone() > perEpoch || start.epoch() < 0) {
            throw new IllegalArgumentException("cannot start at batch " + start.batchesDone() + " of epoch " + start.epoch()
                    + ": an epoch has " + perEpoch + " batches");
        }
        long step = start.step(), timedSamples = 0, timedNanos = 0;
        int epochAt = start.epoch(), batchesDone = start.batchesDone(); // where the last step left off
        final long startNanos = System.nanoTime();
        final PhaseHistograms latency = new PhaseHistograms(logEveryNanos, openHlog());
        final SpscTelemetryRing telemetry = SpscTelemetryRing.start(sinks(latency, startNanos));
        try {
            outer:
            for (int epoch = start.epoch(); epoch < epochs; epoch++) {
                shuffle(order, seed + epoch);
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
                    boolean ok = engine.step(train, order, b * batch, step, lr);
                    long t1 = System.nanoTime();
                    long dt = t1 - t0;
                    if (!ok) res.skippedSteps++;
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
                        e.step(step, epoch + 1, totalSteps, lr, dt, timed, t1)
                                .result(r.loss, r.correct, r.samples, r.computeNanos, r.reduceNanos, r.updateNanos, ok);
                        telemetry.publish(e);
                    }
                    epochAt = epoch;
                    batchesDone = b + 1;
                    if (hook.afterStep(step, epoch, b + 1)) {
                        res.interrupted = true;
                        break outer;
                    }
                }
                res.epochs = epoch + 1;
                res.trainLoss = epochLoss / Math.max(1, epochSamples);
                if (val != null && val.size() > 0) {
                    engine.evaluate(val);
                    res.valLoss = r.loss;
                    res.valAccuracy = r.accuracy();
                }
                StepEvent e = telemetry.tryClaim();
                if (e != null) {
                    e.epochEnd(step, epoch + 1, totalSteps, res.trainLoss, epochCorrect, epochSamples, res.valLoss, res.valAccuracy, System.nanoTime());
                    telemetry.publish(e);
                }
            }
            hook.atEnd(step, epochAt, batchesDone, res.interrupted);
        } finally {
            telemetry.close(); // drains the ring; HB: everything the sinks wrote -> here (Thread.join)
        }
        res.steps = step;
        res.samplesPerSec = timedNanos > 0 ? timedSamples / (timedNanos / 1e9) : Double.NaN;
        res.droppedTelemetry = telemetry.dropped();
        res.telemetryFailures = telemetry.failures();
        if (latency.summary() != null) res.setLatency(latency.summary());
        if (log != null) printLatency(res);
        if (test != null) {
            engine.evaluate(test);
            res.testLoss = r.loss;
            res.testAccuracy = test.isClassification() ? r.accuracy() : Double.NaN; // regression: no accuracy
        }
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

    private OutputStream openHlog() {
        if (hlog == null) return null;
        try {
            Path parent = hlog.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            return new BufferedOutputStream(Files.newOutputStream(hlog));
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write the latency log " + hlog + ": " + ex.getMessage(), ex);
        }
    }

    private void printLatency(Result res) {
        log.printf("latency after warm-up, ms (%d timed steps)%n%s", res.latency.timedSteps(), res.latency.format());
        if (res.droppedTelemetry > 0) log.printf("telemetry: %d events dropped (reporter fell behind)%n", res.droppedTelemetry);
        for (Throwable t : res.telemetryFailures) {
            log.printf("telemetry failure: %s%s%n", t.getMessage(), t.getCause() == null ? "" : " <- " + t.getCause());
        }
        if (hlog != null) log.printf("latency log: %s%n", hlog);
    }

    /** Seeded Fisher-Yates over the identity permutation. */
    static void shuffle(int[] order, long seed) {
        for (int i = 0; i < order.length; i++) order[i] = i;
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = order.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
}
