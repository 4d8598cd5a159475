package dev.forkprop.stress;

import dev.forkprop.engine.PhaseCountdown;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Protocol 5, abort: a worker that throws stores the exception in its plain {@code failure}
 * field and arrives in its {@code finally} ({@code Engine.Worker.compute}); the coordinator, after
 * {@code await}, must see the reference and the exception's contents (its message, a field
 * written in its constructor, non-final in {@code Throwable}), or it would report a successful
 * step and carry on with a half-computed gradient.
 *
 * <p>Result: (worker 0's failure as the coordinator sees it: 1 = present with its message,
 * 2 = present without its message, 0 = absent; worker 1's failure: 0 = absent as it should be).
 * Worker 1's thread also coordinates (two actors at most on two CPUs).
 */
public class FailurePublicationTest {

    /** The shape of {@code Engine.Worker}: a plain failure field, null at phase start. */
    static final class Worker {
        Throwable failure;
    }

    static final class InjectedFault extends RuntimeException {
        InjectedFault(String message) {
            super(message, null, false, false); // no stack trace: cheap enough for a stress loop
        }
    }

    static int seen(Throwable t) {
        if (t == null) return 0;
        return "injected".equals(t.getMessage()) ? 1 : 2;
    }

    @JCStressTest
    @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "Coordinator sees worker 0's failure, message included, and no failure for worker 1.")
    @Outcome(id = "0, 0", expect = FORBIDDEN, desc = "Coordinator sees the phase done but no failure: the step would be reported as successful.")
    @Outcome(id = "2, 0", expect = FORBIDDEN, desc = "Failure reference visible but its contents are not: unsafe publication.")
    @Outcome(expect = FORBIDDEN, desc = "Any other value.")
    @State
    public static class Production {
        final PhaseCountdown barrier = new PhaseCountdown();
        final Worker w0 = new Worker(), w1 = new Worker();

        public Production() {
            barrier.reset(2);
        }

        @Actor
        public void failingWorker0() {
            try {
                throw new InjectedFault("injected");
            } catch (Throwable t) {
                w0.failure = t; // published by the decrement below
            } finally {
                barrier.arrive();
            }
        }

        @Actor
        public void worker1ThenCoordinator(II_Result r) {
            barrier.arrive();   // worker 1 succeeded
            barrier.await();
            r.r1 = seen(w0.failure);
            r.r2 = seen(w1.failure);
        }
    }

    /**
     * Broken twin: the failure is recorded after the arrival (e.g. a handler that logs and
     * records the exception after a {@code finally} that arrives). The coordinator may see the
     * phase done and no failure. A protocol order bug, visible on x86.
     */
    @JCStressTest
    @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "The late failure store happened to land before the coordinator read it.")
    @Outcome(id = "0, 0", expect = ACCEPTABLE_INTERESTING, desc = "Phase done but no failure seen (the bug, caught).")
    @Outcome(id = "2, 0", expect = ACCEPTABLE_INTERESTING, desc = "Racy read of a reference published with no edge: contents not visible (allowed by the JMM, rare on x86).")
    @Outcome(expect = FORBIDDEN, desc = "Any other value.")
    @State
    public static class BrokenFailureAfterArrive {
        final PhaseCountdown barrier = new PhaseCountdown();
        final Worker w0 = new Worker(), w1 = new Worker();

        public BrokenFailureAfterArrive() {
            barrier.reset(2);
        }

        @Actor
        public void failingWorker0() {
            Throwable t = new InjectedFault("injected");
            barrier.arrive();
            w0.failure = t;
        }

        @Actor
        public void worker1ThenCoordinator(II_Result r) {
            barrier.arrive();
            barrier.await();
            r.r1 = seen(w0.failure);
            r.r2 = seen(w1.failure);
        }
    }
}
