package dev.forkprop.cli;

import dev.forkprop.data.CsvReader;
import dev.forkprop.data.TableEncoding;
import dev.forkprop.data.TrainingData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The dataset flags of {@code train} (a picocli mixin): which data, how CSV is read, the validation split. */
public final class DataOptions {
    @Option(names = "--data", description = "dataset: mnist, fashion-mnist, synthetic (regression), or a CSV file (header row, numeric cells) (default: ${DEFAULT-VALUE})")
    public String data = "mnist";
    @Option(names = "--label", description = "CSV: the label/target column, by name or index (default: the last column)")
    public String label;
    @Option(names = "--task", description = "CSV: classification (integer labels) or regression (real target) (default: ${DEFAULT-VALUE})")
    public String task = "classification";
    @Option(names = "--test-data", description = "CSV: a separate test file (default: the last 10%% of the rows of --data)")
    public Path testData;
    @Option(names = "--normalize", description = "CSV columns: standard ((x - mean)/std of the training rows; regression targets too), minmax or none; image pixels: standard ((x/255 - mean)/std of the dataset) or unit (x/255) (default: ${DEFAULT-VALUE})")
    public String normalize = "standard";
    @Option(names = "--categorical", split = ",", paramLabel = "COL", description = "CSV: columns of categories (any text), one-hot encoded over the categories of the training rows")
    public List<String> categorical = new ArrayList<>();
    @Option(names = "--missing", description = "CSV: a missing cell (empty, NA, N/A, NaN, null, ?) is an error, drops its row, or takes the column's training mean (a missing category: all zeros): error, drop or mean (default: ${DEFAULT-VALUE})")
    public String missing = "error";
    @Option(names = "--data-dir", description = "where datasets live (default: $FORKPROP_DATA, then ./data)")
    public Path dataDir;
    @Option(names = "--val", description = "hold out the last N training samples for validation (default: ${DEFAULT-VALUE})")
    public int val = 0;

    public void validate() {
        if (val < 0) throw new IllegalArgumentException("--val must be >= 0, got " + val);
        CsvReader.Missing.parse(missing);
    }

    /** These flags as train arguments, for a run of {@code train} in this JVM. */
    public List<String> args() {
        List<String> a = new ArrayList<>(List.of("--data", data, "--task", task, "--normalize", normalize, "--val", Integer.toString(val)));
        if (label != null) a.addAll(List.of("--label", label));
        if (testData != null) a.addAll(List.of("--test-data", testData.toString()));
        if (dataDir != null) a.addAll(List.of("--data-dir", dataDir.toString()));
        if (!categorical.isEmpty()) a.addAll(List.of("--categorical", String.join(",", categorical)));
        if (!missing.equals("error")) a.addAll(List.of("--missing", missing));
        return a;
    }

    /**
     * What to load; {@code seed} draws the synthetic dataset; {@code encoding} is a resumed CSV
     * run's (null: fit one on the training rows).
     */
    public TrainingData.Request request(long seed, TableEncoding encoding) {
        return new TrainingData.Request(data, label, task, testData, normalize, dataDir, seed, val, List.copyOf(categorical), missing,
                encoding);
    }
}
