package dev.forkprop.metrics;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forkprop.io.Checkpoint;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.HdrHistogram.Histogram;

/**
 * The machine-readable training record {@code metrics.jsonl}: one JSON object per line, flushed
 * line by line so a crashed or running job can be read. Step rows ({@code "kind":"step"}) summarize
 * an interval of steps, cut on the first step at least {@code everyNanos} (producer time) after the
 * previous row, or after {@code everySteps} steps, whichever comes first; epoch rows
 * ({@code "kind":"epoch"}) carry the epoch totals and validation. Not the latency log (that is the
 * .hlog) and not a progress display.
 *
 * <p>Fields: {@code kind, step, epoch, loss, train_accuracy, lr, samples_per_sec, step_ms_p50,
 * step_ms_p99, bad_steps} ({@code bad_steps}: steps of the run so far, those before a resume
 * included, whose loss or gradient was not finite, their updates skipped, as far as their events
 * reached the ring); epoch rows add {@code val_loss, val_accuracy} when there is a validation set and
 * drop {@code lr}. A step row's loss and accuracy are sample-weighted means over its interval,
 * samples/s is samples over summed step time, the percentiles are of the interval's steps (warm-up
 * included: rows describe what happened). {@code train_accuracy} is null for regression. An epoch
 * row's samples/s and percentiles cover the epoch's steps.
 *
 * <p>Threading: reporter thread only ({@link TelemetrySink}). Allocates per written line (JSON
 * formatting), nothing per step. Memory consistency effects: as {@link PhaseHistograms}: all
 * writes happen-before {@link SpscTelemetryRing#close()} returns.
 */
public final class MetricsJsonl implements TelemetrySink {
    private final JsonGenerator json;
    private final Writer writer;
    private final long everyNanos;
    private final long everySteps;
    private final boolean classification;

    private final Interval interval = new Interval();
    private final Interval epoch = new Interval();
    private long intervalStartNanos = Long.MIN_VALUE;
    private long lastStep;
    private int lastEpoch;
    private double lastLr = Double.NaN;
    private long badSteps;

    /** Running sums of one row; reused. */
    private static final class Interval {
        final Histogram stepNanos = PhaseHistograms.newHistogram();
        double lossSum;
        long correct, samples, nanos, steps;

        void add(StepEvent e) {
            lossSum += e.loss * e.samples;
            correct += e.correct;
            samples += e.samples;
            nanos += e.stepNanos;
            steps++;
            stepNanos.recordValue(Math.min(Math.max(e.stepNanos, 0), PhaseHistograms.HIGHEST_TRACKABLE_NANOS));
        }

        void reset() {
            lossSum = 0;
            correct = samples = nanos = steps = 0;
            stepNanos.reset();
        }
    }

    /**
     * @param out            where the lines go; closed by {@link #onClose()}
     * @param everyNanos     longest time between step rows
     * @param everySteps     most steps per step row (0: time only)
     * @param classification false for regression: {@code train_accuracy} is then null
     */
    public MetricsJsonl(OutputStream out, long everyNanos, long everySteps, boolean classification) throws IOException {
        this.writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
        this.json = new JsonFactory().createGenerator(writer);
        this.json.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
        this.json.setRootValueSeparator(null); // lines are separated by the '\n' written after each row
        this.everyNanos = everyNanos;
        this.everySteps = everySteps;
        this.classification = classification;
    }

