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
     * Default spin before parking, in nanoseconds. The coordinator arrives as worker 0, so the
     * others are usually microseconds behind it; a park/unpark round trip costs tens of
     * microseconds, which is a tenth of a small model's step (784-100-10, batch 32).
     */
    static final long DEFAULT_SPIN_NANOS = 20_000;

    private final long spinNanos;

    public PhaseCountdown() {
        this(DEFAULT_SPIN_NANOS);
    }

    /**
     * @param spinNanos how long {@link #await} spins before it parks. The engine spins for
     *     milliseconds when it has a core per worker: the coordinator has nothing else to do, and
     *     on a virtual machine a parked vCPU can take 50-100 us and more to come back.
     */
    public PhaseCountdown(long spinNanos) {
        if (spinNanos < 0) throw new IllegalArgumentException("spin time must be >= 0: " + spinNanos);
        this.spinNanos = spinNanos;
    }

    /** Coordinator only: spins for up to the spin time, then parks until every party has arrived. Allocates nothing. */
    public void await() {
        await(null);
    }

    /** How often a parked {@link #await(Runnable)} wakes to run its check. */
    static final long CHECK_NANOS = 100_000_000;

    /**
     * As {@link #await()}, and while parked, runs {@code check} every {@value #CHECK_NANOS} ns; an
     * exception from it leaves the wait (the phase is then abandoned: do not reset or reuse this
     * countdown). The engine's check finds a party that died without arriving, so that a lost
     * worker ends the step with an error instead of a hang. Allocates nothing.
     */
    public void await(Runnable check) {
        if (done) return;
        final long start = System.nanoTime();
        for (int i = 1; ; i++) {
            if (done) return;
            // The clock is read every 64 spins (a pause is tens of cycles; nanoTime about 20 ns).
            if ((i & 63) == 0 && System.nanoTime() - start >= spinNanos) break;
            Thread.onSpinWait();
        }
        waiter = Thread.currentThread();
        try {
            while (!done) {
                LockSupport.parkNanos(this, CHECK_NANOS);
                if (check != null && !done) check.run();
            }
        } finally {
            waiter = null;
        }
    }

    /** True once every party of the current phase has arrived. */
    public boolean isDone() {
        return done;
    }
}
