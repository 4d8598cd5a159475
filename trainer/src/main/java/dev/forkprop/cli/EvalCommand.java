package dev.forkprop.cli;

import dev.forkprop.data.Dataset;
import dev.forkprop.data.Datasets;
import dev.forkprop.data.ImageDataset;
import dev.forkprop.data.Normalization;
import dev.forkprop.engine.Engine;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.model.Network;
import dev.forkprop.model.ShardContext;
import dev.forkprop.model.Workspace;
import dev.forkprop.optim.GradClip;
import dev.forkprop.optim.Hyper;
import dev.forkprop.optim.Optimizers;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code forkprop eval}: a checkpoint on a test split, in eval mode: loss, accuracy, confusion matrix. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a checkpoint on a dataset's test split (eval mode: no dropout, batch-norm running statistics).")
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "a checkpoint written by train")
    Path checkpoint;
    @Option(names = "--data", description = "dataset (default: the one the checkpoint was trained on)")
    String data;
    @Option(names = "--data-dir", description = "where datasets live (default: $FORKPROP_DATA, then ./data)")
    Path dataDir;
    @Option(names = "--threads", description = "worker threads (default: available processors)")
    int threads = Runtime.getRuntime().availableProcessors();

    @Override
    public Integer call() {
        LoadedCheckpoint l = LoadedCheckpoint.read(checkpoint);
        Network net = l.net();
        String name = data != null ? data : l.checkpoint().get("data");
        ImageDataset images = Datasets.fromEnvironment(dataDir).load(name).test();
        Dataset test = "unit".equals(l.checkpoint().metadata().get("normalize")) ? images.withNormalization(Normalization.UNIT) : images;
        if (test.featureDim() != net.in()) {
            throw new IllegalArgumentException(name + " has " + test.featureDim() + " features, the checkpoint's model takes " + net.in());
        }
        int t = Math.max(1, threads);
        try (Engine engine = new Engine(net, l.loss(), Optimizers.create("sgd", net.layout().size(), Hyper.DEFAULTS),
                new GradClip(0), Gemms.best(), t, t, t, 0, l.targetWidth())) {
            System.arraycopy(l.params(), 0, engine.params, 0, l.params().length);
            System.arraycopy(l.buffers(), 0, engine.buffers, 0, l.buffers().length);
            var r = engine.evaluate(test);
            System.out.printf("%s test: %d samples | loss %.4f | accuracy %s | checkpoint step %s%n", name, test.size(), r.loss,
                    test.isClassification() ? String.format("%.4f", r.accuracy()) : "n/a", l.checkpoint().get("step"));
        }
        if (test.isClassification() && net.out() > 1) printConfusion(confusion(net, l, test));
        return 0;
    }

    /** counts[true][predicted] over the whole split; one thread, chunks of 256 rows. */
    static long[][] confusion(Network net, LoadedCheckpoint l, Dataset test) {
        final int classes = net.out(), in = net.in(), chunk = 256;
        long[][] counts = new long[classes][classes];
        Workspace w = net.newWorkspace(chunk, l.targetWidth());
        ShardContext p = net.newContext(Gemms.best());
        p.params = l.params();
        p.buffers = l.buffers();
        p.train = false;
        for (int r0 = 0; r0 < test.size(); r0 += chunk) {
            int rows = Math.min(chunk, test.size() - r0);
            for (int r = 0; r < rows; r++) test.features(r0 + r, w.input(), r * in);
            p.rowBase = r0;
            net.forward(p, w, rows);
            float[] y = w.output(); // [rows, classes], row-major
            for (int r = 0; r < rows; r++) {
                int best = 0;
                for (int c = 1; c < classes; c++) if (y[r * classes + c] > y[r * classes + best]) best = c;
                counts[test.label(r0 + r)][best]++;
            }
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
