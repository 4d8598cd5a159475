package dev.forkprop.stress;

import dev.forkprop.engine.PhaseCountdown;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;

import java.util.concurrent.locks.LockSupport;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Protocol 2, no lost wake-up: the coordinator's {@code await()} returns once the last party has
 * arrived, whatever the interleaving of the last {@code arrive()} with {@code await()}'s publish
 * of {@code waiter}, its check of {@code done}, and its {@code park}. jcstress termination mode:
 * the actor awaits, the signal is the last arrival; "STALE" means the actor was still parked after
 * the signal completed, i.e. a lost wake-up.
 *
 * <p>Termination tests have one actor and one signal, so the other parties arrive in the state's
 * constructor; the race that matters (last arrival against the park) is the same for any N.
 */
public class PhaseCountdownTerminationTest {

    /** The last of two arrivals races the coordinator's await. */
    @JCStressTest(Mode.Termination)
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "await returned after the last arrival.")
    @Outcome(id = "STALE", expect = FORBIDDEN, desc = "Lost wake-up: await stayed parked after the last party arrived.")
    @State
    public static class LastArrivalRacesAwait {
        final PhaseCountdown barrier = new PhaseCountdown();

        public LastArrivalRacesAwait() {
            barrier.reset(2);
            barrier.arrive();
        }

        @Actor
        public void coordinator() {
            barrier.await();
        }

        @Signal
        public void lastParty() {
            barrier.arrive();
        }
    }

    /**
     * Every party arrived before the coordinator calls await ({@code reset}, arrivals, then
     * {@code await}): await must not park at all. The signal re-reads the state only.
     */
    @JCStressTest(Mode.Termination)
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "await returned at once: every party had arrived.")
    @Outcome(id = "STALE", expect = FORBIDDEN, desc = "await parked although the phase was already done.")
    @State
    public static class AllArrivedBeforeAwait {
        final PhaseCountdown barrier = new PhaseCountdown();

        public AllArrivedBeforeAwait() {
            barrier.reset(3);
            barrier.arrive();
            barrier.arrive();
            barrier.arrive();
        }

        @Actor
        public void coordinator() {
            barrier.await();
        }

        @Signal
        public void nothingLeftToArrive() {
            if (!barrier.isDone()) throw new AssertionError("three arrivals of three must leave the phase done");
        }
    }

    /**
     * Two consecutive phases on one barrier, as the engine runs compute then reduce: a stale
     * unpark permit from phase 1 (the last party read {@code waiter} just before await cleared
     * it) must not break phase 2's await, and phase 2's last arrival must still wake it.
     */
    @JCStressTest(Mode.Termination)
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "Both phases' awaits returned.")
    @Outcome(id = "STALE", expect = FORBIDDEN, desc = "Lost wake-up in the second phase of a reused barrier.")
    @State
    public static class ReusedForNextPhase {
        final PhaseCountdown barrier = new PhaseCountdown();
        volatile boolean phase2Reset;

        @Actor
        public void coordinator() {
            barrier.reset(1);
            barrier.await();        // phase 1: the signal's first arrival
            barrier.reset(1);
            phase2Reset = true;
            barrier.await();        // phase 2: the signal's second arrival
        }

        @Signal
        public void party() {
            while (barrier.isDone()) Thread.onSpinWait();   // wait for phase 1's reset
            barrier.arrive();
            while (!phase2Reset) Thread.onSpinWait();
            barrier.arrive();
        }
    }

    /**
     * Broken twin: the classic lost wake-up. The coordinator checks {@code done} and only then
     * publishes itself as the waiter and parks, without re-checking in between: if the last
     * party sets {@code done} and reads {@code waiter} (still null) in that window, nobody unparks
     * the coordinator. Unlike a reordering, this window exists on x86 too, but it is a few
     * instructions wide, so quick runs may not hit it; the outcome stays interesting, not
     * forbidden. (jcstress interrupts a stale actor when it gives up on it; park returns on
     * interrupt and the loop then sees {@code done}, so the fork can finish.)
     */
    @JCStressTest(Mode.Termination)
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "The window was missed: await returned.")
    @Outcome(id = "STALE", expect = ACCEPTABLE_INTERESTING, desc = "Lost wake-up: done was set between the check and the park (the bug, caught).")
    @State
    public static class BrokenCheckThenPark {
        volatile boolean done;
        volatile Thread waiter;

        @Actor
        public void coordinator() {
            while (!done) {
                waiter = Thread.currentThread();  // published after the check: too late
                LockSupport.park(this);
                if (Thread.interrupted()) return;  // jcstress gave up on us
            }
        }

        @Signal
        public void lastParty() {
            done = true;
            Thread w = waiter;
            if (w != null) LockSupport.unpark(w);
        }
    }
}
