package dev.forkprop.bench;

import static org.junit.jupiter.api.Assertions.fail;

import dev.forkprop.data.Datasets;
import dev.forkprop.data.MissingDataException;
import java.nio.file.Path;

/**
 * The real MNIST for the benchmark tests that train on it, got as {@code train} gets it, through
 * {@link Datasets#forRepository} (as the trainer's tests do): the repository's {@code data/}, filled
 * from the mirror ({@code $FORKPROP_DATA_MIRROR}, else {@code shared/data} in a folder above) or else
 * over the network, checksummed. With neither the test fails with one line saying what to set.
 */
final class BenchTestData {
    private static Path dataDir;
    private static String missing;

    private BenchTestData() {}

    /** The folder holding {@code mnist/}: what {@code --data-dir} takes. */
    static synchronized Path dataDir() {
        if (missing != null) return fail(missing);
        if (dataDir == null) {
            try {
                dataDir = Datasets.forRepository(Path.of(""), System.err).ensure("mnist").getParent();
            } catch (MissingDataException e) {
                missing = "mnist for the tests: set " + Datasets.ENV_MIRROR + " to a folder holding mnist/ (CI: ../shared/data)"
                        + " or allow network access to fetch it; " + e.getMessage();
                return fail(missing);
            }
        }
        return dataDir;
    }
}
