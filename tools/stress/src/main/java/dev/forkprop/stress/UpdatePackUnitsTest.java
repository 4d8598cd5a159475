package dev.forkprop.stress;

import dev.forkprop.engine.PhaseCountdown;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.model.Network;
import dev.forkprop.model.WeightPacks;
import dev.forkprop.optim.Hyper;
import dev.forkprop.optim.Optimizer;
import dev.forkprop.optim.Optimizers;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Protocol 9, the update phase's unit ownership: each worker applies the optimizer to its run of
 * update units and packs each unit's weights right after ({@code Engine.updateSlice}:
 * {@code opt.update(params, grad, lo, hi)} then {@link WeightPacks#packUnit}), then arrives at the
 * {@link PhaseCountdown}. After {@code await} (and so in the next step's compute, which starts
 * after the coordinator opens the gate) the packs must be exactly those of the updated
 * parameters: every unit updated once and packed after its update, every packed float visible.
 *
 * <p>Network 8-64-64 (two dense layers; the second has a transposed W^T pack), units of one
 * kernel panel of rows ({@code units(trainable, 1)}), split between two workers by
 * {@link WeightPacks#partition}, so the boundary between the workers runs through the second
 * layer's weights: through its forward pack's micro-panels (rows) and between its W^T panels
 * (columns). SGD with lr 1 and gradient 1 everywhere: every parameter drops by exactly 1. Before
 * the step the packs hold the packed old parameters. Result: (floats of the packs that differ
 * from a serial pack of the correctly updated parameters, in the first worker's units / in the
 * second's), counted by the coordinator after {@code await}.
 */
public class UpdatePackUnitsTest {
    static final Network NET = Network.builder(8).dense(64).relu().dense(64).build(); // immutable layout
    static final int TRAINABLE = NET.layout().trainable();
    static final float[] INITIAL = new float[NET.layout().size()];
    static final float[] GRAD = new float[NET.layout().size()];
    /** The packs of the correctly updated parameters, packed serially once. */
    static final WeightPacks EXPECTED = new WeightPacks(NET, Gemms.best());
    /** Which worker's units each packed float comes from (0 or 1), by packing each part alone. */
    static final int[] OWNER;
    static final int[] UNITS = EXPECTED.units(TRAINABLE, 1);
    static final int[] PARTS = EXPECTED.partition(UNITS, 2);

    static {
        for (int i = 0; i < TRAINABLE; i++) INITIAL[i] = (i % 13) * 0.25f - 1f;
        java.util.Arrays.fill(GRAD, 0, TRAINABLE, 1f);
        float[] updated = INITIAL.clone();
        for (int i = 0; i < TRAINABLE; i++) updated[i] -= 1f;
        EXPECTED.pack(updated, 0, 1);
        WeightPacks probe = new WeightPacks(NET, Gemms.best());
        float[] marked = new float[INITIAL.length];
        java.util.Arrays.fill(marked, 1f);
        for (int u = PARTS[1]; u < PARTS[2]; u++) probe.packUnit(marked, UNITS[u], UNITS[u + 1]);
        OWNER = new int[probe.packedLength()];
        for (int i = 0; i < OWNER.length; i++) OWNER[i] = probe.packed(i) == 1f ? 1 : 0;
        if (PARTS[1] == 0 || PARTS[1] == PARTS[2]) throw new AssertionError("both workers must own units: " + java.util.Arrays.toString(PARTS));
    }

    /** One step's parameters, optimizer, packs (holding the old parameters) and barrier. */
    abstract static class Step {
        final float[] params = INITIAL.clone();
        final Optimizer sgd = Optimizers.create("sgd", INITIAL.length, Hyper.DEFAULTS);
        final WeightPacks packs = new WeightPacks(NET, Gemms.best());
        final PhaseCountdown barrier = new PhaseCountdown();

        Step() {
            packs.pack(params, 0, 1);
            sgd.beginStep(1, 1f, 1f);
            barrier.reset(2);
        }

        abstract int firstUnit(int w);

        /** Worker w's update phase, as {@code Engine.updateSlice} runs it. */
        void update(int w) {
            for (int u = firstUnit(w); u < PARTS[w + 1]; u++) {
                sgd.update(params, GRAD, UNITS[u], UNITS[u + 1]);
                packs.packUnit(params, UNITS[u], UNITS[u + 1]);
            }
            barrier.arrive();
        }

        void coordinate(II_Result r) {
            barrier.await();
            int[] wrong = new int[2];
            for (int i = 0; i < OWNER.length; i++) {
                if (Float.floatToRawIntBits(packs.packed(i)) != Float.floatToRawIntBits(EXPECTED.packed(i))) wrong[OWNER[i]]++;
            }
            r.r1 = wrong[0];
            r.r2 = wrong[1];
        }
    }

    @JCStressTest
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The packs are those of the updated parameters, in both workers' units.")
    @Outcome(id = "[1-9][0-9]*, .*", expect = FORBIDDEN, desc = "Worker 0's packed weights are stale, missing or not visible after await.")
    @Outcome(expect = FORBIDDEN, desc = "Worker 1's units packed wrong (stale, updated twice, or not visible).")
    @State
    public static class Production extends Step {
        @Override int firstUnit(int w) { return PARTS[w]; }

        @Actor
        public void worker0() {
            update(0);
        }

        @Actor
        public void worker1ThenCoordinator(II_Result r) {
            update(1);
            coordinate(r);
        }
    }

    /**
     * Broken twin: worker 1's run starts one unit early (an off-by-one in the partition), so the
     * last unit of worker 0 has two owners, and each applies SGD to it. Whatever the interleaving,
     * that unit's parameters drop by 2, or by 1 when one read-modify-write overwrote the other
     * mid-unit; its packs then hold some twice-updated weights: worker 0's count is not 0.
     * Sequential code shows it too; this is ownership, not reordering.
     */
    @JCStressTest
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "Both owners' updates of the shared unit overlapped exactly (hides the bug).")
    @Outcome(id = "[1-9][0-9]*, 0", expect = ACCEPTABLE_INTERESTING, desc = "The shared unit was updated twice (the bug, caught).")
    @Outcome(expect = FORBIDDEN, desc = "Any other count: only the shared unit may be wrong.")
    @State
    public static class BrokenOverlappingUnits extends Step {
        @Override int firstUnit(int w) { return w == 1 ? PARTS[1] - 1 : PARTS[w]; }

        @Actor
        public void worker0() {
            update(0);
        }

        @Actor
        public void worker1ThenCoordinator(II_Result r) {
            update(1);
            coordinate(r);
        }
    }
}
