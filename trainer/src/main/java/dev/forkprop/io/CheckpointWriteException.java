package dev.forkprop.io;

import dev.forkprop.data.DataException;

/**
 * A checkpoint could not be written (unwritable directory, full disk). One line naming the file
 * and the cause; earlier checkpoints are untouched. A {@link DataException} so the CLI prints it
 * and exits with status 2.
 */
public final class CheckpointWriteException extends DataException {
    private static final long serialVersionUID = 1L;

    public CheckpointWriteException(String message, Throwable cause) {
        super(message, cause);
    }
}
