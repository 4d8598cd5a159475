package dev.forkprop.mpi;

import java.io.PrintStream;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Stops this rank when another rank of the job on the same host has exited: a collective would
 * wait for it forever, and mpirun does not always end the survivors. A daemon thread looks at the
 * other ranks' processes every {@link #PERIOD_MS} ms and, at the first one gone, prints one line
 * naming it and halts with exit code 1. Ranks on other hosts are left to mpirun, which ends the
 * job when one of its processes dies.
 *
 * <p>{@link #stop} before {@code MPI_Finalize}: after it, the other ranks may exit normally.
 * {@code stop} sets the volatile flag, interrupts the thread and joins it, so that once it returns
 * the thread can no longer halt the process: a check that began before the flag was set ends
 * before {@code stop} does, and no rank can exit normally before this one has entered
 * {@code MPI_Finalize}. The thread reads only what it was given at construction and the flag.
 */
public final class PeerWatch implements AutoCloseable {
    static final long PERIOD_MS = 500;

    private final Thread thread;
    private volatile boolean stopped;

    private PeerWatch(int rank, long[] pids, long[] hosts, PrintStream log) {
        List<Integer> local = new ArrayList<>();
        for (int r = 0; r < pids.length; r++) if (r != rank && hosts[r] == hosts[rank]) local.add(r);
        thread = new Thread(() -> {
            while (!stopped) {
                for (int r : local) {
                    if (stopped) return;
                    if (ProcessHandle.of(pids[r]).map(ProcessHandle::isAlive).orElse(false)) continue;
                    log.printf("forkprop: rank %d: rank %d (pid %d) has exited; stopping this rank (the last checkpoint is intact)%n",
                            rank, r, pids[r]);
                    log.flush();
                    Runtime.getRuntime().halt(1);
                }
                try {
                    Thread.sleep(PERIOD_MS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "forkprop-mpi-watch");
        thread.setDaemon(true);
    }

    /** Learns every rank's pid and host (a collective) and starts watching the ones on this host. */
    public static PeerWatch start(Mpi mpi, PrintStream log) {
        long[] pids = mpi.allgather(ProcessHandle.current().pid());
        long[] hosts = mpi.allgather(hostId());
        PeerWatch w = new PeerWatch(mpi.rank(), pids, hosts, log);
        w.thread.start();
        return w;
    }

    private static long hostId() {
        try {
            return InetAddress.getLocalHost().getHostName().hashCode();
        } catch (java.io.IOException e) {
            return 0; // unknown: every rank counts as local, which only errs towards watching more
        }
    }

    /** Stops watching and waits until the thread has ended (before MPI_Finalize). */
    public void stop() {
        stopped = true;
        thread.interrupt();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }
}
