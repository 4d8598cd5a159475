package dev.forkprop.engine;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The start signal of a phase: one coordinator opens phases, each of a fixed set of waiting
 * workers sees every opening. The other half of {@link PhaseCountdown}: the gate starts a phase,
 * the countdown ends it.
 *
 * <p>Why not submit a task per phase: an idle pool thread is parked, and waking a parked thread
 * costs tens to hundreds of microseconds on a virtual machine (measured here: 784-256-256-10 at
 * batch 128 ran at 56k-106k samples/s on 2 threads depending on wake-ups). Phases come back to
 * back, so a worker spins for a while (see the constructor) before it parks, and usually sees the
 * next phase while still spinning.
 *
 * <p>Usage: the coordinator writes the phase's inputs, then {@link #open()}; worker {@code w}
 * loops {@code seen = await(w, seen)}, runs the phase, arrives at the countdown. {@link #close()}
 * ends the loops ({@link #isClosed()} after await).
 *
 * <p>Memory consistency effects: actions of the coordinator before {@link #open()} happen-before
 * the return of every {@link #await} that observes that opening: {@code open} writes the volatile
 * {@code phase}, {@code await} reads it.
 *
 * <p>No lost wake-up: a worker about to park first publishes itself in {@code parked[w]}
 * (volatile) and then re-reads {@code phase} (volatile); the coordinator writes {@code phase} and
 * then reads {@code parked[w]}. In the total order of these volatile accesses one side sees the
 * other's write: the worker sees the new phase and does not park, or the coordinator sees the
 * worker and unparks it (a permit given before {@code park} makes it return at once).
 */
public final class PhaseGate {
    /** Default spin before parking: 50 us, longer than any gap between the phases of one step. */
    static final long DEFAULT_SPIN_NANOS = 50_000;

    private volatile long phase;
    private volatile boolean closed;
    private final AtomicReferenceArray<Thread> parked;
    private final long spinNanos;

    public PhaseGate(int workers) {
        this(workers, DEFAULT_SPIN_NANOS);
    }

    /**
     * @param spinNanos how long {@link #await} spins before parking; the engine spins for
     *     milliseconds when every worker has a core (then also the gaps between steps are
     *     bridged), and not at all when there are more workers than cores.
     */
    public PhaseGate(int workers, long spinNanos) {
        if (spinNanos < 0) throw new IllegalArgumentException("spin time must be >= 0: " + spinNanos);
        this.parked = new AtomicReferenceArray<>(workers);
        this.spinNanos = spinNanos;
    }

    /** Coordinator only: starts the next phase and wakes any parked worker. */
    public void open() {
        phase = phase + 1; // single writer: the read-then-write is not a race
        wakeAll();
    }

    /** Coordinator only: ends every worker's loop. */
    public void close() {
        closed = true;
        phase = phase + 1;
        wakeAll();
    }

    public boolean isClosed() {
        return closed;
    }

    private void wakeAll() {
        for (int w = 0; w < parked.length(); w++) {
            Thread t = parked.get(w);
            if (t != null) LockSupport.unpark(t);
        }
    }

    /**
     * Worker {@code w}: returns the current phase once it differs from {@code seen} (the phase this
     * worker last ran), spinning first, then parking. Allocates nothing.
     */
    public long await(int w, long seen) {
        long p;
        if ((p = phase) != seen) return p;
        final long start = System.nanoTime();
        for (int i = 1; ; i++) {
            if ((p = phase) != seen) return p;
            if ((i & 63) == 0 && System.nanoTime() - start >= spinNanos) break;
            Thread.onSpinWait();
        }
        parked.set(w, Thread.currentThread());
        while ((p = phase) == seen) {
            LockSupport.park(this);
        }
        parked.set(w, null);
        return p;
    }
}
