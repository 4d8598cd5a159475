package dev.forkprop.engine;

import java.nio.file.Path;

/** Lets tests in other packages find the MNIST mirror the engine tests use. */
public final class TestDataAccess {
    private TestDataAccess() {}

    /** The folder holding {@code mnist/}. */
    public static Path mnistParent() {
        return TestData.mnistDir().getParent();
    }
}
