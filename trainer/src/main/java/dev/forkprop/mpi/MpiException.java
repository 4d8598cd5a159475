package dev.forkprop.mpi;

/** A failure of the MPI library or of the job's launch, as one line: the run cannot go on. */
public final class MpiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MpiException(String message, Throwable cause) {
        super(message, cause);
    }
}
