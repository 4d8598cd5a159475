package dev.forkprop.metrics;

import com.lmax.disruptor.BatchEventProcessor;
import com.lmax.disruptor.BatchEventProcessorBuilder;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.ExceptionHandler;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.SleepingWaitStrategy;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Single-producer, single-consumer-thread telemetry ring (LMAX Disruptor): the training
 * coordinator publishes one preallocated {@link StepEvent} per step; one reporter thread hands each
 * event, in order, to every {@link TelemetrySink}. The step loop never blocks on I/O, formatting or
 * a slow sink, and does not allocate. Not a general event bus: one producer thread, sinks share
 * the one consumer thread.
 *
 * <p>Producer (exactly one thread, the first one to call {@link #tryClaim()}; checked):
 * <pre>{@code
 *   StepEvent e = ring.tryClaim();       // null when the ring is full: dropped, counted
 *   if (e != null) { e.step(...).result(...); ring.publish(e); }
 *   ...
 *   ring.close();                        // drains, stops the reporter, closes sinks
 * }</pre>
 * {@code tryClaim} and {@code publish} allocate nothing and never wait: when the reporter is
 * {@link #SIZE} events behind, the event is dropped and {@link #dropped()} counts it. Dropping
 * telemetry is preferred to stalling training.
 *
 * <p>Failures are published like data: a sink that throws is recorded in {@link #failures()} and
 * skipped from then on; the reporter thread keeps consuming, so the producer never sees a ring
 * that stays full because its consumer died.
 *
 * <p>Memory consistency effects: the producer's writes to a slot before {@link #publish} happen-
 * before the sinks' reads of it (release store of the cursor / acquire load in the barrier).
 * Everything the sinks did, including {@link TelemetrySink#onClose()}, happens-before
 * {@link #close()} returns (Thread.join). A failure added to {@link #failures()} happens-before a
 * read of it that sees it (CopyOnWriteArrayList).
 */
public final class SpscTelemetryRing implements AutoCloseable {
    /*
     * Design notes.
     *
     * SIZE = 1024 (power of two, as the Disruptor requires; index = seq & 1023). One slot is ~130 B,
     * so the ring is ~130 KiB preallocated. At MNIST step times (0.3-3 ms on 2 cores) that is
     * 0.3-3 s of reporter stall (a blocked terminal, a slow disk flushing the .hlog, a GC pause on the
     * reporter's garbage) absorbed before anything is dropped; longer stalls drop and count.
     *
     * Wait strategy: SleepingWaitStrategy(0 retries, 20 ms park). The producer side of it
     * (signalAllWhenBlocking) is a no-op, so publish is one release store: no lock, no unpark
     * syscall, no allocation on the hot thread. BlockingWaitStrategy would take a lock and signal a
     * condition on every publish and wake the parked reporter through the scheduler each step; a
     * busy-spin or yielding strategy would burn one of the 2 cores the workers need. The cost is up
     * to 20 ms of reporting latency (nobody reads a progress line that fast) and 50 wake-ups a
     * second. A 1 ms park would mean 1,000 wake-ups a second, and they are not free: each takes a
     * worker's core for a moment, and a 2-thread step waits for that worker at the barrier (see
     * SpscBatchPrefetch's notes for the measurement). At the fastest steps (0.1 ms)
     * 20 ms is 200 events, a fifth of the ring.
     */
    /** The reporter's park while the ring is empty; see the design notes for why 20 ms. */
    static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** Ring capacity in events; see the design notes for why 1024. */
    public static final int SIZE = 1024;
    /** How long {@link #close()} waits for the reporter to drain before giving up on it. */
    static final long DRAIN_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final RingBuffer<StepEvent> ring;
    private final BatchEventProcessor<StepEvent> processor;
    private final Thread reporter;
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    // Producer-only state (plain fields: one producer thread).
    private Thread producer;
    private long claimed = -1;
    private long dropped;
    private boolean closed;

    private SpscTelemetryRing(int size, String threadName, TelemetrySink[] sinks) {
        ring = RingBuffer.createSingleProducer(StepEvent::new, size, new SleepingWaitStrategy(0, PARK_NANOS));
        Dispatcher dispatcher = new Dispatcher(sinks, failures);
        processor = new BatchEventProcessorBuilder().build(ring, ring.newBarrier(), dispatcher);
        processor.setExceptionHandler(dispatcher);
        ring.addGatingSequences(processor.getSequence());
        reporter = new Thread(processor, threadName);
        reporter.setDaemon(true); // a reporter stuck in I/O must not keep the JVM alive
    }

    /** Starts the reporter thread over {@code sinks} (called in this order) with a {@link #SIZE} ring. */
    public static SpscTelemetryRing start(TelemetrySink... sinks) {
        return start(SIZE, "forkprop-telemetry", sinks);
    }

    /** As {@link #start(TelemetrySink...)}, with a power-of-two {@code size} (tests use small rings). */
    public static SpscTelemetryRing start(int size, String threadName, TelemetrySink... sinks) {
        if (size < 1 || Integer.bitCount(size) != 1) throw new IllegalArgumentException("ring size must be a power of two, got " + size);
        SpscTelemetryRing r = new SpscTelemetryRing(size, threadName, sinks.clone());
        r.reporter.start();
        return r;
    }

    /**
     * Claims the next slot for the producer to fill, or returns null (and counts a drop) when the
     * ring is full or closed. Producer thread only; at most one claim outstanding. Allocation-free,
     * never waits.
     */
    public StepEvent tryClaim() {
        Thread t = Thread.currentThread();
        if (producer != t) {
            if (producer != null) throw new IllegalStateException("single producer: claimed from " + t.getName() + ", owner is " + producer.getName());
            producer = t;
        }
        if (claimed >= 0) throw new IllegalStateException("publish the claimed event before claiming another");
        if (closed) {
            dropped++;
            return null;
        }
        try {
            claimed = ring.tryNext();
        } catch (InsufficientCapacityException full) { // a preallocated singleton: no allocation
            dropped++;
            return null;
        }
        return ring.get(claimed);
    }

    /** Publishes the event from {@link #tryClaim()}. Producer thread only; allocation-free. */
    public void publish(StepEvent e) {
        long seq = claimed;
        if (seq < 0 || ring.get(seq) != e) throw new IllegalStateException("publish takes the event tryClaim returned");
        claimed = -1;
        // HB: plain writes to e -> release store of the cursor here -> acquire load in the reporter's barrier.
        ring.publish(seq);
    }

    /** Events not published because the ring was full (or closed). Producer thread, or after close. */
    public long dropped() {
        return dropped;
    }

    /** Sink and reporter failures so far, in order; empty when all went well. Any thread. */
    public List<Throwable> failures() {
        return List.copyOf(failures);
    }

    /**
     * Waits until the reporter has handed every published event to the sinks (at most
     * {@link #DRAIN_TIMEOUT_NANOS}), stops it, lets every sink {@link TelemetrySink#onClose()}, and
     * joins the thread. Producer thread; idempotent. A reporter that does not drain in time is
     * recorded as a failure and abandoned (it is a daemon thread), never waited on forever.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (claimed >= 0) throw new IllegalStateException("close with an unpublished claimed event");
        final long last = ring.getCursor();
        final long deadline = System.nanoTime() + DRAIN_TIMEOUT_NANOS;
        while (processor.getSequence().get() < last && reporter.isAlive() && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(200_000);
        }
        long behind = last - processor.getSequence().get();
        // Halting alerts the barrier; the processor exits its loop and calls onShutdown -> every sink's onClose.
        processor.halt();
        try {
            reporter.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) + 1_000));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        if (behind > 0) failures.add(new IllegalStateException("telemetry reporter did not drain: " + behind + " events unprocessed at close"));
        if (reporter.isAlive()) failures.add(new IllegalStateException("telemetry reporter thread did not stop; abandoned (daemon)"));
    }

    /** The reporter's single event handler: fans each event out to the sinks, isolating failures. */
    private static final class Dispatcher implements EventHandler<StepEvent>, ExceptionHandler<StepEvent> {
        private final TelemetrySink[] sinks;
        private final boolean[] failed;
        private final List<Throwable> failures;

        Dispatcher(TelemetrySink[] sinks, List<Throwable> failures) {
            this.sinks = sinks;
            this.failed = new boolean[sinks.length];
            this.failures = failures;
        }

        @Override
        public void onEvent(StepEvent e, long sequence, boolean endOfBatch) {
            for (int i = 0; i < sinks.length; i++) {
                if (failed[i]) continue;
                try {
                    sinks[i].onEvent(e, endOfBatch);
                } catch (Throwable t) {
                    failed[i] = true;
                    // HB: failure -> CopyOnWriteArrayList.add -> any later read of failures()
                    failures.add(new TelemetrySinkFailure(sinks[i].getClass().getSimpleName() + " failed at step " + e.step
                            + " (ring sequence " + sequence + "); it receives no further events", t));
                }
            }
        }

        @Override
        public void onShutdown() {
            for (int i = 0; i < sinks.length; i++) {
                try {
                    sinks[i].onClose();
                } catch (Throwable t) {
                    failures.add(new TelemetrySinkFailure(sinks[i].getClass().getSimpleName() + " failed to close", t));
                }
            }
        }

        // Backstop: onEvent/onShutdown catch everything themselves, so these only see the unexpected.
        // None rethrows: a rethrow would kill the reporter thread and leave the ring to fill up.
        @Override
        public void handleEventException(Throwable ex, long sequence, StepEvent event) {
            failures.add(new TelemetrySinkFailure("telemetry reporter failed at ring sequence " + sequence, ex));
        }

        @Override
        public void handleOnStartException(Throwable ex) {
            failures.add(new TelemetrySinkFailure("telemetry reporter failed to start", ex));
        }

        @Override
        public void handleOnShutdownException(Throwable ex) {
            failures.add(new TelemetrySinkFailure("telemetry reporter failed to shut down", ex));
        }
    }
}
