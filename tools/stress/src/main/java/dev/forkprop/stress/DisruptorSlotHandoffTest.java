package dev.forkprop.stress;

import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.YieldingWaitStrategy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Protocol 6, handoff of preallocated slots through an LMAX Disruptor 4 {@link RingBuffer} (the
 * pattern of the telemetry ring, whose producer uses {@code tryNext}; {@code SpscBatchPrefetch} has
 * its own test, {@link BatchPrefetchTest}): a single producer claims a
 * slot with {@code tryNext()}, writes every field of the preallocated event, and
 * {@code publish}es; the consumer reads the published cursor, reads the fields of every published
 * slot, and only then advances its {@link Sequence}, which gates the producer.
 *
 * <p>Neither actor ever waits for the other: the producer stops at the first claim the gate
 * refuses, the consumer at the first sequence not yet published. (Not {@code next()} and
 * {@code waitFor}, which block: two actors that wait for each other run in lock-step through
 * jcstress's strides, and on a loaded machine a stride can outlive jcstress's 30 s limit:
 * TIMEOUT, a hard error that says nothing about the protocol.)
 *
 * <p>A ring of 2 slots and 3 publications: the third reuses slot 0, and the gate lets the producer
 * claim it only after the consumer has finished reading publication 1. Publication k writes k
 * into all three fields. Result: r1..r3, per sequence, k when the consumer read publication k
 * whole, 9 when the fields disagreed (a torn, half-written or half-overwritten event), 0 when the
 * sequence was not yet published when the consumer looked; r4, how many publications the producer
 * made (2 when the gate refused the third claim).
 */
public class DisruptorSlotHandoffTest {
    static final int RING = 2, EVENTS = 3, TORN = 9;

    /** A preallocated slot with several fields, written in place (no allocation per event). */
    static final class Sample {
        long a, b, c;
    }

    static int read(Sample s) {
        final long a = s.a, b = s.b, c = s.c;
        return a == b && b == c ? (int) a : TORN;
    }

    /** Ring, barrier and the consumer's sequence for one trial. */
    static class Ring {
        final RingBuffer<Sample> ring = RingBuffer.createSingleProducer(Sample::new, RING, new YieldingWaitStrategy());
        final SequenceBarrier barrier = ring.newBarrier();
        final Sequence consumed = new Sequence(); // -1: nothing consumed

        Ring(boolean gated) {
            if (gated) ring.addGatingSequences(consumed);
        }

        void produce(boolean publishEarly, IIII_Result r) {
            int published = 0;
            for (int k = 1; k <= EVENTS; k++) {
                final long seq;
                try {
                    seq = ring.tryNext();              // refused while slot seq - RING is unconsumed
                } catch (InsufficientCapacityException full) {
                    break;
                }
                final Sample s = ring.get(seq);
                s.a = k;
                s.b = k;
                if (publishEarly) ring.publish(seq);   // the twin's bug: publish before the last field
                s.c = k;
                if (!publishEarly) ring.publish(seq);  // HB: field writes -> publish (release) -> cursor read (acquire)
                published = k;
            }
            r.r4 = published;
        }

        void consume(IIII_Result r) {
            for (long seq = 0; seq < EVENTS; seq++) {
                if (barrier.getCursor() < seq) break;  // not published yet: 0 for this and later sequences
                final int v = read(ring.get(seq));
                if (seq == 0) r.r1 = v; else if (seq == 1) r.r2 = v; else r.r3 = v;
                consumed.set(seq);                     // HB: reads done -> set (release) -> producer's gating check
            }
        }
    }

    @JCStressTest
    @Outcome(id = {"0, 0, 0, [23]", "1, 0, 0, [23]", "1, 2, 0, [23]", "1, 2, 3, 3"}, expect = ACCEPTABLE,
            desc = "Every publication the consumer saw was whole and the one it expected.")
    @Outcome(id = ".*9.*", expect = FORBIDDEN, desc = "Torn event: fields from different publications, or a half-written slot.")
    @Outcome(id = "3, .*", expect = FORBIDDEN, desc = "Overwrite: the producer reused slot 0 before the consumer had read publication 1.")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: a lost or invented publication.")
    @State
    public static class Production extends Ring {
        public Production() {
            super(true);
        }

        @Actor
        public void producer(IIII_Result r) {
            produce(false, r);
        }

        @Actor
        public void consumer(IIII_Result r) {
            consume(r);
        }
    }

    /**
     * Broken twin: the consumer's sequence is not added as a gating sequence, so the producer laps
     * it and overwrites slot 0 with publication 3 while publication 1 is unread or being read.
     * A missing gate, not a reordering: x86 shows it.
     */
    @JCStressTest
    @Outcome(id = {"0, 0, 0, [23]", "1, 0, 0, [23]", "1, 2, 0, [23]", "1, 2, 3, 3"}, expect = ACCEPTABLE,
            desc = "The consumer happened to read before the producer lapped it.")
    @Outcome(id = "[39], .*", expect = ACCEPTABLE_INTERESTING, desc = "Publication 1 overwritten before or while being read (the bug, caught).")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: only slot 0's first publication is exposed.")
    @State
    public static class BrokenUngated extends Ring {
        public BrokenUngated() {
            super(false);
        }

        @Actor
        public void producer(IIII_Result r) {
            produce(false, r);
        }

        @Actor
        public void consumer(IIII_Result r) {
            consume(r);
        }
    }

    /**
     * Broken twin: the producer publishes before writing the last field, so the consumer can read a
     * half-written event: field c still 0 (first lap) or publication 1's (slot 0 reused). A protocol
     * order bug, visible on x86.
     */
    @JCStressTest
    @Outcome(id = {"0, 0, 0, [23]", "1, 0, 0, [23]", "1, 2, 0, [23]", "1, 2, 3, 3"}, expect = ACCEPTABLE,
            desc = "Every late field store happened to land before the consumer read it.")
    @Outcome(id = ".*9.*", expect = ACCEPTABLE_INTERESTING, desc = "Half-written event read (the bug, caught).")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: the gate still prevents whole-slot overwrites.")
    @State
    public static class BrokenPublishBeforeLastField extends Ring {
        public BrokenPublishBeforeLastField() {
            super(true);
        }

        @Actor
        public void producer(IIII_Result r) {
            produce(true, r);
        }

        @Actor
        public void consumer(IIII_Result r) {
            consume(r);
        }
    }
}
