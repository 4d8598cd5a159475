package dev.forkprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** CsvReader's categorical columns, missing cells and expected columns, and TableEncoding's fit, encode and JSON. */
class TableEncodingTest {

    private static void assertOneLine(Class<? extends RuntimeException> type, String message, Executable code) {
        assertEquals(message, assertThrowsExactly(type, code).getMessage());
    }

    private static CsvTable table(CsvReader r, String text) {
        return r.readTable("t.csv", new StringReader(text));
    }

    private static float[] row(Dataset d, int i) {
        float[] f = new float[d.featureDim()];
        d.features(i, f, 0);
        return f;
    }

    @Test
    void standardScalingUsesTheTrainingRowsOnly() {
        // Rows 0-3 train; row 4 (a huge income) must not move the statistics.
        CsvTable t = table(CsvReader.classification(), "income,ratio,y\n10,0.1,0\n20,0.2,1\n30,0.3,0\n40,0.4,1\n1e9,0.5,1\n");
        TableEncoding e = TableEncoding.fit(t, 0, 4, "standard", CsvReader.Missing.ERROR, 2);
        TableDataset d = e.encode(t, 0, 5).data();
        double mean = 25, std = Math.sqrt((225 + 25 + 25 + 225) / 4.0);
        assertEquals((float) ((10 - mean) / std), row(d, 0)[0]);
        assertEquals((float) ((40 - mean) / std), row(d, 3)[0]);
        assertEquals((float) ((1e9f - mean) / std), row(d, 4)[0]);
        assertEquals((float) ((0.1f - 0.25) / Math.sqrt(0.0125)), row(d, 0)[1], 1e-6);
        float sum = 0;
        for (int i = 0; i < 4; i++) sum += row(d, i)[0];
        assertEquals(0f, sum, 1e-5f);
        assertEquals(2, d.numClasses());
    }

    @Test
    void minmaxNoneAndConstantColumns() {
        CsvTable t = table(CsvReader.classification(), "a,c,y\n2,5,0\n4,5,1\n6,5,0\n");
        TableDataset mm = TableEncoding.fit(t, 0, 3, "minmax", CsvReader.Missing.ERROR, 2).encode(t, 0, 3).data();
        assertArrayEquals(new float[] {0f, 0f}, row(mm, 0));   // a constant column gets scale 1: 5 - 5 = 0
        assertArrayEquals(new float[] {0.5f, 0f}, row(mm, 1));
        assertArrayEquals(new float[] {1f, 0f}, row(mm, 2));
        TableDataset none = TableEncoding.fit(t, 0, 3, "none", CsvReader.Missing.ERROR, 2).encode(t, 0, 3).data();
        assertArrayEquals(new float[] {4f, 5f}, row(none, 1));
        assertOneLine(IllegalArgumentException.class, "--normalize for CSV data must be standard, minmax or none, got 'unit'",
                () -> TableEncoding.fit(t, 0, 3, "unit", CsvReader.Missing.ERROR, 2));
    }

    @Test
    void categoriesAreOneHotOverTheTrainingCategoriesAndUnseenOnesAreZeros() {
        CsvReader r = CsvReader.classification().categorical(List.of("color"));
        CsvTable t = table(r, "color,x,y\nred,1,0\nblue,2,1\nred,3,0\ngreen,4,1\n");
        TableEncoding e = TableEncoding.fit(t, 0, 3, "none", CsvReader.Missing.ERROR, 2); // green is not in training
        assertEquals(3, e.width()); // blue, red, then x
        assertEquals(List.of("color"), e.categoricalColumns());
        TableEncoding.Encoded enc = e.encode(t, 0, 4);
        assertArrayEquals(new float[] {0, 1, 1}, row(enc.data(), 0));
        assertArrayEquals(new float[] {1, 0, 2}, row(enc.data(), 1));
        assertArrayEquals(new float[] {0, 0, 4}, row(enc.data(), 3));
        assertEquals(1, enc.unseenCategories());
        assertEquals(0, enc.filledCells());
    }

