package dev.forkprop.data;

import static dev.forkprop.data.TestData.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CsvReader: parsing, label column selection, and every bad-input message. */
class CsvReaderTest {

    @TempDir
    Path dir;

    private Path csv(String text) throws IOException {
        return Files.writeString(dir.resolve("t.csv"), text, StandardCharsets.UTF_8);
    }

    private static float[] row(Dataset d, int i) {
        float[] f = new float[d.featureDim()];
        d.features(i, f, 0);
        return f;
    }

    @Test
    void classificationWithLastColumnByDefault() throws IOException {
        Path f = csv("a,b,label\n1,2,0\n3.5,-4e-1,2\n\n5,6,1\n");
        TableDataset d = CsvReader.classification().read(f);
        assertEquals(f.toString(), d.name());
        assertEquals(3, d.size());
        assertEquals(2, d.featureDim());
        assertEquals(3, d.numClasses());
        assertEquals(3, d.targetDim());
        assertArrayEquals(new float[] {3.5f, -0.4f}, row(d, 1));
        assertEquals(2, d.label(1));
        float[] oneHot = new float[3];
        d.target(1, oneHot, 0);
        assertArrayEquals(new float[] {0, 0, 1}, oneHot);
    }

    @Test
    void labelColumnByNameIndexOrSpec() throws IOException {
        Path f = csv("\uFEFFy,x1,x2\r\n1,10,20\r\n0,30,40\r\n");
        for (CsvReader r : new CsvReader[] {CsvReader.classification().labelColumn("y"),
                CsvReader.classification().labelColumn(0), CsvReader.classification().labelColumn(-3),
                CsvReader.classification().labelColumnSpec("y"), CsvReader.classification().labelColumnSpec("0")}) {
            TableDataset d = r.read(f);
            assertEquals(2, d.numClasses());
            assertEquals(1, d.label(0));
            assertArrayEquals(new float[] {30, 40}, row(d, 1));
        }
    }

    @Test
    void regressionAndQuotes() {
        TableDataset d = CsvReader.regression().labelColumn("price").read("q.csv",
                new StringReader("\"size, m2\",price,rooms\n\"70\", 1.5e5 ,3\n 80 ,\"2.25e5\",4\n"));
        assertEquals(0, d.numClasses());
        assertEquals(1, d.targetDim());
        assertEquals(2, d.featureDim());
        float[] t = new float[1];
        d.target(1, t, 0);
        assertEquals(225000f, t[0]);
        assertArrayEquals(new float[] {80, 4}, row(d, 1));
    }

    @Test
    void nanCell() throws IOException {
        Path f = csv("a,b,label\n1,2,0\n1,NaN,1\n");
        assertOneLine(BadDataException.class, f + ": line 3: column 'b' (1): NaN, expected a finite number",
                () -> CsvReader.classification().read(f));
    }

    @Test
    void infiniteCells() throws IOException {
        Path f = csv("a,b,label\n-Infinity,2,0\n");
        assertOneLine(BadDataException.class,
                f + ": line 2: column 'a' (0): infinite value '-Infinity', expected a finite number",
                () -> CsvReader.classification().read(f));
        Path g = csv("a,y\n1e39,2\n");
        assertOneLine(BadDataException.class, g + ": line 2: column 'a' (0): '1e39' overflows float, expected a finite number",
                () -> CsvReader.regression().read(g));
    }

    @Test
    void nonNumericCell() throws IOException {
        Path f = csv("a,b,label\n1,2,0\n1,two,1\n");
        assertOneLine(BadDataException.class,
                f + ": line 3: column 'b' (1): non-numeric cell 'two', expected a finite number",
                () -> CsvReader.classification().read(f));
        Path g = csv("a,y\n1f,2\n"); // Java's parseFloat would take "1f"; a CSV must not.
        assertOneLine(BadDataException.class,
                g + ": line 2: column 'a' (0): non-numeric cell '1f', expected a finite number",
                () -> CsvReader.regression().read(g));
    }

    @Test
    void emptyCell() throws IOException {
        Path f = csv("a,b,label\n1,,0\n");
        assertOneLine(BadDataException.class, f + ": line 2: column 'b' (1): empty cell, expected a finite number",
                () -> CsvReader.classification().read(f));
    }

    @Test
    void nonIntegerLabel() throws IOException {
        Path f = csv("a,label\n1,0\n2,1.5\n");
        assertOneLine(BadDataException.class,
                f + ": line 3: column 'label' (1): '1.5', expected a class label: an integer in 0..65535",
                () -> CsvReader.classification().read(f));
    }

    @Test
    void raggedRow() throws IOException {
        Path f = csv("a,b,label\n1,2,0\n1,2\n");
        assertOneLine(BadDataException.class, f + ": line 3: 2 cells, expected 3 (as in the header on line 1)",
                () -> CsvReader.classification().read(f));
    }

    @Test
    void emptyFileAndHeaderOnly() throws IOException {
        Path f = csv("");
        assertOneLine(BadDataException.class, f + ": line 1: empty file, expected a header row",
                () -> CsvReader.classification().read(f));
        Path g = csv("a,label\n\n");
        assertOneLine(BadDataException.class, g + ": line 3: no data rows, expected at least one after the header",
                () -> CsvReader.classification().read(g));
    }

    @Test
    void missingLabelColumn() throws IOException {
        Path f = csv("a,b,label\n1,2,0\n");
        assertOneLine(BadDataException.class,
                f + ": line 1: no column named 'class' in header [a, b, label], expected a column name or an index 0..2",
                () -> CsvReader.classification().labelColumn("class").read(f));
        assertOneLine(BadDataException.class,
                f + ": line 1: no column 3 in header [a, b, label], expected a column name or an index 0..2"
                        + " (negative from the end)",
                () -> CsvReader.classification().labelColumnSpec("3").read(f));
    }

    @Test
    void onlyALabelColumn() throws IOException {
        Path f = csv("label\n1\n");
        assertOneLine(BadDataException.class,
                f + ": line 1: 1 column, expected a label column and at least one feature column",
                () -> CsvReader.classification().read(f));
    }

    @Test
    void unterminatedQuote() throws IOException {
        Path f = csv("a,label\n\"1,0\n");
        assertOneLine(BadDataException.class,
                f + ": line 2: unterminated quote in cell 0, expected a closing '\"' on the same line",
                () -> CsvReader.classification().read(f));
    }

    @Test
    void notUtf8() throws IOException {
        Path f = Files.write(dir.resolve("latin1.csv"), new byte[] {'a', ',', 'y', '\n', (byte) 0xE9, ',', '1', '\n'});
        assertOneLine(BadDataException.class,
                f + ": line 2: byte 0xE9 at offset 4 is not UTF-8, expected a UTF-8 CSV file",
                () -> CsvReader.regression().read(f));
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("nope.csv");
        assertOneLine(MissingDataException.class, f + ": no such file", () -> CsvReader.regression().read(f));
    }
}
