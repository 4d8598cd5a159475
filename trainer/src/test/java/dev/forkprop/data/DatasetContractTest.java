package dev.forkprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The {@link Dataset} contract, run against every implementation and against slices of each. */
class DatasetContractTest {

    static Stream<Dataset> datasets() {
        byte[] px = new byte[7 * 2 * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 37);
        }
        ImageDataset images = new ImageDataset("img", px, new byte[] {0, 1, 2, 3, 0, 1, 2}, 2, 3, 4,
                Normalization.MNIST);
        float[] x = new float[7 * 2];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * 0.5f - 3;
        }
        TableDataset classes = TableDataset.classification("cls", x, 2, new int[] {0, 1, 1, 0, 2, 2, 1}, 3);
        TableDataset regression = SyntheticRegression.generate(7, 3, 2, 0.1, 5).dataset();
        return Stream.of(images, classes, regression, images.slice(2, 6), classes.slice(1, 7),
                regression.slice(0, 3).slice(1, 3), images.withNormalization(Normalization.UNIT));
    }

    @ParameterizedTest
    @MethodSource("datasets")
    void shapesAreConsistent(Dataset d) {
        assertTrue(d.size() > 0 && d.featureDim() > 0 && d.targetDim() > 0);
        if (d.isClassification()) {
            assertEquals(d.numClasses(), d.targetDim());
        } else {
            assertEquals(0, d.numClasses());
            assertThrows(UnsupportedOperationException.class, () -> d.label(0));
        }
        assertTrue(d.describe().startsWith(d.name()));
    }

    @ParameterizedTest
    @MethodSource("datasets")
    void readsAreRepeatableAndRespectOffsets(Dataset d) {
        int f = d.featureDim(), t = d.targetDim();
        for (int i = 0; i < d.size(); i++) {
            float[] a = new float[f], b = new float[f + 5];
            d.features(i, a, 0);
            d.features(i, b, 3);
            for (int k = 0; k < f; k++) {
                assertEquals(a[k], b[3 + k]);
                assertTrue(Float.isFinite(a[k]));
            }
            assertEquals(0f, b[f + 3]);
            float[] y = new float[t + 1];
            d.target(i, y, 1);
            if (d.isClassification()) {
                int label = d.label(i);
                assertTrue(label >= 0 && label < d.numClasses());
                for (int c = 0; c < t; c++) {
                    assertEquals(c == label ? 1f : 0f, y[1 + c]);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("datasets")
    void slicesShareSamples(Dataset d) {
        int n = d.size();
        Dataset tail = d.slice(n - 2, n);
        assertEquals(2, tail.size());
        float[] a = new float[d.featureDim()], b = new float[d.featureDim()];
        float[] ya = new float[d.targetDim()], yb = new float[d.targetDim()];
        for (int i = 0; i < 2; i++) {
            d.features(n - 2 + i, a, 0);
            tail.features(i, b, 0);
            assertArrayEquals(a, b);
            d.target(n - 2 + i, ya, 0);
            tail.target(i, yb, 0);
            assertArrayEquals(ya, yb);
        }
        assertEquals(0, d.slice(1, 1).size());
        assertThrows(IndexOutOfBoundsException.class, () -> d.slice(-1, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> d.slice(1, n + 1));
        assertThrows(IndexOutOfBoundsException.class, () -> d.slice(2, 1));
    }

    @ParameterizedTest
    @MethodSource("datasets")
    void indicesOutsideTheViewThrow(Dataset d) {
        float[] buf = new float[Math.max(d.featureDim(), d.targetDim())];
        assertThrows(IndexOutOfBoundsException.class, () -> d.features(d.size(), buf, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> d.features(-1, buf, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> d.target(d.size(), buf, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> d.features(0, buf, buf.length - d.featureDim() + 1));
        if (d.isClassification()) {
            assertThrows(IndexOutOfBoundsException.class, () -> d.label(d.size()));
        }
    }

    @ParameterizedTest
    @MethodSource("datasets")
    void hotPathAllocatesNothing(Dataset d) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] x = new float[d.featureDim()], y = new float[d.targetDim()];
        int n = d.size();
        long sink = 0;
        for (int warm = 0; warm < 2; warm++) {
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int r = 0; r < 2000; r++) {
                int i = r % n;
                d.features(i, x, 0);
                d.target(i, y, 0);
                sink += d.isClassification() ? d.label(i) : 0;
            }
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            if (warm == 1) {
                assertTrue(allocated < 1024, "allocated " + allocated + " bytes in 2000 reads (" + sink + ")");
            }
        }
    }
}
