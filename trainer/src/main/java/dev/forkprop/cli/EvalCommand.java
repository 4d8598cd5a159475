package dev.forkprop.cli;

import dev.forkprop.data.Dataset;
import dev.forkprop.data.Datasets;
import dev.forkprop.data.ImageDataset;
import dev.forkprop.data.Normalization;
import dev.forkprop.data.TableEncoding;
import dev.forkprop.engine.Engine;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.model.Network;
import dev.forkprop.optim.GradClip;
import dev.forkprop.optim.Hyper;
import dev.forkprop.optim.Optimizers;
import dev.forkprop.run.Inference;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code forkprop eval}: a checkpoint on a test split, in eval mode: loss and accuracy with a
 * confusion matrix (classification), or MSE, MAE and R^2 in the data's units (regression).
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate a checkpoint on a dataset (eval mode: no dropout, batch-norm running statistics).",
                "Without --data: the test split the checkpoint's run used (an image dataset's test files, the CSV run's",
                "--test-data, or the last 10%% of its CSV file). CSV columns are scaled and encoded as in training."})
public final class EvalCommand implements Callable<Integer> {
    @Mixin
    InferenceOptions options = new InferenceOptions();
    @Option(names = "--data", description = "a dataset name, or a CSV file whose rows are all evaluated (default: the checkpoint's test split)")
    String data;
    @Option(names = "--label", description = "CSV: the label column (default: the checkpoint's)")
    String label;

    @Override
    public Integer call() {
        LoadedCheckpoint l = options.read();
        Network net = l.net();
        String name = data != null ? data : l.checkpoint().get("data");
        Dataset test;
        TableEncoding enc = null;
        if (CsvInput.isCsv(name)) {
            String testFile = l.checkpoint().metadata().getOrDefault("test_data", "");
            boolean split = data == null && testFile.isEmpty(); // the run's own split: the last 10% of its file
            CsvInput in = CsvInput.read(l, Path.of(data == null && !testFile.isEmpty() ? testFile : name), label, true);
            enc = in.encoding();
            int rows = in.table().rows(), from = split ? rows - Math.max(1, rows / 10) : 0;
            test = enc.encode(in.table(), Math.max(0, from), rows).data();
            if (data == null) name = test.name();
        } else {
            ImageDataset images = Datasets.fromEnvironment(options.dataDir).load(name).test();
            test = "unit".equals(l.checkpoint().metadata().get("normalize")) ? images.withNormalization(Normalization.UNIT) : images;
        }
        if (test.featureDim() != net.in()) {
            throw new IllegalArgumentException(name + " has " + test.featureDim() + " features, the checkpoint's model takes " + net.in());
        }
        double units = enc == null ? 1 : enc.lossUnits();
        try (Engine engine = new Engine(net, l.loss(), Optimizers.create("sgd", net.layout().size(), Hyper.DEFAULTS),
                new GradClip(0), Gemms.best(), options.threads, options.threads, options.threads, 0, l.targetWidth())) {
            System.arraycopy(l.params(), 0, engine.params, 0, l.params().length);
            System.arraycopy(l.buffers(), 0, engine.buffers, 0, l.buffers().length);
            var r = engine.evaluate(test);
            String metrics = test.isClassification() ? String.format("accuracy %.4f", r.accuracy()) : regressionMetrics(l, test, enc);
            System.out.printf("%s test: %d samples | loss %.4f | %s | checkpoint step %s%n", name, test.size(), r.loss * units,
                    metrics, l.checkpoint().get("step"));
        }
        if (test.isClassification() && net.out() > 1) printConfusion(confusion(net, l, test, options.threads));
        return 0;
    }

    /** "mse M | mae A | r2 R" of the model's outputs against the targets, in the data's units. */
    private String regressionMetrics(LoadedCheckpoint l, Dataset test, TableEncoding enc) {
        float[] y = Inference.outputs(l.net(), l.params(), l.buffers(), test, l.targetWidth(), options.threads);
        int out = l.net().out(), n = test.size();
        float[] target = new float[test.targetDim()];
        double se = 0, ae = 0, sum = 0, sumSq = 0;
        long count = 0;
        for (int i = 0; i < n; i++) {
            test.target(i, target, 0);
            for (int j = 0; j < target.length; j++) {
                double t = enc == null ? target[j] : enc.target(target[j]);
                double p = enc == null ? y[i * out + j] : enc.target(y[i * out + j]);
                se += (p - t) * (p - t);
                ae += Math.abs(p - t);
                sum += t;
                sumSq += t * t;
                count++;
            }
        }
        double mean = sum / count, ssTot = sumSq - count * mean * mean;
        return String.format("mse %.6g | mae %.6g | r2 %.4f", se / count, ae / count, ssTot > 0 ? 1 - se / ssTot : Double.NaN);
    }

    /** counts[true][predicted] over the whole split. */
    static long[][] confusion(Network net, LoadedCheckpoint l, Dataset test, int threads) {
        final int classes = net.out();
        long[][] counts = new long[classes][classes];
        float[] y = Inference.outputs(net, l.params(), l.buffers(), test, l.targetWidth(), threads);
        for (int r = 0; r < test.size(); r++) {
            int best = 0;
            for (int c = 1; c < classes; c++) if (y[r * classes + c] > y[r * classes + best]) best = c;
            counts[test.label(r)][best]++;
        }
        return counts;
    }

    static void printConfusion(long[][] m) {
        StringBuilder sb = new StringBuilder("confusion matrix (rows: true class, columns: predicted)\n");
        sb.append(String.format("%6s", "true"));
        for (int c = 0; c < m.length; c++) sb.append(String.format(" %6d", c));
        sb.append(String.format(" %7s%n", "total"));
        for (int t = 0; t < m.length; t++) {
            sb.append(String.format("%6d", t));
            long sum = 0;
            for (long v : m[t]) {
                sb.append(String.format(" %6d", v));
                sum += v;
            }
            sb.append(String.format(" %7d%n", sum));
        }
        System.out.print(sb);
    }
}
