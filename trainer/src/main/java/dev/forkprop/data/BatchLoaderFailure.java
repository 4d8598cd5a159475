package dev.forkprop.data;

/**
 * The batch loader thread failed: training cannot go on. The message names the batch the loader
 * was filling; the cause is the loader's original exception.
 */
public final class BatchLoaderFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BatchLoaderFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
