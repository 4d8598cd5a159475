package dev.forkprop.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.EnumMap;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;

/**
 * Step and per-phase latency of timed (post-warm-up) steps, in nanoseconds at 3 significant
 * digits, kept as one interval histogram and one running total per {@link Phase}; optionally each
 * interval is also written to a standard HdrHistogram {@code .hlog} with one tag per phase
 * ({@code step, compute, reduce_update, barrier_wait, data_wait}, and {@code allreduce} under mpirun). Not a progress log ({@link ProgressLog}) and not a
 * cross-thread recorder: it has exactly one writer, the reporter thread.
 *
 * <p>Intervals are cut on the first event at least {@code intervalNanos} after the previous cut
 * (by the producer's {@link StepEvent#nanoTime}), and once more at {@link #onClose()}; an interval
 * with no timed step is not written. Interval timestamps in the file are wall-clock, taken on the
 * reporter thread when the interval is cut.
 *
 * <p>Threading: {@link #onEvent} and {@link #onClose} on the reporter thread only. {@link #summary()}
 * is for the thread that closed the ring, after {@link SpscTelemetryRing#close()} returned.
 * Memory consistency effects: everything this sink wrote happens-before {@code close()} returns,
 * through {@code Thread.join} on the reporter thread.
 */
public final class PhaseHistograms implements TelemetrySink {
    /** One hour in ns: a step longer than that is clamped, not an error. */
    static final long HIGHEST_TRACKABLE_NANOS = 3_600_000_000_000L;
    static final int SIGNIFICANT_DIGITS = 3;

    private final EnumMap<Phase, Histogram> interval = new EnumMap<>(Phase.class);
    private final EnumMap<Phase, Histogram> total = new EnumMap<>(Phase.class);
    private final long intervalNanos;
    private final PrintStream hlogOut;
    private final HistogramLogWriter hlog;
    private long intervalStartNanos = Long.MIN_VALUE;
    private long intervalStartMillis;
    private long timedSteps, timedSamples, timedNanos;
    private volatile LatencySummary summary;

    /**
     * @param intervalNanos length of one .hlog interval
     * @param hlogOut where the .hlog goes, or null for none; closed by {@link #onClose()}
     */
    public PhaseHistograms(long intervalNanos, OutputStream hlogOut) {
        this.intervalNanos = intervalNanos;
        this.hlogOut = hlogOut == null ? null : hlogOut instanceof PrintStream ps ? ps : new PrintStream(hlogOut, false);
        for (Phase p : Phase.values()) {
            interval.put(p, newHistogram());
            total.put(p, newHistogram());
        }
        if (hlogOut != null) {
            long now = System.currentTimeMillis();
            hlog = new HistogramLogWriter(this.hlogOut);
            hlog.outputComment("forkprop step and phase latency, ns, timed steps only; tags: step, compute, reduce_update, barrier_wait, data_wait, and allreduce under mpirun");
            hlog.outputLogFormatVersion();
            hlog.outputStartTime(now);
            // Written, not only set: a reader takes the base time from the file, and a resumed
            // run's segment (appended to the same file) must bring its own.
            hlog.outputBaseTime(now);
            hlog.setBaseTime(now);
            hlog.outputLegend();
        } else {
            hlog = null;
        }
    }

    static Histogram newHistogram() {
        return new Histogram(HIGHEST_TRACKABLE_NANOS, SIGNIFICANT_DIGITS);
    }

    @Override
    public void onEvent(StepEvent e, boolean endOfBatch) {
        if (intervalStartNanos == Long.MIN_VALUE) {
            intervalStartNanos = e.nanoTime;
            intervalStartMillis = System.currentTimeMillis();
        }
        if (e.kind == StepEvent.STEP && e.timed) {
            for (Phase p : Phase.values()) {
                interval.get(p).recordValue(Math.min(p.nanos(e), HIGHEST_TRACKABLE_NANOS));
            }
            timedSteps++;
            timedSamples += e.samples;
            timedNanos += e.stepNanos;
        }
        if (e.nanoTime - intervalStartNanos >= intervalNanos) {
            cutInterval();
            intervalStartNanos = e.nanoTime;
        }
    }

    /** Adds the interval histograms to the totals and writes them to the .hlog. */
    private void cutInterval() {
        long now = System.currentTimeMillis();
        boolean any = interval.get(Phase.STEP).getTotalCount() > 0;
        for (Phase p : Phase.values()) {
            Histogram h = interval.get(p);
            // The allreduce tag only where there are ranks: a single process has none to time.
            if (any && hlog != null && (p != Phase.ALLREDUCE || h.getMaxValue() > 0)) {
                h.setStartTimeStamp(intervalStartMillis);
                h.setEndTimeStamp(now);
                h.setTag(p.tag);
                hlog.outputIntervalHistogram(h);
            }
            total.get(p).add(h);
            h.reset();
        }
        intervalStartMillis = now;
    }

    @Override
    public void onClose() throws IOException {
        cutInterval();
        EnumMap<Phase, Histogram> copies = new EnumMap<>(Phase.class);
        for (Phase p : Phase.values()) copies.put(p, total.get(p).copy());
        summary = new LatencySummary(copies, timedSteps, timedSamples, timedNanos);
        if (hlogOut != null) {
            hlogOut.flush();
            boolean failed = hlogOut.checkError(); // PrintStream swallows IOExceptions; surface them here
            hlogOut.close();
            if (failed) throw new IOException("writing the .hlog failed");
        }
    }

    /** The totals, once the ring is closed; null before. */
    public LatencySummary summary() {
        return summary;
    }
}
