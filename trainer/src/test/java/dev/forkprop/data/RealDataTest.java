package dev.forkprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real MNIST and Fashion-MNIST, read in place from the folder {@link TestDatasets} provides
 * (the repository's data/, filled from the mirror or the network) through {@link Datasets}, so
 * every file's content MD5 is checked against the table. Never skipped: CI always has the mirror.
 */
class RealDataTest {

    private static Datasets.Split mnist;
    private static Datasets.Split fashion;

    @BeforeAll
    static void load() {
        Datasets inPlace = new Datasets(List.of(TestDatasets.dataDir("mnist", "fashion-mnist")), null, Downloader.NONE, null);
        mnist = inPlace.load("mnist");
        fashion = inPlace.load("fashion-mnist");
    }

    @Test
    void mnistShapesAndFirstLabels() {
        for (ImageDataset d : new ImageDataset[] {mnist.train(), mnist.test()}) {
            assertEquals(28, d.rows());
            assertEquals(28, d.cols());
            assertEquals(784, d.featureDim());
            assertEquals(10, d.numClasses());
            assertEquals(Normalization.MNIST, d.normalization());
        }
        assertEquals(60000, mnist.train().size());
        assertEquals(10000, mnist.test().size());
        assertEquals(5, mnist.train().label(0));
        assertEquals(7, mnist.test().label(0));
        assertEquals("mnist/train", mnist.train().name());
    }

    @Test
    void mnistLabelHistogramsArePlausible() {
        // Published counts: train per class 5421 (digit 5) .. 6742 (digit 1); test 892 .. 1135.
        int[] train = mnist.train().labelHistogram(), test = mnist.test().labelHistogram();
        assertEquals(60000, Arrays.stream(train).sum());
        assertEquals(5421, train[5]);
        assertEquals(6742, train[1]);
        assertEquals(892, test[5]);
        assertEquals(1135, test[1]);
        for (int c = 0; c < 10; c++) {
            assertTrue(train[c] >= 5421 && train[c] <= 6742, "class " + c + ": " + train[c]);
            assertTrue(test[c] >= 892 && test[c] <= 1135, "class " + c + ": " + test[c]);
        }
    }

    @Test
    void fashionShapesAndBalancedClasses() {
        assertEquals(60000, fashion.train().size());
        assertEquals(10000, fashion.test().size());
        assertEquals(784, fashion.train().featureDim());
        assertEquals(9, fashion.train().label(0), "the first training image is an ankle boot");
        int[] expectTrain = new int[10], expectTest = new int[10];
        Arrays.fill(expectTrain, 6000);
        Arrays.fill(expectTest, 1000);
        assertArrayEquals(expectTrain, fashion.train().labelHistogram());
        assertArrayEquals(expectTest, fashion.test().labelHistogram());
    }

    /** The normalization table is right: it matches statistics measured on the training pixels. */
    @Test
    void normalizationConstantsMatchTheTrainingPixels() {
        Normalization m = Normalization.measure(mnist.train());
        assertEquals(Normalization.MNIST.mean(), m.mean(), 1e-4);
        assertEquals(Normalization.MNIST.std(), m.std(), 1e-4);
        Normalization f = Normalization.measure(fashion.train());
        assertEquals(Normalization.FASHION_MNIST.mean(), f.mean(), 1e-4);
        assertEquals(Normalization.FASHION_MNIST.std(), f.std(), 1e-4);
    }

    @Test
    void featuresAreNormalizedPixels() {
        ImageDataset d = mnist.train();
        float[] x = new float[784];
        d.features(0, x, 0);
        for (int i = 0; i < 784; i++) {
            float expect = (float) ((d.pixel(0, i) / 255.0 - 0.1307) / 0.3081);
            assertEquals(expect, x[i], 1e-6f);
        }
        assertEquals((float) (-0.1307 / 0.3081), x[0], 1e-6f, "the corner is background");
    }

    @Test
    void validationSliceIsTheLastSamples() {
        ImageDataset train = mnist.train();
        ImageDataset val = train.slice(50000, 60000);
        assertEquals(10000, val.size());
        assertEquals(train.label(50000), val.label(0));
        assertEquals(train.pixel(59999, 400), val.pixel(9999, 400));
    }

    /** The table in Datasets is the README's, and each file's content hashes to it. */
    @Test
    void checksumsOfTheSmallFilesRecomputed() {
        Path m = TestDatasets.dataDir("mnist", "fashion-mnist");
        for (Datasets.Spec spec : Datasets.KNOWN) {
            for (Datasets.FileSpec f : spec.files()) {
                if (f.stem().startsWith("train-images")) {
                    continue; // checked by load() above; recomputing 2 x 47 MB here buys nothing
                }
                Path gz = m.resolve(spec.name()).resolve(f.stem() + ".gz");
                Path p = Files.isRegularFile(gz) ? gz : m.resolve(spec.name()).resolve(f.stem());
                assertEquals(f.md5(), Datasets.contentMd5(p, p.toString()), p.toString());
            }
        }
    }
}
