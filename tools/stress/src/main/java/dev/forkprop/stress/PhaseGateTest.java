package dev.forkprop.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.forkprop.engine.PhaseGate;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Protocol 7, the phase start signal: the coordinator writes a phase's inputs (plain fields, like
 * the engine's step inputs and optimizer scalars) and {@code open()}s; a worker's
 * {@code await(w, seen)} returns the new phase and the worker must then see those inputs. And the
 * gate never loses a wake-up: a worker that has parked is woken by {@code open()}.
 */
public class PhaseGateTest {

    /** Visibility: inputs written before open() are seen by the worker after await returns. */
    @JCStressTest
    @Outcome(id = "1, 42", expect = ACCEPTABLE, desc = "Worker saw phase 1 and the inputs written before open().")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "Stale: the worker started phase 1 without the coordinator's inputs.")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: invented data or a wrong phase.")
    @State
    public static class InputsVisible {
        final PhaseGate gate = new PhaseGate(1);
        int input; // plain, like Engine's stepNo, order, batchStart

        @Actor
        public void coordinator() {
            input = 42;
            gate.open();
        }

        @Actor
        public void worker(II_Result r) {
            long p = gate.await(0, 0);
            r.r1 = (int) p;
            r.r2 = input;
        }
    }

    /**
     * Broken twin: the coordinator opens the phase before writing the inputs. A worker that sees
     * the phase may run on stale inputs: the bug the HB edge prevents.
     */
    @JCStressTest
    @Outcome(id = "1, 42", expect = ACCEPTABLE, desc = "The write happened to land before the worker read it.")
    @Outcome(id = "1, 0", expect = ACCEPTABLE_INTERESTING, desc = "Stale inputs: opening before writing is a real bug, caught.")
    @Outcome(expect = FORBIDDEN, desc = "Any other value.")
    @State
    public static class BrokenOpenBeforeWrite {
        final PhaseGate gate = new PhaseGate(1);
        int input;

        @Actor
        public void coordinator() {
            gate.open();
            input = 42;
        }

        @Actor
        public void worker(II_Result r) {
            long p = gate.await(0, 0);
            r.r1 = (int) p;
            r.r2 = input;
        }
    }

    /** No lost wake-up: open() races the worker's spin-then-park; await must return. */
    @JCStressTest(Mode.Termination)
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "await returned after open().")
    @Outcome(id = "STALE", expect = FORBIDDEN, desc = "Lost wake-up: the worker stayed parked after the phase opened.")
    @State
    public static class OpenRacesPark {
        final PhaseGate gate = new PhaseGate(1);

        @Actor
        public void worker() {
            gate.await(0, 0);
        }

        @Signal
        public void coordinator() {
            gate.open();
        }
    }

    /** close() also wakes a parked worker, which then sees isClosed(). */
    @JCStressTest(Mode.Termination)
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "await returned after close() and the loop can end.")
    @Outcome(id = "STALE", expect = FORBIDDEN, desc = "A closed engine left a worker parked forever.")
    @State
    public static class CloseWakes {
        final PhaseGate gate = new PhaseGate(1);

        @Actor
        public void worker() {
            gate.await(0, 0);
            if (!gate.isClosed()) throw new AssertionError("woken without a phase or a close");
        }

        @Signal
        public void coordinator() {
            gate.close();
        }
    }
}
