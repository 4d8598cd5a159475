package dev.forkprop.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One scratch file per fuzz test, rewritten for every input: the parsers under test read files.
 * In /dev/shm when it exists (no disk I/O per execution), else the temp directory; deleted on exit.
 * Public for the fuzz tests of other packages.
 */
public final class FuzzFiles {
    private FuzzFiles() {}

    /** A fresh empty file named {@code fuzz-<name>-*}. */
    public static Path scratch(String name) {
        try {
            Path shm = Path.of("/dev/shm");
            Path f = Files.isDirectory(shm) && Files.isWritable(shm)
                    ? Files.createTempFile(shm, "fuzz-" + name + "-", "") : Files.createTempFile("fuzz-" + name + "-", "");
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces the content of {@code file} with {@code bytes}. */
    public static void write(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