    @Test
    void missingCellsAreAnErrorDroppedOrFilledWithTheTrainingMean() {
        String text = "x,c,y\n1,a,0\n,b,1\n3,NA,0\n5,a,?\n";
        assertOneLine(BadDataException.class, "t.csv: line 3: column 'x' (0): empty cell, expected a finite number",
                () -> table(CsvReader.classification().categorical(List.of("c")), text));
        CsvTable dropped = table(CsvReader.classification().categorical(List.of("c")).missing(CsvReader.Missing.DROP), text);
        assertEquals(1, dropped.rows());
        assertEquals(3, dropped.dropped());
        assertOneLine(BadDataException.class, "t.csv: line 5: column 'y' (2): missing label, expected a value (--missing drop skips such rows)",
                () -> table(CsvReader.classification().categorical(List.of("c")).missing(CsvReader.Missing.MEAN), text));
        CsvTable kept = table(CsvReader.classification().categorical(List.of("c")).missing(CsvReader.Missing.MEAN),
                "x,c,y\n1,a,0\n,b,1\n3,NA,0\n");
        assertTrue(Float.isNaN(kept.numeric()[1 * 2]));
        assertNull(kept.categories()[1][2]);
        TableEncoding e = TableEncoding.fit(kept, 0, 3, "none", CsvReader.Missing.MEAN, 2);
        TableEncoding.Encoded enc = e.encode(kept, 0, 3);
        assertArrayEquals(new float[] {2f, 0f, 1f}, row(enc.data(), 1)); // x: the mean of 1 and 3; c: b
        assertArrayEquals(new float[] {3f, 0f, 0f}, row(enc.data(), 2)); // c missing: all zeros
        assertEquals(2, enc.filledCells());
    }

    @Test
    void expectedColumnsMayComeInAnyOrderAndTheLabelMayBeAbsent() {
        CsvReader r = CsvReader.classification().labelColumn("y").expectColumns(List.of("a", "b"));
        CsvTable t = table(r, "b,y,a\n2,1,1\n");
        assertEquals(List.of("a", "b"), t.columns());
        assertArrayEquals(new float[] {1f, 2f}, t.numeric());
        assertOneLine(BadDataException.class, "t.csv: line 1: no column named 'y' in header [b, a], expected a column name or an index 0..1",
                () -> table(r, "b,a\n2,1\n"));
        CsvTable unlabelled = table(r.labelOptional(), "b,a\n2,1\n");
        assertNull(unlabelled.labels());
        assertArrayEquals(new float[] {1f, 2f}, unlabelled.numeric());
        assertOneLine(BadDataException.class, "t.csv: line 1: no column 'b', expected the model's 2 feature columns [a, b]",
                () -> table(r, "a,y\n1,0\n"));
        assertOneLine(BadDataException.class, "t.csv: line 1: unknown column 'z', expected only the model's 2 feature columns [a, b] and the label 'y'",
                () -> table(r, "a,b,z,y\n1,2,3,0\n"));
        assertOneLine(BadDataException.class, "t.csv: line 2: column 'b' (1): non-numeric cell 'red', expected a finite number",
                () -> table(r, "a,b,y\n1,red,0\n"));
        assertOneLine(BadDataException.class, "t.csv: line 1: no feature column named 'q' for --categorical in header [a, b, y]",
                () -> table(CsvReader.classification().categorical(List.of("q")), "a,b,y\n1,2,0\n"));
    }

    @Test
    void regressionTargetsAreStandardisedAndReportedInTheirUnits() {
        CsvTable t = table(CsvReader.regression(), "x,t\n1,100\n2,300\n3,200\n");
        TableEncoding e = TableEncoding.fit(t, 0, 3, "standard", CsvReader.Missing.ERROR, 0);
        TableDataset d = e.encode(t, 0, 3).data();
        double std = Math.sqrt(20000 / 3.0);
        float[] y = new float[1];
        d.target(1, y, 0);
        assertEquals((float) (100 / std), y[0], 1e-6);
        assertEquals(300, e.target(y[0]), 1e-3);
        assertEquals(20000 / 3.0, e.lossUnits(), 1e-6);
        assertFalse(e.isClassification());
    }

    @Test
    void jsonRoundTripEncodesTheSameBits() {
        CsvReader r = CsvReader.regression().categorical(List.of("c")).missing(CsvReader.Missing.MEAN);
        CsvTable t = table(r, "x,c,z,t\n1.5,u,1e-3,7\n,v,2e-3,8\n-4,u,,9.5\n");
        TableEncoding e = TableEncoding.fit(t, 0, 3, "standard", CsvReader.Missing.MEAN, 0);
        TableEncoding back = TableEncoding.fromJson(e.toJson());
        assertEquals(e.toJson(), back.toJson());
        TableDataset a = e.encode(t, 0, 3).data(), b = back.encode(t, 0, 3).data();
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(row(a, i), row(b, i));
            float[] ya = new float[1], yb = new float[1];
            a.target(i, ya, 0);
            b.target(i, yb, 0);
            assertEquals(ya[0], yb[0]);
        }
        assertEquals(CsvReader.Missing.MEAN, back.missing());
        assertOneLine(IllegalArgumentException.class, "feature encoding is not a JSON object", () -> TableEncoding.fromJson("[]"));
        assertOneLine(IllegalArgumentException.class, "feature encoding version 7, expected 1",
                () -> TableEncoding.fromJson(e.toJson().replace("\"version\":1", "\"version\":7")));
    }
}
