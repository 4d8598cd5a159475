package dev.forkprop.bench;

import static org.junit.jupiter.api.Assertions.fail;

import dev.forkprop.data.Datasets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The real-data mirror for the benchmark tests that train on MNIST. */
final class BenchTestData {
    private BenchTestData() {}

    /**
     * The folder holding {@code mnist/}: {@code $FORKPROP_DATA_MIRROR} (CI sets it, possibly relative
     * to the repository root), else {@code shared/data} in a folder above the working directory.
     * Fails, never skips: CI always has the mirror.
     */
    static Path mirror() {
        String env = System.getenv(Datasets.ENV_MIRROR);
        // Surefire passes the literal "${env.FORKPROP_DATA_MIRROR}" when the variable is unset.
        boolean set = env != null && !env.isBlank() && !env.contains("${");
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = set ? d.resolve(env).normalize() : d.resolve("shared").resolve("data");
            if (Files.isDirectory(candidate.resolve("mnist"))) return candidate;
        }
        return fail("MNIST not found: set " + Datasets.ENV_MIRROR + " to the folder holding mnist/ (e.g. ../shared/data)");
    }
}
