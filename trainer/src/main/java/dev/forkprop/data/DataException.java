package dev.forkprop.data;

/**
 * Input data could not be used. The message is always a single line meant for the user, naming
 * the file (or dataset) first; the CLI prints it as is and exits with status 2. Subclasses say
 * whether the data was malformed ({@link BadDataException}) or absent ({@link MissingDataException}).
 */
public class DataException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** {@code message} is flattened to one line (line breaks become spaces). */
    public DataException(String message) {
        super(oneLine(message));
    }

    /** {@code message} is flattened to one line; {@code cause} is kept for debugging only. */
    public DataException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
