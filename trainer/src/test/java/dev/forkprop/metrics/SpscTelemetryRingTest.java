package dev.forkprop.metrics;

import static org.junit.jupiter.api.Assertions.*;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpscTelemetryRingTest {

    /** Test producer: retries a full ring so every event is delivered (production drops instead). */
    private static void publishBlocking(SpscTelemetryRing ring, long step, boolean timed, long nanoTime,
                                        long stepNs, long computeNs, long reduceNs, long updateNs) {
        StepEvent e;
        while ((e = ring.tryClaim()) == null) Thread.onSpinWait();
        e.step(step, 1, 0, 0.01 * step, stepNs, timed, nanoTime)
                .result(1.0 / step, step % 7, 128, computeNs, reduceNs, updateNs, step % 11 != 0);
        ring.publish(e);
    }

    /** Copies what it sees; fails loudly on the first out-of-order or wrong value. */
    private static final class Checking implements TelemetrySink {
        long expected = 1, seen;
        volatile boolean closed;
        @Override
        public void onEvent(StepEvent e, boolean endOfBatch) {
            assertEquals(expected, e.step, "order");
            assertEquals(StepEvent.STEP, e.kind);
            assertEquals(0.01 * e.step, e.lr);
            assertEquals(1.0 / e.step, e.loss);
            assertEquals(e.step % 7, e.correct);
            assertEquals(128, e.samples);
            assertEquals(e.step * 10, e.stepNanos);
            assertEquals(e.step * 5, e.computeNanos);
            assertEquals(e.step * 3, e.reduceUpdateNanos);
            assertEquals(e.step * 2, e.barrierWaitNanos);
            assertEquals(e.step % 11 != 0, e.finite);
            assertEquals(e.step > 100, e.timed);
            expected++;
            seen++;
        }
        @Override
        public void onClose() {
            closed = true;
        }
    }

    @Test
    void everyPublishedEventIsSeenInOrderWithItsValues() {
        Checking sink = new Checking();
        SpscTelemetryRing ring = SpscTelemetryRing.start(64, "t-order", sink); // small ring: wraps ~300 times
        int n = 20_000;
        for (long s = 1; s <= n; s++) publishBlocking(ring, s, s > 100, s, s * 10, s * 5, s * 3, s * 2);
        ring.close();
        assertEquals(List.of(), ring.failures());
        assertEquals(n, sink.seen);
        assertTrue(sink.closed, "onClose ran before close() returned");
        // ring.dropped() counts this test producer's retries on a full ring; they are not losses here.
    }

    @Test
    void hlogReadsBackWithOneTagPerPhaseAndTheTimedStepCount(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("lat.hlog");
        PhaseHistograms h = new PhaseHistograms(1_000_000, new FileOutputStream(file.toFile())); // 1 ms intervals
        SpscTelemetryRing ring = SpscTelemetryRing.start(256, "t-hlog", h);
        int n = 3000, warmup = 300;
        for (long s = 1; s <= n; s++) {
            // Synthetic clock: 100 us per step, so an interval is cut every 10 steps.
            publishBlocking(ring, s, s > warmup, s * 100_000, 1_000 + s, 500 + s, 200, 100);
        }
        ring.close();
        assertEquals(List.of(), ring.failures());

        Map<String, Long> counts = new HashMap<>();
        Map<String, Integer> intervals = new HashMap<>();
        try (InputStream in = new FileInputStream(file.toFile())) {
            HistogramLogReader reader = new HistogramLogReader(in);
            EncodableHistogram eh;
            while ((eh = reader.nextIntervalHistogram()) != null) {
                Histogram hist = (Histogram) eh;
                counts.merge(hist.getTag(), hist.getTotalCount(), Long::sum);
                intervals.merge(hist.getTag(), 1, Integer::sum);
            }
        }
        for (Phase p : Phase.values()) {
            if (p == Phase.ALLREDUCE) {
                // A single process has no collectives: the tag is written only under mpirun.
                assertEquals(null, counts.get(p.tag), "no allreduce intervals without ranks");
                continue;
            }
            assertEquals(n - warmup, counts.get(p.tag), p.tag + " total count in the .hlog");
            assertTrue(intervals.get(p.tag) > 100, p.tag + " intervals: " + intervals.get(p.tag));
        }
        assertEquals(n - warmup, h.summary().timedSteps());
    }

    @Test
    void summaryPercentilesMatchADirectlyRecordedHistogram() {
        PhaseHistograms h = new PhaseHistograms(Long.MAX_VALUE, null);
        SpscTelemetryRing ring = SpscTelemetryRing.start(1024, "t-summary", h);
        Map<Phase, Histogram> direct = new HashMap<>();
        for (Phase p : Phase.values()) direct.put(p, new Histogram(3_600_000_000_000L, 3));
        SplittableRandom rnd = new SplittableRandom(42);
        for (long s = 1; s <= 10_000; s++) {
            // Log-uniform 10 us .. 100 ms, with an occasional 1 s outlier.
            long step = (long) Math.exp(rnd.nextDouble(Math.log(1e4), Math.log(1e8))) + (s % 997 == 0 ? 1_000_000_000L : 0);
            long compute = step / 2, reduce = step / 5, update = step / 10, wait = s % 50 == 0 ? step / 3 : s % 7;
            boolean timed = s > 50;
            if (timed) {
                direct.get(Phase.STEP).recordValue(step);
                direct.get(Phase.COMPUTE).recordValue(compute);
                direct.get(Phase.REDUCE_UPDATE).recordValue(reduce);
                direct.get(Phase.BARRIER_WAIT).recordValue(update);
                direct.get(Phase.DATA_WAIT).recordValue(wait);
            }
            StepEvent e;
            while ((e = ring.tryClaim()) == null) Thread.onSpinWait();
            e.step(s, 1, 10_000, 0.1, step, timed, s).dataWait(wait).result(0.5, 64, 128, compute, reduce, update, true);
            ring.publish(e);
        }
        ring.close();
        LatencySummary sum = h.summary();
        assertEquals(9_950, sum.timedSteps());
        for (Phase p : Phase.values()) {
            Histogram d = direct.get(p);
            for (double q : new double[] {50, 90, 99, 99.9}) {
                assertEquals(d.getValueAtPercentile(q) / 1e6, sum.percentileMs(p, q), 0, p + " p" + q);
            }
            assertEquals(d.getMaxValue() / 1e6, sum.maxMs(p), 0, p + " max");
        }
        String text = sum.format();
        assertTrue(text.contains("p99.9") && text.contains("compute") && text.contains("max"), text);
    }

    @Test
    void aThrowingSinkNeitherHangsTheProducerNorHidesItsException() {
        Checking healthy = new Checking();
        TelemetrySink broken = (e, endOfBatch) -> {
            if (e.step == 10) throw new IllegalStateException("disk full (test)");
        };
        TelemetrySink alwaysBroken = (e, endOfBatch) -> {
            throw new ArithmeticException("always (test)");
        };
        SpscTelemetryRing ring = SpscTelemetryRing.start(4, "t-throw", broken, alwaysBroken, healthy);
        // A hang would never end; the bound is generous because each lap of the 4-slot ring can
        // wait out the reporter's 20 ms park (250 laps: about 5 s), several times over on a starved
        // machine (CI beside a benchmark at a higher priority).
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (long s = 1; s <= 1_000; s++) publishBlocking(ring, s, s > 100, s, s * 10, s * 5, s * 3, s * 2);
            ring.close();
        });
        List<Throwable> failures = ring.failures();
        assertEquals(2, failures.size(), failures.toString());
        assertInstanceOf(TelemetrySinkFailure.class, failures.get(0));
        assertTrue(failures.stream().anyMatch(t -> t.getCause() instanceof IllegalStateException && t.getMessage().contains("step 10")), failures.toString());
        assertTrue(failures.stream().anyMatch(t -> t.getCause() instanceof ArithmeticException && t.getMessage().contains("step 1 ")), failures.toString());
        assertEquals(1_000, healthy.seen, "the healthy sink still saw everything");
    }

    @Test
    void aStalledReporterMakesTheProducerDropNotWait() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        TelemetrySink stalled = (e, endOfBatch) -> release.await();
        SpscTelemetryRing ring = SpscTelemetryRing.start(8, "t-stall", stalled);
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            for (long s = 1; s <= 1_000; s++) {
                StepEvent e = ring.tryClaim();
                if (e != null) ring.publish(e.step(s, 1, 1_000, 0, 1, true, s));
            }
        });
        assertTrue(ring.dropped() >= 1_000 - 9, "dropped " + ring.dropped());
        release.countDown();
        ring.close();
        assertEquals(List.of(), ring.failures());
    }

    @Test
    void publishingAllocatesNothingOnTheProducerThreadAfterWarmUp() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(mx.isThreadAllocatedMemorySupported());
        mx.setThreadAllocatedMemoryEnabled(true);
        long tid = Thread.currentThread().threadId();
        PhaseHistograms h = new PhaseHistograms(1_000_000, null);
        TelemetrySink consumeOnly = (e, endOfBatch) -> {};
        SpscTelemetryRing ring = SpscTelemetryRing.start(h, consumeOnly);
        // Warm up (JIT) the claim/publish path and the drop path. The producer retries a full
        // ring, so both run: a drop allocates nothing (InsufficientCapacityException is a
        // preallocated singleton) and every step below is eventually published.
        for (long s = 1; s <= 50_000; s++) publishOnce(ring, s);
        long before = mx.getThreadAllocatedBytes(tid);
        long calibrate = mx.getThreadAllocatedBytes(tid) - before; // what the probe itself costs
        before = mx.getThreadAllocatedBytes(tid);
        for (long s = 50_001; s <= 70_000; s++) publishOnce(ring, s);
        long allocated = mx.getThreadAllocatedBytes(tid) - before - calibrate;
        ring.close();
        assertEquals(0, allocated, "bytes allocated by 20,000 publishes on the producer thread");
        assertEquals(70_000 - 1_000, h.summary().timedSteps(), "every publish reached the consumer");
        assertEquals(List.of(), ring.failures());
    }

    private static void publishOnce(SpscTelemetryRing ring, long s) {
        StepEvent e;
        while ((e = ring.tryClaim()) == null) Thread.onSpinWait();
        {
            e.step(s, 1, 70_000, 0.001, 1_000 + (s & 1023), s > 1000, System.nanoTime())
                    .result(0.25, 100, 128, 600, 200, 100, true);
            ring.publish(e);
        }
    }

    @Test
    void ringSizeMustBeAPowerOfTwo() {
        assertThrows(IllegalArgumentException.class, () -> SpscTelemetryRing.start(1000, "t-bad"));
    }

    @Test
    void onlyOneProducerThread() throws Exception {
        SpscTelemetryRing ring = SpscTelemetryRing.start(16, "t-owner");
        StepEvent e = ring.tryClaim();
        ring.publish(e.step(1, 1, 1, 0, 1, false, 1));
        List<Throwable> other = new ArrayList<>();
        Thread t = new Thread(() -> {
            try {
                ring.tryClaim();
            } catch (Throwable x) {
                other.add(x);
            }
        });
        t.start();
        t.join();
        assertInstanceOf(IllegalStateException.class, other.get(0));
        ring.close();
    }
}
