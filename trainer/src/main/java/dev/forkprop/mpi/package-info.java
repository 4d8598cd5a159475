/**
 * Training across processes: Open MPI's C API through FFM ({@link dev.forkprop.mpi.Mpi}) and the
 * engine's gradient exchange over it ({@link dev.forkprop.mpi.MpiExchange}). Loaded only when the
 * process was started by {@code mpirun}.
 */
package dev.forkprop.mpi;
