package dev.forkprop.engine;

import dev.forkprop.data.TestDatasets;
import java.nio.file.Path;

/** Lets tests in other packages find the MNIST the engine tests use. */
public final class TestDataAccess {
    private TestDataAccess() {}

    /** The folder holding {@code mnist/}: what {@code --data-dir} takes. */
    public static Path mnistParent() {
        return TestDatasets.dataDir("mnist");
    }
}
