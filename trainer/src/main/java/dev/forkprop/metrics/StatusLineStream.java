package dev.forkprop.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * A terminal stream with one status line (the progress bar) kept at the bottom: everything printed
 * through this stream appears on lines of its own above the status line, never appended to it.
 *
 * <p>The status line is drawn with {@code '\r'} and no newline, so the cursor stays on it. Before
 * other output starts a line, the status line is erased ({@code "\r\033[K"}); when that output
 * ends its line ({@code '\n'}), the status line is drawn again below it. While a line of other
 * output is unfinished (printed in pieces, as {@code printf} does), status updates are only
 * remembered and drawn once the line ends. With no status line shown it passes everything
 * through unchanged, so it can be used for every message whether or not a bar is shown.
 *
 * <p>Use one instance for a run's messages and its {@link TerminalProgress}: a message printed to
 * the underlying stream directly, not through this one, still lands on the bar's line.
 *
 * <p>Thread-safe: the bar redraws from its own thread, messages come from the trainer, the
 * reporter and signal handlers; every write and status change holds this stream's lock.
 */
public final class StatusLineStream extends PrintStream {
    private static final String ERASE = "\r\033[K";

    private final Lines lines;

    /** A stream writing to {@code terminal} (typically {@code System.err}), in its charset. */
    public StatusLineStream(PrintStream terminal) {
        this(new Lines(terminal), terminal);
    }

    private StatusLineStream(Lines lines, PrintStream terminal) {
        super(lines, true, terminal.charset());
        this.lines = lines;
        lines.lock = this;
    }

    /**
     * Shows {@code text} (one line, no newline) as the status line, replacing the previous one;
     * drawn now unless a line of other output is unfinished, else when that line ends.
     */
    public void status(String text) {
        synchronized (this) {
            flush();
            lines.status(text);
        }
    }

    /** Leaves the current status line as a permanent line and shows none from now on. */
    public void finishStatus() {
        synchronized (this) {
            flush();
            lines.finish();
        }
    }

    /** Erases the status line and shows none from now on. */
    public void clearStatus() {
        synchronized (this) {
            flush();
            lines.clear();
        }
    }

    /** The byte-level line tracking; every method runs under the stream's lock. */
    private static final class Lines extends OutputStream {
        private final PrintStream terminal;
        private Object lock = this;
        private String status;      // the status line, or null for none
        private boolean midLine;    // other output has begun a line and not ended it

        Lines(PrintStream terminal) {
            this.terminal = terminal;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (len == 0) return;
            synchronized (lock) {
                if (status != null && !midLine) terminal.print(ERASE);
                terminal.write(b, off, len);
                midLine = b[off + len - 1] != '\n';
                if (status != null && !midLine) terminal.print(status);
                terminal.flush();
            }
        }

        @Override
        public void flush() {
            terminal.flush();
        }

        void status(String text) {
            if (text.indexOf('\n') >= 0) throw new IllegalArgumentException("a status line has no newline");
            status = text;
            if (!midLine) {
                terminal.print("\r" + text + "\033[K");
                terminal.flush();
            }
        }

        void finish() {
            if (status == null) return;
            // A pending message line is ended first; the status line then stays as the last line.
            terminal.print(midLine ? "\n" + status + "\n" : "\n");
            midLine = false;
            status = null;
            terminal.flush();
        }

        void clear() {
            if (status == null) return;
            if (!midLine) terminal.print(ERASE);
            status = null;
            terminal.flush();
        }

        @Override
        public void close() {
            terminal.flush(); // the terminal (System.err) outlives this stream
        }
    }
}
