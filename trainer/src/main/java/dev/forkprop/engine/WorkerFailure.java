package dev.forkprop.engine;

/** A worker task threw: the step was aborted; the cause is the worker's original exception. */
public final class WorkerFailure extends RuntimeException {
    public WorkerFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
