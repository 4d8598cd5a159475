package dev.forkprop.metrics;

import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code curves.png}: training loss and accuracy against (fractional) epochs, stacked, with the
 * epoch means of train and validation as marked lines over a thin per-bucket train curve. Written
 * after every epoch and at close, atomically (temp file, then rename), so the file on disk is always
 * a whole image. Not a metrics record (that is {@link MetricsJsonl}).
 *
 * <p>Threading: reporter thread only ({@link TelemetrySink}). Keeps a few doubles per
 * {@code stepsPerEpoch / BUCKETS_PER_EPOCH} steps; renders (allocating, ~100 ms) once per epoch.
 * Sets {@code java.awt.headless=true} unless it is already set.
 */
public final class CurvesChart implements TelemetrySink {
    /** Train-curve points per epoch: smooth enough to show the shape, cheap to draw. */
    static final int BUCKETS_PER_EPOCH = 25;
    static final int WIDTH = 900, HEIGHT = 800;

    private final Path file;
    private final boolean classification;
    private final int stepsPerEpoch;
    private final long bucketSteps;

    private final List<Double> bucketX = new ArrayList<>(), bucketLoss = new ArrayList<>(), bucketAcc = new ArrayList<>();
    private final List<Double> epochX = new ArrayList<>(), trainLoss = new ArrayList<>(), trainAcc = new ArrayList<>();
    private final List<Double> valLoss = new ArrayList<>(), valAcc = new ArrayList<>();
    private double lossSum;
    private long correct, samples, steps;
    private boolean dirty;

    /**
     * @param stepsPerEpoch steps in a full epoch, to place steps on the epoch axis
     * @param classification false for regression: only the loss chart is drawn
     */
    public CurvesChart(Path file, int stepsPerEpoch, boolean classification) {
        this.file = file;
        this.stepsPerEpoch = Math.max(1, stepsPerEpoch);
        this.classification = classification;
        this.bucketSteps = Math.max(1, this.stepsPerEpoch / BUCKETS_PER_EPOCH);
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    @Override
    public void onEvent(StepEvent e, boolean endOfBatch) throws IOException {
        if (e.kind == StepEvent.EPOCH_END) {
            // x of an epoch mean: the end of that epoch (fractional when --max-steps cut it short)
            double x = (double) e.step / stepsPerEpoch;
            epochX.add(x);
            trainLoss.add(e.loss);
            trainAcc.add(e.accuracy());
            valLoss.add(e.valLoss);
            valAcc.add(e.valAccuracy);
            write();
            return;
        }
        lossSum += e.loss * e.samples;
        correct += e.correct;
        samples += e.samples;
        if (++steps >= bucketSteps) {
            // x: the step at the middle of the bucket, in epochs
            bucketX.add((e.step - (steps - 1) / 2.0) / stepsPerEpoch);
            bucketLoss.add(lossSum / Math.max(1, samples));
            bucketAcc.add(samples == 0 ? 0 : (double) correct / samples);
            lossSum = 0;
            correct = samples = steps = 0;
            dirty = true;
        }
    }

    @Override
    public void onClose() throws IOException {
        if (dirty) write();
    }

    /** Renders both charts into one image and replaces {@link #file}. */
    void write() throws IOException {
        dirty = false;
        XYChart loss = chart("Loss", "loss", Styler.LegendPosition.InsideNE);
        add(loss, "train (per " + bucketSteps + " steps)", bucketX, bucketLoss, false);
        add(loss, "train (epoch mean)", epochX, trainLoss, true);
        add(loss, "validation", epochX, valLoss, true);
        List<XYChart> charts = new ArrayList<>(List.of(loss));
        if (classification) {
            XYChart acc = chart("Accuracy", "accuracy", Styler.LegendPosition.InsideSE);
            add(acc, "train (per " + bucketSteps + " steps)", bucketX, bucketAcc, false);
            add(acc, "train (epoch mean)", epochX, trainAcc, true);
            add(acc, "validation", epochX, valAcc, true);
            charts.add(acc);
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            BitmapEncoder.saveBitmap(charts, charts.size(), 1, out, BitmapEncoder.BitmapFormat.PNG);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Loss falls (legend top right), accuracy rises (legend bottom right): the legend stays off the curves. */
    private static XYChart chart(String title, String yTitle, Styler.LegendPosition legend) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT / 2).title(title).xAxisTitle("epoch").yAxisTitle(yTitle).build();
        var s = c.getStyler();
        s.setLegendPosition(legend);
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotGridLinesVisible(true);
        s.setXAxisMin(0.0);
        return c;
    }

    /** Adds a series, skipping NaN points (no validation set, empty buckets); nothing when empty. */
    private static void add(XYChart c, String name, List<Double> xs, List<Double> ys, boolean marked) {
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        for (int i = 0; i < xs.size(); i++) {
            if (Double.isFinite(ys.get(i))) {
                x.add(xs.get(i));
                y.add(ys.get(i));
            }
        }
        if (x.isEmpty()) return;
        XYSeries s = c.addSeries(name, x, y);
        if (marked) {
            s.setMarker(SeriesMarkers.CIRCLE);
        } else {
            s.setMarker(SeriesMarkers.NONE);
            s.setLineWidth(1f);
        }
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    }
}
