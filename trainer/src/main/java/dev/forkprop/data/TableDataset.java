package dev.forkprop.data;

import java.util.Objects;

/**
 * Rows of float features with an integer class label or a float target vector: what
 * {@link CsvReader} and {@link SyntheticRegression} produce. Features are stored as given (no
 * normalization).
 *
 * <p>Thread-safety and allocation: see {@link Dataset}. Immutable; slices share storage.
 */
public final class TableDataset implements Dataset {

    private final String name;
    // x: [total rows, featureDim] row-major; this view is rows [first, first + n)
    private final float[] x;
    // labels: [total rows] class indices, or null for regression
    private final int[] labels;
    // targets: [total rows, targetDim] row-major, or null for classification
    private final float[] targets;
    private final int first;
    private final int n;
    private final int featureDim;
    private final int numClasses;
    private final int targetDim;

    private TableDataset(String name, float[] x, int[] labels, float[] targets, int first, int n,
                         int featureDim, int numClasses, int targetDim) {
        this.name = Objects.requireNonNull(name, "name");
        this.x = x;
        this.labels = labels;
        this.targets = targets;
        this.first = first;
        this.n = n;
        this.featureDim = featureDim;
        this.numClasses = numClasses;
        this.targetDim = targetDim;
    }

    /**
     * A classification table. Takes ownership of {@code x} ({@code [n, featureDim]}) and
     * {@code labels} ({@code [n]}, each in {@code [0, numClasses)}); the caller must not write them
     * afterwards.
     */
    public static TableDataset classification(String name, float[] x, int featureDim, int[] labels,
                                              int numClasses) {
        if (featureDim <= 0 || (long) labels.length * featureDim != x.length) {
            throw new IllegalArgumentException("x.length " + x.length + " != " + labels.length + " x " + featureDim);
        }
        if (numClasses < 1) {
            throw new IllegalArgumentException("numClasses " + numClasses + " < 1");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException("label " + labels[i] + " of row " + i + " not in [0, "
                        + numClasses + ")");
            }
        }
        return new TableDataset(name, x, labels, null, 0, labels.length, featureDim, numClasses, numClasses);
    }

    /**
     * A regression table. Takes ownership of {@code x} ({@code [n, featureDim]}) and
     * {@code targets} ({@code [n, targetDim]}); the caller must not write them afterwards.
     */
    public static TableDataset regression(String name, float[] x, int featureDim, float[] targets, int targetDim) {
        if (featureDim <= 0 || targetDim <= 0 || x.length % featureDim != 0
                || (long) (x.length / featureDim) * targetDim != targets.length) {
            throw new IllegalArgumentException("x.length " + x.length + " / featureDim " + featureDim
                    + " rows do not match targets.length " + targets.length + " / targetDim " + targetDim);
        }
        return new TableDataset(name, x, null, targets, 0, x.length / featureDim, featureDim, 0, targetDim);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String describe() {
        return name + ": " + n + " rows x " + featureDim + " features, "
                + (numClasses > 0 ? numClasses + " classes" : "regression on " + targetDim + " target(s)");
    }

    @Override
    public int size() {
        return n;
    }

    @Override
    public int featureDim() {
        return featureDim;
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    @Override
    public int targetDim() {
        return targetDim;
    }

    @Override
    public void features(int sample, float[] dst, int dstOff) {
        Objects.checkIndex(sample, n);
        System.arraycopy(x, (first + sample) * featureDim, dst, dstOff, featureDim);
    }

    @Override
    public int label(int sample) {
        if (labels == null) {
            throw new UnsupportedOperationException(name + " is a regression dataset: it has targets, not labels");
        }
        Objects.checkIndex(sample, n);
        return labels[first + sample];
    }

    @Override
    public void target(int sample, float[] dst, int dstOff) {
        Objects.checkIndex(sample, n);
        if (labels != null) {
            Objects.checkFromIndexSize(dstOff, numClasses, dst.length);
            for (int c = 0; c < numClasses; c++) {
                dst[dstOff + c] = 0f;
            }
            dst[dstOff + labels[first + sample]] = 1f;
        } else {
            System.arraycopy(targets, (first + sample) * targetDim, dst, dstOff, targetDim);
        }
    }

    @Override
    public TableDataset slice(int from, int to) {
        Objects.checkFromToIndex(from, to, n);
        return new TableDataset(name + "[" + from + "," + to + ")", x, labels, targets, first + from, to - from,
                featureDim, numClasses, targetDim);
    }
}
