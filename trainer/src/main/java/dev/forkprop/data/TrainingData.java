package dev.forkprop.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The three splits a training run uses, and how they are chosen: a named image dataset (its own
 * train and test files), the built-in synthetic regression set, or a CSV file (its last 10% of
 * rows as the test set unless a test file is given); then, with a validation size, the last that
 * many training samples held out for validation.
 *
 * <p>CSV columns go through a {@link TableEncoding} fitted on the training rows only (not the
 * validation or test rows), or the one a resumed run's checkpoint holds.
 *
 * @param validation the held-out samples, or null without a validation split
 * @param encoding   how CSV columns became inputs, or null for other data
 * @param notes      what reading the data left out or made up (dropped rows, filled cells,
 *                   categories not seen in training), one line each, for the run log
 */
public record TrainingData(Dataset train, Dataset validation, Dataset test, TableEncoding encoding, List<String> notes) {

    /**
     * What to load: {@code data} is an image dataset's name ({@link Datasets#NAMES}), {@code
     * synthetic}, or a path ending in {@code .csv}. For CSV: {@code label} (a column name or index,
     * null for the last column), {@code task} (classification or regression) and {@code testFile}
     * (null: hold out the last 10% of rows). For images: {@code normalize} (standard or unit) and
     * {@code dataDir} (null: the environment's, see {@link Datasets#fromEnvironment}). {@code seed}
     * draws the synthetic set; {@code validation} samples are held out (0: none). CSV only:
     * {@code categorical} columns are one-hot encoded, {@code missing} is error, drop or mean, and
     * a non-null {@code encoding} (a resumed run's) is applied instead of fitting one.
     */
    public record Request(String data, String label, String task, Path testFile, String normalize, Path dataDir,
                          long seed, int validation, List<String> categorical, String missing, TableEncoding encoding) {

        /** Whether the data is a CSV file. */
        public boolean isCsv() {
            return data.toLowerCase(Locale.ROOT).endsWith(".csv");
        }
    }

    /** Loads the splits; a one-line IllegalArgumentException (or a {@link DataException}) names what is wrong. */
    public static TrainingData load(Request q) {
        if (q.isCsv()) return loadCsv(q);
        check(q.categorical().isEmpty(), "--categorical applies to CSV data only");
        check(q.missing().equals("error"), "--missing applies to CSV data only");
        Dataset train, test;
        if (q.data().equals("synthetic")) {
            SyntheticRegression all = SyntheticRegression.generate(70_000, 20, 1, 0.1, q.seed());
            train = all.dataset().slice(0, 60_000);
            test = all.dataset().slice(60_000, 70_000);
        } else {
            Datasets.Split split = Datasets.fromEnvironment(q.dataDir()).load(q.data());
            check(q.normalize().equals("standard") || q.normalize().equals("unit"),
                    "--normalize for image data must be standard or unit, got '" + q.normalize() + "'");
            boolean unit = q.normalize().equals("unit");
            train = unit ? split.train().withNormalization(Normalization.UNIT) : split.train();
            test = unit ? split.test().withNormalization(Normalization.UNIT) : split.test();
        }
        Dataset validation = null;
        if (q.validation() > 0) {
            checkValidation(q.validation(), train.size());
            validation = train.slice(train.size() - q.validation(), train.size());
            train = train.slice(0, train.size() - q.validation());
        }
        return new TrainingData(train, validation, test, null, List.of());
    }

    /**
     * A CSV file: rows {@code [0, cut)} train (the last {@code validation} of them validate) and
     * {@code [cut, n)} test, or all rows train and the test file tests; the encoding is fitted on
     * the training rows.
     */
    private static TrainingData loadCsv(Request q) {
        check(q.task().equals("classification") || q.task().equals("regression"),
                "--task must be classification or regression, got '" + q.task() + "'");
        check(TableEncoding.SCALINGS.contains(q.normalize()),
                "--normalize for CSV data must be standard, minmax or none, got '" + q.normalize() + "'");
        boolean classification = q.task().equals("classification");
        CsvReader reader = (classification ? CsvReader.classification() : CsvReader.regression())
                .categorical(q.categorical()).missing(CsvReader.Missing.parse(q.missing()));
        if (q.label() != null) reader = reader.labelColumnSpec(q.label());
        if (q.encoding() != null) reader = reader.expectColumns(q.encoding().columnNames());
        CsvTable all = reader.readTable(Path.of(q.data()));
        CsvTable testTable = null;
        int cut = all.rows();
        if (q.testFile() != null) {
            testTable = reader.labelColumn(all.label()).expectColumns(all.columns()).readTable(q.testFile());
        } else {
            cut = all.rows() - Math.max(1, all.rows() / 10);
            check(cut > 0, q.data() + ": too few rows (" + all.rows() + ") to hold out a test set");
        }
        int trainEnd = cut - q.validation();
        if (q.validation() > 0) checkValidation(q.validation(), cut);
        int classes = classification ? Math.max(all.numClasses(), testTable == null ? 0 : testTable.numClasses()) : 0;
        TableEncoding enc = q.encoding() != null ? q.encoding()
                : TableEncoding.fit(all, 0, trainEnd, q.normalize(), CsvReader.Missing.parse(q.missing()), classes);
        check(enc.isClassification() == classification, "--task " + q.task() + ", but the checkpoint's model was trained for "
                + (enc.isClassification() ? "classification" : "regression"));
        List<String> notes = new java.util.ArrayList<>();
        if (all.dropped() > 0) notes.add(q.data() + ": dropped " + all.dropped() + " rows with missing cells");
        if (testTable != null && testTable.dropped() > 0) notes.add(q.testFile() + ": dropped " + testTable.dropped() + " rows with missing cells");
        TableEncoding.Encoded train = enc.encode(all, 0, trainEnd);
        TableEncoding.Encoded val = q.validation() > 0 ? enc.encode(all, trainEnd, cut) : null;
        TableEncoding.Encoded test = testTable != null ? enc.encode(testTable, 0, testTable.rows()) : enc.encode(all, cut, all.rows());
        long filled = train.filledCells() + (val == null ? 0 : val.filledCells()) + test.filledCells();
        long unseen = (val == null ? 0 : val.unseenCategories()) + test.unseenCategories();
        if (filled > 0) notes.add("filled " + filled + " missing cells (training means; missing categories as all zeros)");
        if (unseen > 0) notes.add(unseen + " categorical cells in the validation or test rows have categories not seen in training (encoded as all zeros)");
        return new TrainingData(train.data(), val == null ? null : val.data(), test.data(), enc, List.copyOf(notes));
    }

    private static void checkValidation(int validation, int trainSize) {
        check(validation < trainSize, "--val " + validation + " leaves no training samples (the training set has "
                + trainSize + ")");
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
