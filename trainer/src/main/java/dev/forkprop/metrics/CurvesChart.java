package dev.forkprop.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forkprop.io.Checkpoint;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /**
     * Starts the curves of a resumed run with the rows the run before it left in
     * {@code metrics.jsonl} (as cut by {@link MetricsJsonl#reopen}): epoch rows as epoch means,
     * step rows as train points (at the step that ends their interval). Call before the run.
     */
    public CurvesChart seedFrom(Path metricsJsonl) throws IOException {
        ObjectMapper om = new ObjectMapper();
        for (String line : Files.readAllLines(metricsJsonl, StandardCharsets.UTF_8)) {
            JsonNode j = om.readTree(line);
            double x = j.path("step").asDouble() / stepsPerEpoch;
            if (j.path("kind").asText().equals("epoch")) {
                epochX.add(x);
                trainLoss.add(number(j, "loss"));
                trainAcc.add(number(j, "train_accuracy"));
                valLoss.add(number(j, "val_loss"));
                valAcc.add(number(j, "val_accuracy"));
            } else {
                bucketX.add(x);
                bucketLoss.add(number(j, "loss"));
                bucketAcc.add(number(j, "train_accuracy"));
            }
        }
        return this;
    }

    /** A row's numeric field, NaN when null or absent (the chart skips non-finite points). */
    private static double number(JsonNode row, String field) {
        JsonNode v = row.get(field);
        return v != null && v.isNumber() ? v.asDouble() : Double.NaN;
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
        // Encoded in memory, then written atomically: a reader never sees half a PNG, and a full
        // disk leaves the previous chart and no temp file behind.
        var png = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(charts, charts.size(), 1, png, BitmapEncoder.BitmapFormat.PNG);
        Checkpoint.writeAtomically(file, png.toByteArray(), "chart");
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
