package dev.forkprop.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * {@code mpi.PeerWatch}'s stop: a rank's watcher thread halts the process when another rank's
 * process is gone, and the coordinator calls {@code stop()} before {@code MPI_Finalize}, after
 * which the other ranks may exit normally. Once {@code stop()} has returned, the watcher must
 * never halt: else a run that ended well would exit with code 1. {@code stop()} sets the
 * volatile flag and joins the thread (modelled by spinning on a volatile {@code done}, which the
 * thread writes last); only then can the peer exit.
 *
 * <p>Result: 1 when the watcher halted (it saw the peer gone), 0 when it did not. A model of
 * {@code PeerWatch}'s fields and order, not the class itself: the class halts the JVM and looks
 * at other processes, neither of which a stress harness can host.
 */
public class PeerWatchStopTest {

    @JCStressTest
    @Outcome(id = "0", expect = ACCEPTABLE, desc = "The watcher ended without halting: the peer left only after stop() returned.")
    @Outcome(id = "1", expect = FORBIDDEN, desc = "The watcher halted a rank whose run had ended well.")
    @State
    public static class Production {
        volatile boolean stopped, peerGone, done;
        int halted;

        @Actor
        public void watcher() {
            // One pass of the watch loop: the flag, then the peer's process.
            if (!stopped && peerGone) halted = 1;
            done = true; // the thread's end, which join() waits for
        }

        @Actor
        public void coordinator() {
            stopped = true;
            while (!done) Thread.onSpinWait(); // join()
            peerGone = true; // MPI_Finalize, then the other rank exits
        }

        @Arbiter
        public void result(I_Result r) {
            r.r1 = halted;
        }
    }

    /**
     * Broken twin: {@code stop()} sets the flag and returns without joining (as an interrupt
     * alone would). The watcher may have read the flag just before it was set and then see the
     * peer that has since exited normally: it halts a finished run.
     */
    @JCStressTest
    @Outcome(id = "0", expect = ACCEPTABLE, desc = "The watcher read the flag after it was set, or the peer before it left.")
    @Outcome(id = "1", expect = ACCEPTABLE_INTERESTING, desc = "The bug: a halt after stop() returned.")
    @State
    public static class BrokenNoJoin {
        volatile boolean stopped, peerGone;
        int halted;

        @Actor
        public void watcher() {
            if (!stopped && peerGone) halted = 1;
        }

        @Actor
        public void coordinator() {
            stopped = true;
            peerGone = true;
        }

        @Arbiter
        public void result(I_Result r) {
            r.r1 = halted;
        }
    }
}
