package dev.forkprop.cli;

import dev.forkprop.data.Dataset;
import dev.forkprop.data.Datasets;
import dev.forkprop.data.IdxReader;
import dev.forkprop.data.ImageDataset;
import dev.forkprop.data.Normalization;
import dev.forkprop.data.TableEncoding;
import dev.forkprop.io.Checkpoint;
import dev.forkprop.run.Inference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code forkprop predict}: a checkpoint's predictions for every row of a CSV file, or every image
 * of an IDX file or of a named dataset's test split, written as CSV in input order. Nothing is
 * written unless every row was read and predicted: the file appears whole (atomic rename) or not at all.
 */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write a checkpoint's predictions for new rows, one output row per input row, in input order.",
                "Output columns: prediction (the class, or the value in the data's units), then p_<class> for each class",
                "(softmax of the outputs; sigmoid with --loss bce). CSV input needs the model's feature columns, by name,",
                "in any order; the label column may be there (it is ignored) or not; nothing else may be."})
public final class PredictCommand implements Callable<Integer> {
    @Mixin
    InferenceOptions options = new InferenceOptions();
    @Option(names = "--data", required = true, description = "a CSV file, an IDX image file (raw or .gz), or a dataset name (its test images)")
    String data;
    @Option(names = "--out", required = true, description = "the CSV file to write")
    Path out;

    @Override
    public Integer call() {
        LoadedCheckpoint l = options.read();
        Dataset rows;
        TableEncoding enc = null;
        String made = "";
        if (CsvInput.isCsv(data)) {
            CsvInput in = CsvInput.read(l, Path.of(data), null, false);
            enc = in.encoding();
            TableEncoding.Encoded e = enc.encode(in.table(), 0, in.table().rows());
            rows = e.data();
            if (e.unseenCategories() > 0) made += "; " + e.unseenCategories() + " categorical cells with a category not seen in training (encoded as all zeros)";
            if (e.filledCells() > 0) made += "; " + e.filledCells() + " missing cells filled with training means (categories: all zeros)";
        } else {
            rows = images(l);
        }
        if (rows.featureDim() != l.net().in()) {
            throw new IllegalArgumentException(data + " has " + rows.featureDim() + " features, the checkpoint's model takes " + l.net().in());
        }
        float[] y = Inference.outputs(l.net(), l.params(), l.buffers(), rows, l.targetWidth(), options.threads);
        byte[] csv = format(y, rows.size(), l.net().out(), l.loss().name(), enc);
        Checkpoint.writeAtomically(out, csv, "predictions");
        System.err.printf("forkprop: wrote %d predictions to %s (checkpoint step %s)%s%n", rows.size(), out, l.checkpoint().get("step"), made);
        return 0;
    }

    /** A dataset's test images, or the images of an IDX file, normalised as the checkpoint's run did. */
    private Dataset images(LoadedCheckpoint l) {
        String trained = l.checkpoint().get("data");
        if (Datasets.isKnown(data)) {
            ImageDataset test = Datasets.fromEnvironment(options.dataDir).load(data).test();
            return "unit".equals(l.checkpoint().metadata().get("normalize")) ? test.withNormalization(Normalization.UNIT) : test;
        }
        if (!Datasets.isKnown(trained)) {
            throw new IllegalArgumentException("--data " + data + ": not a CSV file, and the checkpoint's model was trained on " + trained
                    + ", not on images");
        }
        IdxReader.Images img = IdxReader.readImages(Path.of(data));
        Normalization norm = "unit".equals(l.checkpoint().metadata().get("normalize")) ? Normalization.UNIT : Datasets.normalizationOf(trained);
        int classes = Math.max(1, Math.min(256, l.targetWidth()));
        return new ImageDataset(img.source(), img.pixels(), new byte[img.count()], img.rows(), img.cols(), classes, norm);
    }

    /** The predictions as CSV: header, then one line per row. */
    static byte[] format(float[] y, int n, int width, String loss, TableEncoding enc) {
        boolean regression = enc != null ? !enc.isClassification() : loss.equals("mse") && width == 1;
        StringBuilder sb = new StringBuilder(n * (12 + 12 * width));
        sb.append("prediction");
        if (!regression) {
            if (width == 1) sb.append(",p_1");
            else for (int c = 0; c < width; c++) sb.append(",p_").append(c);
        }
        sb.append('\n');
        float[] p = new float[width];
        for (int r = 0; r < n; r++) {
            int o = r * width;
            if (regression) {
                sb.append(Float.toString(enc == null ? y[o] : (float) enc.target(y[o]))).append('\n');
                continue;
            }
            probabilities(y, o, width, loss, p);
            int best = 0;
            for (int c = 1; c < width; c++) if (y[o + c] > y[o + best]) best = c;
            sb.append(width == 1 ? (p[0] >= 0.5f ? 1 : 0) : best);
            for (int c = 0; c < width; c++) sb.append(',').append(p[c]);
            sb.append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Class probabilities from the outputs: softmax (cross-entropy, or one-hot MSE), or a sigmoid per output (bce). */
    private static void probabilities(float[] y, int o, int width, String loss, float[] p) {
        if (loss.equals("bce") || width == 1) {
            for (int c = 0; c < width; c++) p[c] = (float) (1 / (1 + Math.exp(-y[o + c])));
            return;
        }
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int c = 0; c < width; c++) max = Math.max(max, y[o + c]);
        for (int c = 0; c < width; c++) sum += Math.exp(y[o + c] - max);
        for (int c = 0; c < width; c++) p[c] = (float) (Math.exp(y[o + c] - max) / sum);
    }
}
