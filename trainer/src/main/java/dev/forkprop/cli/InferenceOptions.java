package dev.forkprop.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The flags {@code eval} and {@code predict} share (a picocli mixin): the checkpoint, where datasets live, the threads. */
final class InferenceOptions {
    @Option(names = "--checkpoint", required = true, description = "a checkpoint written by train")
    Path checkpoint;
    @Option(names = "--data-dir", description = "where datasets live (default: $FORKPROP_DATA, then ./data)")
    Path dataDir;
    @Option(names = "--threads", description = "worker threads (default: available processors)")
    int threads = Runtime.getRuntime().availableProcessors();

    /** Checks the threads, then reads the checkpoint (a bad file is one line, see {@link LoadedCheckpoint}). */
    LoadedCheckpoint read() {
        if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        return LoadedCheckpoint.read(checkpoint);
    }
}
