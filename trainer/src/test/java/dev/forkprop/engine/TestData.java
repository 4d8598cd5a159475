package dev.forkprop.engine;

import dev.forkprop.data.ImageDataset;
import dev.forkprop.data.TestDatasets;

/** Real MNIST for engine tests, through {@link TestDatasets} (the repository's data/, the mirror, or a fetch). */
final class TestData {

    private TestData() {}

    static ImageDataset mnistTrain() {
        return TestDatasets.load("mnist").train();
    }

    static ImageDataset mnistTest() {
        return TestDatasets.load("mnist").test();
    }
}
