package dev.forkprop.run;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The run's HdrHistogram interval log (.hlog) on disk: where the reporter thread writes step and phase latency. */
final class HlogFile {
    private HlogFile() {}

    /**
     * Opens {@code hlog} for writing. A fresh run replaces the file; a run resumed at
     * {@code resumedAt > 0} appends a new segment (its own start time, base time and legend, which
     * HdrHistogram's log readers take in their stride) after a comment, so the intervals of the
     * earlier process are kept, those of steps after its last checkpoint too (they ran; the
     * resumed run runs them again). A last line that process left torn (killed mid-write) is cut
     * first, since a reader would stop at it.
     */
    static OutputStream open(Path hlog, long resumedAt) {
        try {
            Path parent = hlog.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            if (resumedAt > 0 && Files.isRegularFile(hlog) && Files.size(hlog) > 0) {
                final byte[] old = Files.readAllBytes(hlog); // small: a few lines per interval
                int end = old.length;
                while (end > 0 && old[end - 1] != '\n') end--;
                if (end < old.length) {
                    try (FileChannel ch = FileChannel.open(hlog, StandardOpenOption.WRITE)) {
                        ch.truncate(end);
                    }
                }
                OutputStream out = new BufferedOutputStream(Files.newOutputStream(hlog, StandardOpenOption.APPEND));
                out.write(("# resumed at step " + resumedAt + ": a new segment; the intervals above are the earlier process's\n")
                        .getBytes(StandardCharsets.US_ASCII));
                return out;
            }
            return new BufferedOutputStream(Files.newOutputStream(hlog));
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write the latency log " + hlog + ": " + ex.getMessage(), ex);
        }
    }
}
