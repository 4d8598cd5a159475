package dev.forkprop.data;

/**
 * Data is absent or unreadable and could not be fetched: a file that does not exist, an unknown
 * dataset name, or no mirror and no network. The one-line message says how to get the files.
 */
public final class MissingDataException extends DataException {

    private static final long serialVersionUID = 1L;

    public MissingDataException(String message) {
        super(message);
    }

    public MissingDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
