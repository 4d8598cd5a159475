package dev.forkprop.stress;

import dev.forkprop.engine.PhaseCountdown;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Protocol 1, the phase barrier: parties write plain data and {@code arrive()}; the coordinator
 * {@code await()}s and must then see every party's writes (the "Memory consistency effects"
 * sentence of {@link PhaseCountdown}). Result: (party 0's value, party 1's value) as read by the
 * coordinator after {@code await} returned; 0 is the initial, stale value.
 *
 * <p>Two actors only: jcstress 0.16 will not schedule more actors than there are CPUs, and the
 * machines here and in CI have two. So the two ways a party's writes reach the coordinator get a
 * test each: {@link LastArrival} (through {@code done = true} and the coordinator's read of it, the
 * other party having arrived before the phase is observed) and {@link EarlierArrival} (through the
 * chain of decrements: the coordinator's thread is party 1 too, arrives, then awaits, so when it
 * arrives last it never reads a {@code done} written by party 0).
 */
public class PhaseCountdownVisibilityTest {

    /** A separate coordinator thread and the last party: the edge is {@code done}. */
    @JCStressTest
    @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "Coordinator sees both parties' writes after await returns.")
    @Outcome(id = "0, .*", expect = FORBIDDEN, desc = "Stale: party 0 arrived but its write is not visible after await.")
    @Outcome(id = ".*, 0", expect = FORBIDDEN, desc = "Stale: party 1 arrived (before the race) but its write is not visible after await.")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: invented data.")
    @State
    public static class LastArrival {
        final PhaseCountdown barrier = new PhaseCountdown();
        int data0, data1; // plain fields, like a worker's gradient buffer

        public LastArrival() {
            barrier.reset(2);
            data1 = 2;          // party 1 already finished its phase
            barrier.arrive();
        }

        @Actor
        public void party0() {
            data0 = 1;
            barrier.arrive();
        }

        @Actor
        public void coordinator(II_Result r) {
            barrier.await();
            r.r1 = data0;
            r.r2 = data1;
        }
    }

    /** Party 0 and party 1 arrive concurrently; party 1's thread then coordinates. */
    @JCStressTest
    @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "Coordinator sees party 0's write whichever party arrived last.")
    @Outcome(id = "0, 2", expect = FORBIDDEN, desc = "Stale: party 0's write did not reach the coordinator through the decrement chain.")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: invented data, or the coordinator's own write lost.")
    @State
    public static class EarlierArrival {
        final PhaseCountdown barrier = new PhaseCountdown();
        int data0, data1;

        public EarlierArrival() {
            barrier.reset(2);
        }

        @Actor
        public void party0() {
            data0 = 1;
            barrier.arrive();
        }

        @Actor
        public void party1ThenCoordinator(II_Result r) {
            data1 = 2;
            barrier.arrive();
            barrier.await();
            r.r1 = data0;
            r.r2 = data1;
        }
    }

    /**
     * Broken twin: the same countdown, but the {@code done} flag is written and read with opaque
     * (relaxed) accesses instead of volatile ones. Opaque still guarantees progress (the spin sees
     * the flag eventually, so this never hangs) but no ordering: nothing orders the party's
     * {@code data0 = 1} before its {@code done} store, nor the coordinator's {@code data0} load
     * after its {@code done} load, so the JMM allows "0" after await.
     *
     * <p>On x86 this twin will very likely never show the stale outcome: TSO keeps stores in
     * program order and loads in program order, and C2 does not hoist these loads above the
     * opaque spin. It shows the stale outcome on weakly ordered hardware (AArch64, POWER), where
     * the two stores or the two loads may be reordered. That is why the production class's
     * argument is the happens-before chain in its Javadoc, not a passing run on x86.
     */
    @JCStressTest
    @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "Coordinator sees both writes (all that x86 can show).")
    @Outcome(id = "0, 2", expect = ACCEPTABLE_INTERESTING, desc = "Stale: the relaxed flag did not publish party 0's write (allowed by the JMM, seen on weak hardware).")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: invented data.")
    @State
    public static class BrokenRelaxedDone {
        final BrokenRelaxedCountdown barrier = new BrokenRelaxedCountdown();
        int data0, data1;

        public BrokenRelaxedDone() {
            barrier.reset(2);
            data1 = 2;
            barrier.arrive();
        }

        @Actor
        public void party0() {
            data0 = 1;
            barrier.arrive();
        }

        @Actor
        public void coordinator(II_Result r) {
            barrier.await();
            r.r1 = data0;
            r.r2 = data1;
        }
    }

    /**
     * Broken twin of a kind x86 cannot hide: party 0 arrives before its last write (a protocol
     * bug, e.g. {@code arrive()} moved from the {@code finally} to before the work's last store).
     * Shows that this harness really observes and reports the stale outcome.
     */
    @JCStressTest
    @Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "The late write happened to land before the coordinator read it.")
    @Outcome(id = "0, 2", expect = ACCEPTABLE_INTERESTING, desc = "Stale: party 0 arrived before writing and the coordinator read too early (the bug, caught).")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: invented data.")
    @State
    public static class BrokenArriveBeforeWrite {
        final PhaseCountdown barrier = new PhaseCountdown();
        int data0, data1;

        public BrokenArriveBeforeWrite() {
            barrier.reset(2);
            data1 = 2;
            barrier.arrive();
        }

        @Actor
        public void party0() {
            barrier.arrive();
            data0 = 1;
        }

        @Actor
        public void coordinator(II_Result r) {
            barrier.await();
            r.r1 = data0;
            r.r2 = data1;
        }
    }

    /** {@link PhaseCountdown} with its {@code done} flag accessed in opaque mode: wrong on purpose. */
    static final class BrokenRelaxedCountdown {
        private static final VarHandle DONE;
        static {
            try {
                DONE = MethodHandles.lookup().findVarHandle(BrokenRelaxedCountdown.class, "done", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
        private final AtomicInteger remaining = new AtomicInteger();
        @SuppressWarnings("unused") // accessed through DONE
        private boolean done = true;

        void reset(int parties) {
            DONE.setOpaque(this, false);
            remaining.set(parties);
        }

        void arrive() {
            // The bug is the flag, not the count: remaining is still atomic, so the count is exact;
            // but its release is not paired with an acquire by the coordinator.
            if (remaining.decrementAndGet() == 0) DONE.setOpaque(this, true);
        }

        void await() {
            while (!(boolean) DONE.getOpaque(this)) Thread.onSpinWait();
        }
    }
}