    /**
     * Opens the {@code metrics.jsonl} of a run resumed after step {@code step} for appending,
     * after cutting it back to what the resumed run will not write again: rows past {@code step}
     * (the killed process got further than its checkpoint; the resumed run repeats those steps),
     * a torn last line, and, when {@code epochRowAgain}, the epoch row at {@code step} (the
     * resumed run validates that epoch again and writes its row). The cut is written atomically
     * (see {@link Checkpoint#writeAtomically}). A missing file is created.
     */
    public static OutputStream reopen(Path file, long step, boolean epochRowAgain) throws IOException {
        if (Files.exists(file)) {
            ObjectMapper om = new ObjectMapper();
            StringBuilder kept = new StringBuilder();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                JsonNode row;
                try {
                    row = om.readTree(line);
                } catch (IOException torn) {
                    break; // only the last line can be torn: a kill mid-write
                }
                if (row == null || !row.has("step") || !row.has("kind")) break;
                long s = row.get("step").asLong();
                boolean epochRow = row.get("kind").asText().equals("epoch");
                if (s > step || (s == step && epochRow && epochRowAgain)) continue;
                kept.append(line).append('\n');
            }
            Checkpoint.writeAtomically(file, kept.toString().getBytes(StandardCharsets.UTF_8), "metrics");
        }
        return Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /**
     * Counts {@code bad_steps} on from {@code before}: a resumed run's bad steps up to its
     * checkpoint ({@link dev.forkprop.engine.Trainer.Start#badSteps}).
     */
    public MetricsJsonl badStepsBefore(long before) {
        this.badSteps = before;
        return this;
    }

    @Override
    public void onEvent(StepEvent e, boolean endOfBatch) throws IOException {
        if (intervalStartNanos == Long.MIN_VALUE) intervalStartNanos = e.nanoTime - e.stepNanos;
        if (e.kind == StepEvent.EPOCH_END) {
            if (interval.steps > 0) writeStepRow(); // the epoch's tail, so step rows cover every step
            writeRow("epoch", e.step, e.epoch, e.loss, e.correct, e.samples, Double.NaN, epoch, e.valLoss, e.valAccuracy);
            epoch.reset();
            intervalStartNanos = e.nanoTime;
            return;
        }
        interval.add(e);
        epoch.add(e);
        if (!e.finite) badSteps++;
        lastStep = e.step;
        lastEpoch = e.epoch;
        lastLr = e.lr;
        if (e.nanoTime - intervalStartNanos >= everyNanos || (everySteps > 0 && interval.steps >= everySteps)) {
            writeStepRow();
            intervalStartNanos = e.nanoTime;
        }
    }

    private void writeStepRow() throws IOException {
        writeRow("step", lastStep, lastEpoch, interval.lossSum / Math.max(1, interval.samples), interval.correct, interval.samples,
                lastLr, interval, Double.NaN, Double.NaN);
        interval.reset();
    }

    private void writeRow(String kind, long step, int epochNo, double loss, long correct, long samples, double lr, Interval stats,
                          double valLoss, double valAccuracy) throws IOException {
        JsonGenerator g = json;
        g.writeStartObject();
        g.writeStringField("kind", kind);
        g.writeNumberField("step", step);
        g.writeNumberField("epoch", epochNo);
        number(g, "loss", loss);
        number(g, "train_accuracy", classification && samples > 0 ? (double) correct / samples : Double.NaN);
        if (!Double.isNaN(valLoss)) number(g, "val_loss", valLoss);
        if (!Double.isNaN(valLoss)) number(g, "val_accuracy", classification ? valAccuracy : Double.NaN);
        if (kind.equals("step")) {
            if (Double.isFinite(lr)) g.writeNumberField("lr", (float) lr); // the float the step used, printed as such
            else g.writeNullField("lr");
        }
        number(g, "samples_per_sec", stats.nanos > 0 ? stats.samples / (stats.nanos / 1e9) : Double.NaN);
        long n = stats.stepNanos.getTotalCount();
        number(g, "step_ms_p50", n == 0 ? Double.NaN : stats.stepNanos.getValueAtPercentile(50) / 1e6);
        number(g, "step_ms_p99", n == 0 ? Double.NaN : stats.stepNanos.getValueAtPercentile(99) / 1e6);
        g.writeNumberField("bad_steps", badSteps);
        g.writeEndObject();
        g.flush();
        writer.write('\n');
        writer.flush(); // one line at a time reaches the file: readable while the run goes on
    }

    /** JSON has no NaN or infinity: those become null. */
    private static void number(JsonGenerator g, String name, double v) throws IOException {
        if (Double.isFinite(v)) g.writeNumberField(name, v);
        else g.writeNullField(name);
    }

    @Override
    public void onClose() throws IOException {
        try {
            if (interval.steps > 0) writeStepRow(); // a run cut short (max-steps, interrupt) keeps its last steps
        } finally {
            json.close();
            writer.close();
        }
    }
}
