package dev.forkprop.metrics;

import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The interactive progress display: one redrawn progress bar (me.tongfei:progressbar) with
 * step/total, percentage, elapsed and ETA, and an extra message with the epoch, samples/s and the
 * last loss; each finished epoch leaves one permanent line above the bar. For terminals only
 * ({@link #isTerminal()}); pipes and files get {@link ProgressLog}'s lines instead.
 *
 * <p>The bar is the status line of a {@link StatusLineStream}: the one passed in, or else one
 * wrapping the given stream ({@link #messages()}). Every other message of the run (checkpoints
 * saved, signals, the trainer's log) must be printed through that same stream, so that it gets a
 * line of its own above the bar instead of being appended to the bar's line.
 *
 * <p>Threading: {@link #onEvent} and {@link #onClose} on the reporter thread. The bar library
 * redraws from its own daemon thread every {@link #REDRAW_MILLIS}; the values it shows are set
 * here, so the step loop only ever publishes a telemetry event. Allocates one message string per
 * redraw period, nothing per step.
 */
public final class TerminalProgress implements TelemetrySink {
    /** Redraw period: fast enough to look live, slow enough to cost nothing on 2 cores. */
    static final int REDRAW_MILLIS = 250;

    private final StatusLineStream out;
    private final int epochs;
    private final long startNanos;
    private final ProgressBar bar;
    private long lastMessage = Long.MIN_VALUE;
    private long timedSamples, timedNanos;

    /**
     * @param out        the terminal stream: a {@link StatusLineStream} shared with the run's other
     *                   messages, or a plain stream (then wrapped; see {@link #messages()})
     * @param totalSteps planned steps of the run
     * @param epochs     planned epochs, for "epoch i/n"
     * @param startNanos {@code System.nanoTime()} when training started
     */
    public TerminalProgress(PrintStream out, long totalSteps, int epochs, long startNanos) {
        this.out = out instanceof StatusLineStream s ? s : new StatusLineStream(out);
        this.epochs = epochs;
        this.startNanos = startNanos;
        this.bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(totalSteps).setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                .setUpdateIntervalMillis(REDRAW_MILLIS).setConsumer(new StatusLineConsumer(this.out)).build();
    }

    /**
     * The stream the bar is drawn on: print every other message of the run through it while the bar
     * is shown, so that each gets its own line above the bar.
     */
    public PrintStream messages() {
        return out;
    }

    /**
     * Draws the rendered bar as the stream's status line; the library's console consumer is kept for
     * its width (the terminal's, less a margin), which the bar is rendered to fit.
     */
    private static final class StatusLineConsumer extends ConsoleProgressBarConsumer {
        private final StatusLineStream lines;

        StatusLineConsumer(StatusLineStream lines) {
            super(lines);
            this.lines = lines;
        }

        @Override
        public void accept(String rendered) {
            lines.status(rendered);
        }

        @Override
        public void close() {
            lines.finishStatus(); // the final bar stays, as a permanent line
        }
    }

    /**
     * True when a person is likely watching: the JVM has a console attached to a terminal (since
     * JDK 22 {@code System.console()} is non-null even with redirected streams, hence isTerminal).
     */
    public static boolean isTerminal() {
        var c = System.console();
        return c != null && c.isTerminal();
    }

    @Override
    public void onEvent(StepEvent e, boolean endOfBatch) {
        if (e.kind == StepEvent.EPOCH_END) {
            String val = Double.isNaN(e.valLoss) ? "" : String.format(Locale.ROOT, " val loss %.4f acc %.4f", e.valLoss, e.valAccuracy);
            // The stream erases the bar, prints the line, and redraws the bar below it.
            out.printf(Locale.ROOT, "epoch %d/%d done: %s%s (%.1f s)%n", e.epoch, epochs, e.trainSummary(), val,
                    (e.nanoTime - startNanos) / 1e9);
            return;
        }
        if (!e.finite) {
            out.printf(Locale.ROOT, "step %d: loss or gradient not finite or loss exploded (loss %s), update skipped%n", e.step, e.loss);
        }
        timedSamples += e.samples;
        timedNanos += e.stepNanos;
        bar.stepTo(e.step);
        if (lastMessage == Long.MIN_VALUE || e.nanoTime - lastMessage >= REDRAW_MILLIS * 1_000_000L) { // MIN_VALUE: no message yet (the subtraction would overflow)
            lastMessage = e.nanoTime;
            double sps = timedNanos > 0 ? timedSamples / (timedNanos / 1e9) : 0;
            bar.setExtraMessage(String.format(Locale.ROOT, "epoch %d/%d | %,.0f samples/s | loss %.4f", e.epoch, epochs, sps, e.loss));
            timedSamples = timedNanos = 0; // samples/s over the last redraw period: the current speed
        }
    }

    @Override
    public void onClose() {
        bar.close();
        out.flush();
    }
}
