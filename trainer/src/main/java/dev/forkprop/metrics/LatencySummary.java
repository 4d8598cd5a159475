package dev.forkprop.metrics;

import java.util.EnumMap;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * What the latency histograms say at the end of a run: one histogram (ns, 3 significant digits,
 * timed steps only) per {@link Phase}, the number of timed steps, and their throughput. Immutable
 * once built: the histograms are private copies and are not handed out for writing.
 */
public final class LatencySummary {
    /** The percentiles {@link #format()} prints. */
    public static final double[] PERCENTILES = {50, 90, 99, 99.9};

    private final EnumMap<Phase, Histogram> nanos;
    private final long timedSteps, timedSamples, timedNanos;

    LatencySummary(EnumMap<Phase, Histogram> nanos, long timedSteps, long timedSamples, long timedNanos) {
        this.nanos = nanos;
        this.timedSteps = timedSteps;
        this.timedSamples = timedSamples;
        this.timedNanos = timedNanos;
    }

    /** An empty summary, for a run that had no telemetry. */
    public static LatencySummary empty() {
        EnumMap<Phase, Histogram> m = new EnumMap<>(Phase.class);
        for (Phase p : Phase.values()) m.put(p, PhaseHistograms.newHistogram());
        return new LatencySummary(m, 0, 0, 0);
    }

    /** Value at {@code percentile} (0..100) of {@code phase}, in ms; NaN when nothing was timed. */
    public double percentileMs(Phase phase, double percentile) {
        Histogram h = nanos.get(phase);
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1e6;
    }

    /** Largest recorded value of {@code phase} (at histogram precision), in ms; NaN when empty. */
    public double maxMs(Phase phase) {
        Histogram h = nanos.get(phase);
        return h.getTotalCount() == 0 ? Double.NaN : h.getMaxValue() / 1e6;
    }

    /** A copy of the histogram of {@code phase} (ns). */
    public Histogram histogram(Phase phase) {
        return nanos.get(phase).copy();
    }

    /** Steps after warm-up that reached the histograms (dropped events are missing here). */
    public long timedSteps() {
        return timedSteps;
    }

    /** Samples per second over the timed steps, by summed step time; NaN when none. */
    public double samplesPerSec() {
        return timedNanos > 0 ? timedSamples / (timedNanos / 1e9) : Double.NaN;
    }

    /**
     * One line per phase: {@code step     p50 1.234 p90 ... max ... ms (n 420)}, or
     * {@code step      no timed steps ...} when the run ended before warm-up did.
     */
    public String format() {
        StringBuilder sb = new StringBuilder();
        for (Phase p : Phase.values()) {
            if (p == Phase.ALLREDUCE && nanos.get(p).getMaxValue() == 0) continue; // a single process
            sb.append(String.format(Locale.ROOT, "%-9s", p.tag));
            if (nanos.get(p).getTotalCount() == 0) {
                sb.append(String.format(Locale.ROOT, " no timed steps (the run ended in warm-up)%n"));
                continue;
            }
            for (double q : PERCENTILES) {
                sb.append(String.format(Locale.ROOT, " p%s %.3f", q == Math.rint(q) ? Long.toString((long) q) : Double.toString(q), percentileMs(p, q)));
            }
            sb.append(String.format(Locale.ROOT, " max %.3f ms (n %d)%n", maxMs(p), nanos.get(p).getTotalCount()));
        }
        return sb.toString();
    }
}
