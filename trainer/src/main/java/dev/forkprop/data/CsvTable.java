package dev.forkprop.data;

import java.util.List;

/**
 * A CSV file as {@link CsvReader#readTable} parsed it, before any encoding: the feature columns
 * in order, numeric cells as floats ({@code NaN} marks a missing cell the reader was told to keep),
 * categorical cells as strings ({@code null} when missing), and the label column if the file has
 * one. {@link TableEncoding} turns it into a {@link TableDataset}.
 *
 * @param source      the file, for messages and dataset names
 * @param columns     feature column names, in the order of {@code numeric}'s rows
 * @param categorical per feature column: whether it is categorical (its cells are in {@code categories})
 * @param numeric     {@code [rows, columns]} row-major; 0 in categorical columns, NaN where missing
 * @param categories  per feature column, the cell of each row for a categorical column, else null
 * @param labels      the label (class index or regression target) of each row, or null without a label column
 * @param label       the label column's name, or null without one
 * @param numClasses  classification: largest label + 1 (0 without labels); regression: 0
 * @param dropped     rows left out for a missing cell ({@code --missing drop})
 */
public record CsvTable(String source, List<String> columns, boolean[] categorical, float[] numeric,
                       String[][] categories, float[] labels, String label, int rows, int numClasses,
                       int dropped) {

    /** Feature columns. */
    public int width() {
        return columns.size();
    }

    /** Whether any feature column is categorical. */
    public boolean hasCategorical() {
        for (boolean c : categorical) if (c) return true;
        return false;
    }
}
