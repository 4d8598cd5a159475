package dev.forkprop.cli;

import dev.forkprop.data.CsvReader;
import dev.forkprop.data.CsvTable;
import dev.forkprop.data.TableEncoding;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A CSV file read for a trained model ({@code eval}, {@code predict}): with the columns, categories,
 * missing-cell policy and scaling the checkpoint recorded. A version-1 checkpoint recorded none of
 * them: its model was trained on the raw columns, so the file's columns are used as they are (the
 * label column by {@code --label}, else the last, for files that have one).
 *
 * @param table    the file as read
 * @param encoding how its columns become the model's inputs
 */
record CsvInput(CsvTable table, TableEncoding encoding) {

    static boolean isCsv(String data) {
        return data.toLowerCase(Locale.ROOT).endsWith(".csv");
    }

    /**
     * Reads {@code file} for the checkpoint's model.
     *
     * @param labelSpec     {@code --label}, or null (the checkpoint's label column)
     * @param labelRequired eval: the label column must be there; predict: it may be absent
     */
    static CsvInput read(LoadedCheckpoint l, Path file, String labelSpec, boolean labelRequired) {
        String json = l.checkpoint().metadata().get("features");
        if (json == null) {
            if (!l.checkpoint().version().equals("1")) {
                throw l.checkpoint().bad("has no 'features' entry: its model was not trained on CSV data");
            }
            return legacy(l, file, labelSpec, labelRequired);
        }
        TableEncoding enc;
        try {
            enc = TableEncoding.fromJson(json);
        } catch (IllegalArgumentException e) {
            throw l.checkpoint().bad("has a bad 'features' entry: " + e.getMessage());
        }
        CsvReader reader = (enc.isClassification() ? CsvReader.classification() : CsvReader.regression())
                .labelColumn(labelSpec != null ? labelSpec : enc.label())
                .expectColumns(enc.columnNames())
                .categorical(enc.categoricalColumns())
                // Rows are kept in predict: one output row per input row, a missing cell filled or an error.
                .missing(labelRequired || enc.missing() != CsvReader.Missing.DROP ? enc.missing() : CsvReader.Missing.ERROR);
        if (!labelRequired) reader = reader.labelOptional();
        return new CsvInput(reader.readTable(file), enc);
    }

    /** A version-1 checkpoint: raw numeric columns; a file with one column more than the model takes has a label column. */
    private static CsvInput legacy(LoadedCheckpoint l, Path file, String labelSpec, boolean labelRequired) {
        boolean classification = !l.loss().name().equals("mse");
        CsvReader reader = classification ? CsvReader.classification() : CsvReader.regression();
        if (labelSpec != null) reader = reader.labelColumnSpec(labelSpec);
        CsvTable t = reader.readTable(file);
        if (!labelRequired && t.width() + 1 == l.net().in()) {
            // No label column: the "label" read was a feature; read again with every column a feature.
            throw new IllegalArgumentException(file + ": " + (t.width() + 1) + " columns; predicting with a format-version-1 checkpoint needs the "
                    + l.net().in() + " feature columns and the label column, as in training");
        }
        return new CsvInput(t, TableEncoding.raw(t.columns(), t.label(), classification ? l.targetWidth() : 0));
    }
}
