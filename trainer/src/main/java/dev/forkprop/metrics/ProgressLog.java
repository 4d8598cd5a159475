package dev.forkprop.metrics;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The human-readable progress lines: one step line at most every {@code everyNanos} (measured by
 * the producer's {@link StepEvent#nanoTime}) and one line per finished epoch. Formatting and I/O
 * happen here, on the reporter thread, so the training loop never waits on a terminal. Not a
 * metrics file: the machine-readable records are the .hlog and metrics.jsonl.
 *
 * <p>Threading: reporter thread only. Allocates (formatting) once per printed line.
 */
public final class ProgressLog implements TelemetrySink {
    private final PrintStream out;
    private final long everyNanos;
    private final long startNanos;
    private long lastLine;
    private long timedSamples, timedNanos;

    /**
     * @param startNanos {@code System.nanoTime()} when training started; the first step line comes
     *                   {@code everyNanos} after it, and epoch lines print the time since
     */
    public ProgressLog(PrintStream out, long everyNanos, long startNanos) {
        this.out = out;
        this.everyNanos = everyNanos;
        this.startNanos = startNanos;
        this.lastLine = startNanos;
    }

    @Override
    public void onEvent(StepEvent e, boolean endOfBatch) {
        if (e.kind == StepEvent.EPOCH_END) {
            String val = Double.isNaN(e.valLoss) ? "" : String.format(Locale.ROOT, " val loss %.4f acc %.4f", e.valLoss, e.valAccuracy);
            out.printf(Locale.ROOT, "epoch %d done: %s%s (%.1f s)%n", e.epoch, e.trainSummary(), val, (e.nanoTime - startNanos) / 1e9);
            return;
        }
        if (!e.finite) {
            out.printf(Locale.ROOT, "step %d: loss or gradient not finite or loss exploded (loss %s), update skipped%n", e.step, e.loss);
        }
        if (e.timed) {
            timedSamples += e.samples;
            timedNanos += e.stepNanos;
        }
        if (e.nanoTime - lastLine >= everyNanos) {
            lastLine = e.nanoTime;
            double samplesPerSec = timedNanos > 0 ? timedSamples / (timedNanos / 1e9) : e.samples / (e.stepNanos / 1e9);
            out.printf(Locale.ROOT, "epoch %d step %d/%d loss %.4f acc %.4f lr %.5g %.0f samples/s%s%n", e.epoch, e.step, e.totalSteps,
                    e.loss, e.accuracy(), e.lr, samplesPerSec, e.finite ? "" : " (non-finite, update skipped)");
        }
    }

    @Override
    public void onClose() {
        out.flush();
    }
}
