package dev.forkprop.data;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The three splits a training run uses, and how they are chosen: a named image dataset (its own
 * train and test files), the built-in synthetic regression set, or a CSV file (its last 10% of
 * rows as the test set unless a test file is given); then, with a validation size, the last that
 * many training samples held out for validation.
 *
 * @param validation the held-out samples, or null without a validation split
 */
public record TrainingData(Dataset train, Dataset validation, Dataset test) {

    /**
     * What to load: {@code data} is an image dataset's name ({@link Datasets#NAMES}), {@code
     * synthetic}, or a path ending in {@code .csv}. For CSV: {@code label} (a column name or index,
     * null for the last column), {@code task} (classification or regression) and {@code testFile}
     * (null: hold out the last 10% of rows). For images: {@code normalize} (standard or unit) and
     * {@code dataDir} (null: the environment's, see {@link Datasets#fromEnvironment}). {@code seed}
     * draws the synthetic set; {@code validation} samples are held out (0: none).
     */
    public record Request(String data, String label, String task, Path testFile, String normalize, Path dataDir,
                          long seed, int validation) {}

    /** Loads the splits; a one-line IllegalArgumentException (or a {@link DataException}) names what is wrong. */
    public static TrainingData load(Request q) {
        Dataset train, test;
        if (q.data().toLowerCase(Locale.ROOT).endsWith(".csv")) {
            check(q.task().equals("classification") || q.task().equals("regression"),
                    "--task must be classification or regression, got '" + q.task() + "'");
            CsvReader reader = q.task().equals("regression") ? CsvReader.regression() : CsvReader.classification();
            if (q.label() != null) reader = reader.labelColumnSpec(q.label());
            TableDataset all = reader.read(Path.of(q.data()));
            if (q.testFile() != null) {
                train = all;
                test = reader.read(q.testFile());
                check(test.featureDim() == train.featureDim(), "--test-data has " + test.featureDim()
                        + " features, --data has " + train.featureDim());
            } else {
                int cut = all.size() - Math.max(1, all.size() / 10);
                check(cut > 0, q.data() + ": too few rows (" + all.size() + ") to hold out a test set");
                train = all.slice(0, cut);
                test = all.slice(cut, all.size());
            }
        } else if (q.data().equals("synthetic")) {
            SyntheticRegression all = SyntheticRegression.generate(70_000, 20, 1, 0.1, q.seed());
            train = all.dataset().slice(0, 60_000);
            test = all.dataset().slice(60_000, 70_000);
        } else {
            Datasets.Split split = Datasets.fromEnvironment(q.dataDir()).load(q.data());
            check(q.normalize().equals("standard") || q.normalize().equals("unit"),
                    "--normalize must be standard or unit, got '" + q.normalize() + "'");
            boolean unit = q.normalize().equals("unit");
            train = unit ? split.train().withNormalization(Normalization.UNIT) : split.train();
            test = unit ? split.test().withNormalization(Normalization.UNIT) : split.test();
        }
        Dataset validation = null;
        if (q.validation() > 0) {
            check(q.validation() < train.size(), "--val " + q.validation() + " leaves no training samples (the training set has "
                    + train.size() + ")");
            validation = train.slice(train.size() - q.validation(), train.size());
            train = train.slice(0, train.size() - q.validation());
        }
        return new TrainingData(train, validation, test);
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
