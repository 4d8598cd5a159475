package dev.forkprop.data;

/**
 * A data file is malformed: wrong magic, impossible dimensions, truncated or trailing content,
 * corrupt compression, a label out of range, a non-numeric or non-finite CSV cell, a ragged row, a
 * checksum that does not match. The one-line message has the shape
 * {@code <file>: offset <n>: <what was found>, expected <what>} for binary files and
 * {@code <file>: line <n>: ...} for text files, e.g.
 * {@code train-images-idx3-ubyte.gz: offset 0: bad magic 0x00000802, expected 0x00000803 (IDX images)}.
 * For gzip files the offset counts bytes of the uncompressed content.
 */
public final class BadDataException extends DataException {

    private static final long serialVersionUID = 1L;

    public BadDataException(String message) {
        super(message);
    }

    public BadDataException(String message, Throwable cause) {
        super(message, cause);
    }

    /** {@code "<file>: offset <offset>: <what>"}. */
    static BadDataException atOffset(String file, long offset, String what) {
        return new BadDataException(file + ": offset " + offset + ": " + what);
    }

    /** {@code "<file>: offset <offset>: <what>"}, keeping the cause for debugging. */
    static BadDataException atOffset(String file, long offset, String what, Throwable cause) {
        return new BadDataException(file + ": offset " + offset + ": " + what, cause);
    }

    /** {@code "<file>: line <line>: <what>"}; lines count from 1. */
    static BadDataException atLine(String file, long line, String what) {
        return new BadDataException(file + ": line " + line + ": " + what);
    }
}
