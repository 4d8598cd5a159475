package dev.forkprop.run;

import dev.forkprop.metrics.LatencySummary;
import dev.forkprop.metrics.Phase;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a run reports at the end. {@link #fields()} is the one list of what a run reports, by name:
 * the {@code --json} summary, {@code run.json} and the summary line ({@link #summaryLine()}) are
 * all written from it.
 */
public final class RunResult {
    public int epochs;
    public long steps;
    public int threads;
    public double testLoss = Double.NaN, testAccuracy = Double.NaN;
    public double valLoss = Double.NaN, valAccuracy = Double.NaN;
    public double trainLoss = Double.NaN;
    /** Training samples per second over the steps after warm-up. */
    public double samplesPerSec;
    public double wallSeconds;
    /**
     * Bad steps: the loss or gradient was not finite, or the loss exploded, and the update was
     * skipped. Counted over the whole run: a resumed run counts on from its start position's.
     */
    public long skippedSteps;
    public boolean interrupted;
    /** Stopped after {@link Trainer#maxBadSteps} consecutive bad steps, {@link #firstBadStep} to {@link #lastBadStep}. */
    public boolean diverged;
    public long firstBadStep, lastBadStep;
    /** The last step whose update was applied (the start step when none was). */
    public long lastGoodStep;
    /** Stopped by {@link Trainer#earlyStop}: no lower validation loss for the patience. */
    public boolean earlyStopped;
    /** Lowest validation loss so far and its 1-based epoch (NaN and 0 without validation). */
    public double bestValLoss = Double.NaN;
    public int bestEpoch;
    /** Wait for the loader's batches after warm-up, ms (NaN when no step was timed). */
    public double dataWaitMsP50 = Double.NaN, dataWaitMsP99 = Double.NaN, dataWaitMsMax = Double.NaN;
    /** Total wait for batches over every step of the run, warm-up (the first fill) included, s. */
    public double dataWaitSeconds;
    /** Step and per-phase latency after warm-up (ns histograms, 3 significant digits). */
    public LatencySummary latency = LatencySummary.empty();
    /** Step latency after warm-up, ms (NaN when no step was timed). */
    public double stepMsP50 = Double.NaN, stepMsP99 = Double.NaN, stepMsP999 = Double.NaN;
    /** Per-phase latency after warm-up, ms. */
    public double computeMsP50 = Double.NaN, computeMsP99 = Double.NaN;
    public double reduceUpdateMsP50 = Double.NaN, reduceUpdateMsP99 = Double.NaN;
    public double barrierWaitMsP50 = Double.NaN, barrierWaitMsP99 = Double.NaN;
    /** The ranks' gradient collectives per step after warm-up, ms (0 in a single process), and the bytes each rank sends per step. */
    public double allreduceMsP50 = Double.NaN, allreduceMsP99 = Double.NaN;
    public long allreduceBytesPerStep;
    /** Telemetry events dropped because the reporter was a full ring behind. */
    public long droppedTelemetry;
    /** Failures of telemetry sinks (progress log, histograms, .hlog); training went on. */
    public List<Throwable> telemetryFailures = List.of();
    /** Chunks of products that workers computed for other workers' shards, over the run. */
    public long helpedChunks;
    /** SHA-256 of the parameters at the end (hex): equal hashes, bitwise equal models. */
    public String paramsSha256;

    void setLatency(LatencySummary l) {
        latency = l;
        stepMsP50 = l.percentileMs(Phase.STEP, 50);
        stepMsP99 = l.percentileMs(Phase.STEP, 99);
        stepMsP999 = l.percentileMs(Phase.STEP, 99.9);
        computeMsP50 = l.percentileMs(Phase.COMPUTE, 50);
        computeMsP99 = l.percentileMs(Phase.COMPUTE, 99);
        reduceUpdateMsP50 = l.percentileMs(Phase.REDUCE_UPDATE, 50);
        reduceUpdateMsP99 = l.percentileMs(Phase.REDUCE_UPDATE, 99);
        barrierWaitMsP50 = l.percentileMs(Phase.BARRIER_WAIT, 50);
        barrierWaitMsP99 = l.percentileMs(Phase.BARRIER_WAIT, 99);
        dataWaitMsP50 = l.percentileMs(Phase.DATA_WAIT, 50);
        dataWaitMsP99 = l.percentileMs(Phase.DATA_WAIT, 99);
        dataWaitMsMax = l.maxMs(Phase.DATA_WAIT);
        allreduceMsP50 = l.percentileMs(Phase.ALLREDUCE, 50);
        allreduceMsP99 = l.percentileMs(Phase.ALLREDUCE, 99);
    }

    /**
     * Every reported figure by its name, in report order: numbers as Double, Long, Integer or
     * Boolean, null for a figure that was not measured (NaN: no timed step, no validation, a
     * regression run's accuracy). Optional fields ({@code last_good_step}, {@code best_epoch})
     * appear only when they apply.
     */
    public Map<String, Object> fields() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("test_accuracy", finite(testAccuracy));
        f.put("test_loss", finite(testLoss));
        f.put("epochs", epochs);
        f.put("steps", steps);
        f.put("threads", threads);
        f.put("samples_per_sec", finite(samplesPerSec));
        f.put("step_ms_p50", finite(stepMsP50));
        f.put("step_ms_p99", finite(stepMsP99));
        f.put("step_ms_p999", finite(stepMsP999));
        f.put("compute_ms_p50", finite(computeMsP50));
        f.put("compute_ms_p99", finite(computeMsP99));
        f.put("reduce_update_ms_p50", finite(reduceUpdateMsP50));
        f.put("reduce_update_ms_p99", finite(reduceUpdateMsP99));
        f.put("barrier_wait_ms_p50", finite(barrierWaitMsP50));
        f.put("barrier_wait_ms_p99", finite(barrierWaitMsP99));
        f.put("allreduce_ms_p50", finite(allreduceMsP50));
        f.put("allreduce_ms_p99", finite(allreduceMsP99));
        f.put("allreduce_bytes_per_step", allreduceBytesPerStep);
        f.put("data_wait_ms_p50", finite(dataWaitMsP50));
        f.put("data_wait_ms_p99", finite(dataWaitMsP99));
        f.put("data_wait_ms_max", finite(dataWaitMsMax));
        f.put("data_wait_s", dataWaitSeconds);
        f.put("bad_steps", skippedSteps);
        f.put("diverged", diverged);
        if (diverged) f.put("last_good_step", lastGoodStep);
        f.put("early_stopped", earlyStopped);
        f.put("best_val_loss", finite(bestValLoss));
        if (bestEpoch > 0) f.put("best_epoch", bestEpoch);
        f.put("telemetry_dropped", droppedTelemetry);
        f.put("helped_chunks", helpedChunks);
        f.put("wall_s", wallSeconds);
        f.put("params_sha256", paramsSha256);
        return f;
    }

    /** The one-line summary a run prints at the end, from {@link #fields()}. */
    public String summaryLine() {
        Map<String, Object> f = fields();
        return "test loss " + num(f, "test_loss", "%.4f") + " accuracy " + num(f, "test_accuracy", "%.4f")
                + " | " + f.get("epochs") + " epochs, " + f.get("steps") + " steps in " + num(f, "wall_s", "%.1f") + " s"
                + " | " + num(f, "samples_per_sec", "%.0f") + " samples/s"
                + " | step p50 " + ms(f, "step_ms_p50") + " ms p99 " + ms(f, "step_ms_p99") + " ms p99.9 " + ms(f, "step_ms_p999") + " ms"
                + " | compute p50 " + ms(f, "compute_ms_p50") + " p99 " + ms(f, "compute_ms_p99")
                + " | reduce+update p50 " + ms(f, "reduce_update_ms_p50") + " p99 " + ms(f, "reduce_update_ms_p99")
                + " | barrier wait p50 " + ms(f, "barrier_wait_ms_p50") + " p99 " + ms(f, "barrier_wait_ms_p99")
                + " | data wait p50 " + ms(f, "data_wait_ms_p50") + " p99 " + ms(f, "data_wait_ms_p99") + " ms"
                + (allreduceBytesPerStep > 0 ? " | allreduce p50 " + ms(f, "allreduce_ms_p50") + " p99 " + ms(f, "allreduce_ms_p99")
                        + " ms, " + allreduceBytesPerStep / 1024 + " KiB per step" : "")
                + ((Long) f.get("bad_steps") > 0 ? " | " + f.get("bad_steps") + " bad steps skipped" : "");
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static String ms(Map<String, Object> f, String key) {
        return num(f, key, "%.3f");
    }

    /** A figure formatted, or "n/a" when it was not measured. */
    private static String num(Map<String, Object> f, String key, String format) {
        Object v = f.get(key);
        return v == null ? "n/a" : String.format(Locale.ROOT, format, v);
    }
}
