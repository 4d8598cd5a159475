package dev.forkprop.data;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The real datasets for every test in this module, got as {@code train} gets them, through
 * {@link Datasets#forRepository}: the repository's {@code data/} if they are there, else copied
 * from the mirror ({@code $FORKPROP_DATA_MIRROR}, else {@code shared/data} in a folder above), else
 * fetched over the network, checksummed, into {@code data/}. With neither a mirror nor the network
 * the test fails with one line saying what to set. Never skips: CI always has the mirror.
 */
public final class TestDatasets {

    private static Datasets datasets;
    private static final Map<String, Datasets.Split> LOADED = new HashMap<>();
    /** A dataset that could not be had: each later test fails at once with the same line instead of retrying the fetch. */
    private static final Map<String, String> MISSING = new HashMap<>();

    private TestDatasets() {
    }

    /**
     * The folder holding {@code <name>/} for each of {@code names} (the repository's {@code data/}),
     * fetching what is missing: what {@code --data-dir} takes.
     */
    public static synchronized Path dataDir(String... names) {
        Path dir = null;
        for (String name : names) {
            dir = ensure(name).getParent();
        }
        if (dir == null) {
            throw new IllegalArgumentException("no dataset name");
        }
        return dir;
    }

    /** The dataset's train and test splits, loaded once per test JVM (each file's content MD5 checked). */
    public static synchronized Datasets.Split load(String name) {
        Datasets.Split s = LOADED.get(name);
        if (s == null) {
            ensure(name);
            s = datasets().load(name);
            LOADED.put(name, s);
        }
        return s;
    }

    private static Path ensure(String name) {
        String missing = MISSING.get(name);
        if (missing != null) {
            return fail(missing);
        }
        try {
            return datasets().ensure(name);
        } catch (MissingDataException e) {
            String line = name + " for the tests: set " + Datasets.ENV_MIRROR + " to a folder holding " + name
                    + "/ (CI: ../shared/data) or allow network access to fetch it; " + e.getMessage();
            MISSING.put(name, line);
            return fail(line);
        }
    }

    private static Datasets datasets() {
        if (datasets == null) {
            datasets = Datasets.forRepository(Path.of(""), System.err);
        }
        return datasets;
    }
}
