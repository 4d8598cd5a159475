package dev.forkprop.stress;

import dev.forkprop.engine.PhaseCountdown;
import dev.forkprop.engine.ShardPlan;
import dev.forkprop.kernels.Vec;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.DDD_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Protocol 4, the global scalar reduction (the gradient norm for clipping): each worker writes
 * {@code Vec.sumOfSquares} of each of its blocks into that block's {@code double} slot
 * ({@code Engine.blockSq}), then arrives; the coordinator, after {@code await}, sums the slots in
 * block order. Slots hold the previous step's values when a step starts, so a missing write shows
 * as the stale value, here -1 (an impossible sum of squares), and an unwritten slot as 0 where the
 * array is fresh.
 *
 * <p>Gradient: block 0 all 1.0, block 1 all 2.0, so the partials are 4096 and 16384 and the norm
 * squared 20480. Result: (slot 0, slot 1, their sum in block order) as the coordinator reads them.
 * The gradient is read-only here, so one copy is shared by every state.
 */
public class BlockNormReductionTest {
    static final int SIZE = 2 * ShardPlan.BLOCK;
    static final ShardPlan PLAN = new ShardPlan(2, 2, 2, SIZE);
    static final float[] GRAD = new float[SIZE];
    static {
        java.util.Arrays.fill(GRAD, 0, ShardPlan.BLOCK, 1f);
        java.util.Arrays.fill(GRAD, ShardPlan.BLOCK, SIZE, 2f);
    }

    /** Worker w's part of {@code Engine.reduceSlice}: one partial per owned block. */
    static void partials(int w, double[] blockSq) {
        final int lo = PLAN.sliceStart(w), hi = PLAN.sliceEnd(w);
        for (int b = lo / ShardPlan.BLOCK, from = lo; from < hi; b++, from += ShardPlan.BLOCK) {
            blockSq[b] = Vec.sumOfSquares(GRAD, from, Math.min(hi, from + ShardPlan.BLOCK));
        }
    }

    static void sumInBlockOrder(double[] blockSq, DDD_Result r) {
        final double p0 = blockSq[0], p1 = blockSq[1]; // each slot read once
        r.r1 = p0;
        r.r2 = p1;
        r.r3 = p0 + p1; // block order
    }

    @JCStressTest
    @Outcome(id = "4096.0, 16384.0, 20480.0", expect = ACCEPTABLE, desc = "Both partials current; the norm squared is exact.")
    @Outcome(id = "-1.0, .*", expect = FORBIDDEN, desc = "Stale: worker 0's partial from the previous step was summed.")
    @Outcome(id = "0.0, .*", expect = FORBIDDEN, desc = "Missing: worker 0's partial is not visible after await.")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: a wrong, stale or missing partial.")
    @State
    public static class Production {
        final PhaseCountdown barrier = new PhaseCountdown();
        final double[] blockSq = {-1, -1}; // the previous step's partials

        public Production() {
            barrier.reset(2);
        }

        @Actor
        public void worker0() {
            partials(0, blockSq);
            barrier.arrive();
        }

        @Actor
        public void worker1ThenCoordinator(DDD_Result r) {
            partials(1, blockSq);
            barrier.arrive();
            barrier.await();
            sumInBlockOrder(blockSq, r);
        }
    }

    /**
     * Broken twin: the coordinator sums the partials without awaiting the barrier (say, a refactor
     * that computes the norm before {@code Engine.run} has waited), so it can sum worker 0's stale
     * -1. A missing wait, not a reordering: x86 shows it.
     */
    @JCStressTest
    @Outcome(id = "4096.0, 16384.0, 20480.0", expect = ACCEPTABLE, desc = "Worker 0 happened to finish first.")
    @Outcome(id = "-1.0, 16384.0, 16383.0", expect = ACCEPTABLE_INTERESTING, desc = "Stale partial summed: the coordinator did not wait for worker 0 (the bug, caught).")
    @Outcome(expect = FORBIDDEN, desc = "Any other value.")
    @State
    public static class BrokenNoWait {
        final PhaseCountdown barrier = new PhaseCountdown();
        final double[] blockSq = {-1, -1};

        public BrokenNoWait() {
            barrier.reset(2);
        }

        @Actor
        public void worker0() {
            partials(0, blockSq);
            barrier.arrive();
        }

        @Actor
        public void worker1ThenCoordinator(DDD_Result r) {
            partials(1, blockSq);
            barrier.arrive();
            sumInBlockOrder(blockSq, r); // no await
        }
    }
}
