package dev.forkprop.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The phase barrier between the coordinator and the workers of one phase: a countdown that
 * exactly one waiter (the coordinator) parks on, and that the last of {@code parties} arrivals
 * opens. Lock-free: one atomic decrement per arrival, one volatile flag, park/unpark.
 *
 * <p>Usage, per phase: the coordinator calls {@link #reset(int)}, submits the parties' tasks,
 * then {@link #await()}; each party calls {@link #arrive()} exactly once, last thing in its task,
 * also when it failed. Reuse after {@code await} returns.
 *
 * <p>Memory consistency effects: actions of each party before {@link #arrive()} happen-before
 * {@link #await()} returns in the coordinator. The chain: a party's writes -> its
 * {@code remaining.decrementAndGet()} (a volatile read-modify-write, so a release that later
 * decrements synchronize with) -> the last arrival's decrement -> its volatile write
 * {@code done = true} -> the coordinator's volatile read of {@code done}. Actions of the
 * coordinator before {@link #reset(int)} are published to the parties by whatever hands them
 * their task (for the engine: {@code ForkJoinPool.execute}).
 *
 * <p>No lost wake-up: the coordinator writes {@code waiter} (volatile) and then reads
 * {@code done}; the last party writes {@code done} and then reads {@code waiter}. All four accesses
 * are volatile, so in the total synchronization order at least one side sees the other's write:
 * either the coordinator sees {@code done} and does not park, or the party sees the waiter and
 * unparks it (a permit given before {@code park} makes it return at once).
 */
public final class PhaseCountdown {
    private final AtomicInteger remaining = new AtomicInteger();
    private volatile boolean done = true;
    private volatile Thread waiter;

    /** Coordinator only, between phases: expects {@code parties} arrivals. */
    public void reset(int parties) {
        if (parties <= 0) throw new IllegalArgumentException("parties must be positive: " + parties);
        if (!done) throw new IllegalStateException("reset while a phase is still running");
        done = false;
        remaining.set(parties);
    }

    /** A party is finished with this phase. Returns true for the last arrival. */
    public boolean arrive() {
        int left = remaining.decrementAndGet();
        if (left < 0) throw new IllegalStateException("more arrivals than parties");
        if (left == 0) {
            done = true;
            Thread w = waiter;
            if (w != null) LockSupport.unpark(w);
            return true;
        }
        return false;
    }

    /**
     * Spins this many times before parking. The coordinator arrives as worker 0, so the others are
     * usually microseconds behind it; a park/unpark round trip costs tens of microseconds, which
     * is a tenth of a small model's step (784-100-10, batch 32). About 20 us of spinning here.
     */
    static final int SPINS = 1 << 12;

    /** Coordinator only: spins briefly, then parks until every party has arrived. Allocates nothing. */
    public void await() {
        for (int i = 0; i < SPINS; i++) {
            if (done) return;
            Thread.onSpinWait();
        }
        waiter = Thread.currentThread();
        while (!done) {
            LockSupport.park(this);
        }
        waiter = null;
    }

    /** True once every party of the current phase has arrived. */
    public boolean isDone() {
        return done;
    }
}
