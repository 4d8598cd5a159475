package dev.forkprop.stress;

import dev.forkprop.engine.PhaseCountdown;
import dev.forkprop.engine.ShardPlan;
import dev.forkprop.kernels.Vec;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.FFFF_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Protocol 3, slice ownership in the reduce-scatter: each worker sums every shard's gradient into
 * {@code grads[0]} over its own slice of the {@link ShardPlan}, exactly as {@code Engine.reduceSlice}
 * does ({@code Vec.sumInto(grads, shards, sliceStart(w), sliceEnd(w), grads[0])}), then arrives at
 * the {@link PhaseCountdown}. After {@code await} every index must hold each shard's contribution
 * exactly once.
 *
 * <p>Plan: size {@code 2 * BLOCK}, two shards, two threads, so worker 0 owns block 0 and worker 1
 * owns block 1. Shard s holds {@code s + 1} everywhere, so a correct total is 3; a lost
 * contribution shows as 1 or 2, a double-counted one as 5. Result: {@code grads[0]} at 0,
 * {@code BLOCK - 1}, {@code BLOCK}, {@code 2 * BLOCK - 1}: both sides of the slice boundary and
 * both ends. Worker 1's thread also coordinates (two actors at most on two CPUs; see
 * {@link PhaseCountdownVisibilityTest}).
 */
public class ReduceScatterSliceTest {
    static final int SIZE = 2 * ShardPlan.BLOCK;
    static final ShardPlan PLAN = new ShardPlan(2, 2, 2, SIZE); // immutable: shared by all states

    /** Shard buffers and the barrier of one step; worker slices come from {@code slices}. */
    abstract static class Step {
        final float[][] grads = new float[2][SIZE];
        final PhaseCountdown barrier = new PhaseCountdown();

        Step() {
            java.util.Arrays.fill(grads[0], 1f);
            java.util.Arrays.fill(grads[1], 2f);
            barrier.reset(2);
        }

        abstract int sliceStart(int w);

        abstract int sliceEnd(int w);

        void reduce(int w) {
            Vec.sumInto(grads, PLAN.shards, sliceStart(w), sliceEnd(w), grads[0]);
            barrier.arrive();
        }

        void coordinate(FFFF_Result r) {
            barrier.await();
            final float[] sum = grads[0];
            r.r1 = sum[0];
            r.r2 = sum[ShardPlan.BLOCK - 1];
            r.r3 = sum[ShardPlan.BLOCK];
            r.r4 = sum[SIZE - 1];
        }
    }

    @JCStressTest
    @Outcome(id = "3.0, 3.0, 3.0, 3.0", expect = ACCEPTABLE, desc = "Every checked index holds both shards' contributions exactly once.")
    @Outcome(id = ".*5\\.0.*", expect = FORBIDDEN, desc = "Double-counted: an index was reduced by both workers.")
    @Outcome(id = ".*[12]\\.0.*", expect = FORBIDDEN, desc = "Lost: an index was not reduced, or its sum is not visible after await.")
    @Outcome(expect = FORBIDDEN, desc = "Any other value.")
    @State
    public static class Production extends Step {
        @Override int sliceStart(int w) { return PLAN.sliceStart(w); }
        @Override int sliceEnd(int w) { return PLAN.sliceEnd(w); }

        @Actor
        public void worker0() {
            reduce(0);
        }

        @Actor
        public void worker1ThenCoordinator(FFFF_Result r) {
            reduce(1);
            coordinate(r);
        }
    }

    /**
     * Broken twin: worker 1's slice starts one element early (an off-by-one in the slice
     * arithmetic), so index {@code BLOCK - 1} has two owners. Both read-modify-write it: either
     * one sees the other's result (5, double-counted) or both read the original 1 and the later
     * store wins (3, the race hiding the bug). x86 cannot hide this; it is not a reordering.
     */
    @JCStressTest
    @Outcome(id = "3.0, 3.0, 3.0, 3.0", expect = ACCEPTABLE, desc = "The two owners' read-modify-writes overlapped and one overwrote the other (hides the bug).")
    @Outcome(id = "3.0, 5.0, 3.0, 3.0", expect = ACCEPTABLE_INTERESTING, desc = "Double-counted at the slice boundary (the bug, caught).")
    @Outcome(expect = FORBIDDEN, desc = "Any other value: only the shared index may be wrong.")
    @State
    public static class BrokenOverlappingSlices extends Step {
        @Override int sliceStart(int w) { return w == 1 ? PLAN.sliceStart(1) - 1 : PLAN.sliceStart(w); }
        @Override int sliceEnd(int w) { return PLAN.sliceEnd(w); }

        @Actor
        public void worker0() {
            reduce(0);
        }

        @Actor
        public void worker1ThenCoordinator(FFFF_Result r) {
            reduce(1);
            coordinate(r);
        }
    }
}
