package dev.forkprop.engine;

import dev.forkprop.data.Dataset;
import dev.forkprop.optim.LrSchedule;
import java.io.PrintStream;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * The training loop, top to bottom: shuffle, step, log, evaluate. The parallel step itself lives
 * in {@link Engine}; this class only decides what each step trains on and when to report.
 *
 * <p>Epochs use a seeded Fisher-Yates shuffle of the training indices ({@code seed + epoch}), and
 * drop the last incomplete batch (like PyTorch's {@code drop_last=True}) so every step has the same
 * shape and the buffers sized for it. One coordinator thread; interrupting it stops training at
 * the next step boundary.
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
        /** Step latency (ns) after warm-up, 3 significant digits. */
        public final Histogram stepNanos = new Histogram(3_600_000_000_000L, 3);
        public final Histogram computeNanos = new Histogram(3_600_000_000_000L, 3);
        public final Histogram reduceNanos = new Histogram(3_600_000_000_000L, 3);
        public final Histogram updateNanos = new Histogram(3_600_000_000_000L, 3);
    }

    private final Engine engine;
    private final LrSchedule schedule;
    private final long seed;
    private final PrintStream log;
    private final long logEveryNanos;

    public Trainer(Engine engine, LrSchedule schedule, long seed, PrintStream log, double logEverySeconds) {
        this.engine = engine;
        this.schedule = schedule;
        this.seed = seed;
        this.log = log;
        this.logEveryNanos = (long) (logEverySeconds * 1e9);
    }

    /** Steps per epoch for a training set of {@code n} samples at this engine's batch. */
    public int stepsPerEpoch(int n) {
        return n / engine.plan().batch;
    }

    public Result fit(Dataset train, Dataset val, Dataset test, int epochs, long maxSteps) {
        final int batch = engine.plan().batch;
        final int perEpoch = stepsPerEpoch(train.size());
        if (perEpoch == 0) {
            throw new IllegalArgumentException("batch " + batch + " is larger than the training set (" + train.size() + " samples)");
        }
        final long totalSteps = maxSteps > 0 ? Math.min(maxSteps, (long) perEpoch * epochs) : (long) perEpoch * epochs;
        final long warmup = Math.max(20, totalSteps / 10);
        final int[] order = new int[train.size()];
        final Result res = new Result();
        final StepResult r = engine.last;
        long step = 0, timedSamples = 0, timedNanos = 0;
        final long start = System.nanoTime();
        long lastLog = start;
        outer:
        for (int epoch = 0; epoch < epochs; epoch++) {
            shuffle(order, seed + epoch);
            double epochLoss = 0;
            long epochCorrect = 0, epochSamples = 0;
            for (int b = 0; b < perEpoch; b++) {
                if (step >= totalSteps) break outer;
                if (Thread.currentThread().isInterrupted()) {
                    res.interrupted = true;
                    break outer;
                }
                step++;
                long t0 = System.nanoTime();
                boolean ok = engine.step(train, order, b * batch, step, schedule.lr(step));
                long dt = System.nanoTime() - t0;
                if (!ok) res.skippedSteps++;
                epochLoss += r.loss * r.samples;
                epochCorrect += r.correct;
                epochSamples += r.samples;
                if (step > warmup) {
                    timedSamples += batch;
                    timedNanos += dt;
                    res.stepNanos.recordValue(dt);
                    res.computeNanos.recordValue(r.computeNanos);
                    res.reduceNanos.recordValue(r.reduceNanos);
                    res.updateNanos.recordValue(r.updateNanos);
                }
                long now = System.nanoTime();
                if (log != null && now - lastLog >= logEveryNanos) {
                    lastLog = now;
                    log.printf("epoch %d step %d/%d loss %.4f acc %.4f lr %.5g %.0f samples/s%n", epoch + 1, step, totalSteps,
                            r.loss, r.accuracy(), schedule.lr(step), step > warmup ? timedSamples / (timedNanos / 1e9) : batch / (dt / 1e9));
                }
            }
            res.epochs = epoch + 1;
            res.trainLoss = epochLoss / Math.max(1, epochSamples);
            String valText = "";
            if (val != null && val.size() > 0) {
                engine.evaluate(val);
                res.valLoss = r.loss;
                res.valAccuracy = r.accuracy();
                valText = String.format(" val loss %.4f acc %.4f", res.valLoss, res.valAccuracy);
            }
            if (log != null) {
                log.printf("epoch %d done: train loss %.4f acc %.4f%s (%.1f s)%n", epoch + 1, res.trainLoss,
                        epochCorrect / (double) Math.max(1, epochSamples), valText, (System.nanoTime() - start) / 1e9);
            }
        }
        res.steps = step;
        res.samplesPerSec = timedNanos > 0 ? timedSamples / (timedNanos / 1e9) : Double.NaN;
        if (test != null) {
            engine.evaluate(test);
            res.testLoss = r.loss;
            res.testAccuracy = r.accuracy();
        }
        res.wallSeconds = (System.nanoTime() - start) / 1e9;
        return res;
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
