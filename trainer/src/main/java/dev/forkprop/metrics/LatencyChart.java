package dev.forkprop.metrics;

import dev.forkprop.io.Checkpoint;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code latency.png}: the HdrHistogram percentile distribution of the step and of each
 * {@link Phase}, after warm-up. x is {@code log10(1/(1-p))}, labelled as the percentile
 * (0 = 0%, 1 = 90%, 2 = 99%, ...), so the tail gets as much room as the median; y is ms on a
 * log scale, so the sub-millisecond phases are readable beside the step. Drawn once, at the end
 * of a run, from a {@link LatencySummary}. Not a live view.
 *
 * <p>Threading: any one thread; allocates freely. Sets {@code java.awt.headless=true} unless set.
 */
public final class LatencyChart {
    static final int WIDTH = 900, HEIGHT = 500;
    /** Percentile iteration resolution: points per halving of the distance to 100%. */
    static final int TICKS_PER_HALF_DISTANCE = 5;
    /** Floor for the log y axis: a 0 ns phase (a skipped update) would have no place on it. */
    static final double MIN_MS = 1e-4;

    private LatencyChart() {}

    /** Writes the chart of {@code summary} to {@code file} (temp file, then rename). */
    public static void write(LatencySummary summary, Path file) throws IOException {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title(String.format(Locale.ROOT, "Step latency after warm-up (%d timed steps)", summary.timedSteps()))
                .xAxisTitle("percentile").yAxisTitle("ms").build();
        Styler s = c.getStyler();
        s.setLegendPosition(Styler.LegendPosition.InsideNW);
        s.setChartBackgroundColor(Color.WHITE);
        // x is plotted as log10(1/(1-p)) on a linear axis: XChart's log axis drops custom tick labels
        c.getStyler().setYAxisLogarithmic(true);
        c.getStyler().setXAxisMin(0.0);
        c.getStyler().setxAxisTickLabelsFormattingFunction(LatencyChart::percentileLabel);
        for (Phase p : Phase.values()) {
            Histogram h = summary.histogram(p);
            if (h.getTotalCount() == 0 || h.getMaxValue() == 0) continue; // e.g. allreduce in a single process
            List<Double> x = new ArrayList<>(), y = new ArrayList<>();
            for (HistogramIterationValue v : h.percentiles(TICKS_PER_HALF_DISTANCE)) {
                double q = v.getPercentileLevelIteratedTo() / 100.0;
                if (q >= 1.0) break; // 1/(1-1) is infinite: the max is the last finite point's neighbour
                x.add(Math.log10(1.0 / (1.0 - q)));
                y.add(Math.max(MIN_MS, h.highestEquivalentValue(v.getValueIteratedTo()) / 1e6));
            }
            if (x.isEmpty()) continue;
            XYSeries series = c.addSeries(String.format(Locale.ROOT, "%s (p50 %.3f, p99 %.3f ms)", p.tag,
                    summary.percentileMs(p, 50), summary.percentileMs(p, 99)), x, y);
            series.setMarker(SeriesMarkers.NONE);
        }
        if (c.getSeriesMap().isEmpty()) c.addSeries("no timed steps", new double[] {0, 1}, new double[] {MIN_MS, MIN_MS});
        var png = new ByteArrayOutputStream(); // written atomically, as CurvesChart
        BitmapEncoder.saveBitmap(c, png, BitmapEncoder.BitmapFormat.PNG);
        Checkpoint.writeAtomically(file, png.toByteArray(), "chart");
    }

    /**
     * Tick label for x = log10(1/(1-p)): whole x are the "nines", {@code 0 -> 0%, 1 -> 90%, 2 -> 99%,
     * 3 -> 99.9%}; other ticks stay unlabelled.
     */
    static String percentileLabel(double x) {
        long nines = Math.round(x);
        if (Math.abs(x - nines) > 1e-6 || nines < 0) return "";
        if (nines == 0) return "0%";
        // 100*(1 - 10^-n) has n-2 digits after the point once n > 2 (99.9 -> 1, 99.99 -> 2)
        return String.format(Locale.ROOT, "%." + Math.max(0, nines - 2) + "f%%", 100 * (1 - Math.pow(10, -nines)));
    }
}
