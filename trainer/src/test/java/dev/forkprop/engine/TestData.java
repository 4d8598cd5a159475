package dev.forkprop.engine;

import dev.forkprop.data.IdxReader;
import dev.forkprop.data.ImageDataset;
import dev.forkprop.data.Normalization;
import java.nio.file.Files;
import java.nio.file.Path;

/** Real MNIST for engine tests, from FORKPROP_DATA_MIRROR (CI sets it to ../shared/data). */
final class TestData {
    private static ImageDataset train, test;

    private TestData() {}

    static Path mnistDir() {
        String mirror = System.getenv("FORKPROP_DATA_MIRROR");
        Path dir = mirror == null || mirror.isBlank() ? Path.of("../../shared/data/mnist") : Path.of(mirror, "mnist");
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("MNIST not found at " + dir.toAbsolutePath()
                    + ": set FORKPROP_DATA_MIRROR to the folder holding mnist/ (e.g. ../shared/data)");
        }
        return dir;
    }

    static synchronized ImageDataset mnistTrain() {
        if (train == null) {
            Path d = mnistDir();
            train = IdxReader.read("mnist/train", d.resolve("train-images-idx3-ubyte.gz"),
                    d.resolve("train-labels-idx1-ubyte.gz"), 10, Normalization.MNIST);
        }
        return train;
    }

    static synchronized ImageDataset mnistTest() {
        if (test == null) {
            Path d = mnistDir();
            test = IdxReader.read("mnist/test", d.resolve("t10k-images-idx3-ubyte.gz"),
                    d.resolve("t10k-labels-idx1-ubyte.gz"), 10, Normalization.MNIST);
        }
        return test;
    }
}
