package dev.forkprop.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Jazzer fuzz test of {@link CsvReader}: any file is either a table of finite numbers with valid
 * labels or a one-line {@link BadDataException} naming the file and line; anything else (another
 * exception, an OutOfMemoryError, a hang) is a finding. Regression inputs in
 * {@code src/test/resources/dev/forkprop/data/CsvReaderFuzzTestInputs/csvFile}.
 *
 * <p>Input layout: byte 0 is a mode, the rest is the file (bytes, so bad UTF-8 is reached too).
 * Mode bit 0: regression instead of classification; bits 1-3 pick the {@code --label} value from
 * {@link #LABELS} (null: the default, the last column). Bits 4-5 pick {@code --missing} (error,
 * drop, mean) and bit 6 reads column {@code a} as categorical; with either, the table goes through
 * {@link CsvReader#readTable} and a {@link TableEncoding} fitted on all its rows, and every encoded
 * value must be finite too.
 */
class CsvReaderFuzzTest {

    private static final Path FILE = FuzzFiles.scratch("csv");
    private static final String[] LABELS = {null, "0", "-1", "2", "-3", "y", "label", "99"};

    @FuzzTest(maxDuration = "10s")
    void csvFile(byte[] input) {
        if (input.length == 0) return;
        int mode = input[0];
        FuzzFiles.write(FILE, Arrays.copyOfRange(input, 1, input.length));
        CsvReader r = (mode & 1) != 0 ? CsvReader.regression() : CsvReader.classification();
        String label = LABELS[(mode >> 1) & 7];
        if (label != null) r = r.labelColumnSpec(label);
        CsvReader.Missing missing = CsvReader.Missing.values()[Math.min(2, (mode >> 4) & 3)];
        boolean categorical = (mode & 64) != 0;
        TableDataset d;
        try {
            if (missing == CsvReader.Missing.ERROR && !categorical) {
                d = r.read(FILE);
            } else {
                if (categorical) r = r.categorical(java.util.List.of("a"));
                CsvTable t = r.missing(missing).readTable(FILE);
                int classes = t.numClasses();
                d = TableEncoding.fit(t, 0, t.rows(), "standard", missing, classes).encode(t, 0, t.rows()).data();
            }
        } catch (IllegalArgumentException noInputs) { // TableEncoding: every column was an empty category
            assertTrue(noInputs.getMessage().equals(FILE + ": no feature columns left to train on"), noInputs.getMessage());
            return;
        } catch (BadDataException expected) {
            assertTrue(expected.getMessage().startsWith(FILE + ": line "), expected.getMessage());
            assertTrue(!expected.getMessage().contains("\n"), expected.getMessage());
            return;
        }
        assertTrue(d.size() > 0 && d.featureDim() > 0);
        float[] x = new float[d.featureDim()];
        float[] y = new float[d.targetDim()];
        for (int i = 0; i < d.size(); i++) {
            d.features(i, x, 0);
            d.target(i, y, 0);
            for (float v : x) assertTrue(Float.isFinite(v), "feature " + v);
            for (float v : y) assertTrue(Float.isFinite(v), "target " + v);
            if (d.isClassification()) assertTrue(d.label(i) >= 0 && d.label(i) < d.numClasses());
        }
        if (d.isClassification()) assertEquals(d.numClasses(), d.targetDim());
    }
}
