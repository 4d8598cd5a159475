package dev.forkprop.stress;

import dev.forkprop.engine.Engine;
import dev.forkprop.engine.PhaseCountdown;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.model.Network;
import dev.forkprop.engine.WeightPacks;
import dev.forkprop.optim.Hyper;
import dev.forkprop.optim.Optimizer;
import dev.forkprop.optim.Optimizers;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Protocol 9, the update phase's unit claims: each worker runs
 * {@link Engine#updateClaimedUnits}, which claims update units from a shared counter (one
 * {@code getAndIncrement} each), applies the optimizer to the unit's parameters and packs its
 * weights right after ({@link WeightPacks#packUnit}); then it arrives at the
 * {@link PhaseCountdown}. After {@code await} (and so in the next step's compute, which starts
 * after the coordinator opens the gate) the packs must be exactly those of the updated
 * parameters: every unit claimed once, updated once and packed after its update, every packed
 * float visible.
 *
 * <p>Network 8-64-64 (two dense layers; the second has a transposed W^T pack), units of one
 * kernel panel of rows ({@code units(trainable, 1)}): five units with AVX-512 (seven with
 * AVX2), two (four) of them in the second layer's weights, whichever worker claims them. SGD with lr 1 and gradient 1 everywhere: every
 * parameter drops by exactly 1. Before the step the packs hold the packed old parameters.
 * Result: (packed floats that differ from a serial pack of the correctly updated parameters,
 * parameters that did not drop by exactly 1), read by the coordinator after {@code await}: a
 * unit claimed twice shows as parameters that dropped by 2, one never claimed as unchanged ones.
 */
public class UpdatePackUnitsTest {
    static final Network NET = Network.builder(8).dense(64).relu().dense(64).build(); // immutable layout
    static final int TRAINABLE = NET.layout().trainable();
    static final float[] INITIAL = new float[NET.layout().size()];
    static final float[] GRAD = new float[NET.layout().size()];
    /** The packs of the correctly updated parameters, packed serially once. */
    static final WeightPacks EXPECTED = new WeightPacks(NET, Gemms.best());
    static final int[] UNITS = EXPECTED.units(TRAINABLE, 1);

    static {
        for (int i = 0; i < TRAINABLE; i++) INITIAL[i] = (i % 13) * 0.25f - 1f;
        java.util.Arrays.fill(GRAD, 0, TRAINABLE, 1f);
        float[] updated = INITIAL.clone();
        for (int i = 0; i < TRAINABLE; i++) updated[i] -= 1f;
        EXPECTED.pack(updated, 0, 1);
        if (UNITS.length - 1 < 4) throw new AssertionError("too few units to share: " + java.util.Arrays.toString(UNITS));
    }

    /** One step's parameters, optimizer, packs (holding the old parameters), claim counter and barrier. */
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

        /** Worker w's update phase. */
        abstract void update(int w);

        void coordinate(II_Result r) {
            barrier.await();
            int wrong = 0;
            for (int i = 0; i < EXPECTED.packedLength(); i++) {
                if (Float.floatToRawIntBits(packs.packed(i)) != Float.floatToRawIntBits(EXPECTED.packed(i))) wrong++;
            }
            int off = 0;
            for (int i = 0; i < TRAINABLE; i++) if (params[i] != INITIAL[i] - 1f) off++;
            r.r1 = wrong;
            r.r2 = off;
        }
    }

    @JCStressTest
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "Every unit claimed once; the packs are those of the updated parameters.")
    @Outcome(id = "[0-9]+, [1-9][0-9]*", expect = FORBIDDEN, desc = "A unit claimed twice or never, or its parameters not visible after await.")
    @Outcome(expect = FORBIDDEN, desc = "Packed weights stale, missing or not visible after await.")
    @State
    public static class Production extends Step {
        final AtomicInteger next = new AtomicInteger();

        @Override
        void update(int w) {
            Engine.updateClaimedUnits(sgd, packs, params, GRAD, UNITS, next);
            barrier.arrive();
        }

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
     * Broken twin: the claim is a plain read and write of a shared int instead of an atomic
     * increment, so both workers can take the same unit. A unit taken twice is updated twice
     * (its parameters drop by 2, and its packs, packed last after both updates, hold that), or
     * once when the two read-modify-writes overlap exactly (which hides the bug).
     */
    @JCStressTest
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The claims did not collide (hides the bug).")
    @Outcome(id = "[0-9]+, [1-9][0-9]*", expect = ACCEPTABLE_INTERESTING, desc = "A unit claimed by both workers (the bug, caught).")
    @Outcome(expect = FORBIDDEN, desc = "Packs wrong with every parameter right: not a claim race.")
    @State
    public static class BrokenPlainClaim extends Step {
        int next; // plain: the bug

        @Override
        void update(int w) {
            final int count = UNITS.length - 1;
            for (int u; (u = next) < count; ) {
                next = u + 1;
                sgd.update(params, GRAD, UNITS[u], UNITS[u + 1]);
                packs.packUnit(params, UNITS[u], UNITS[u + 1]);
            }
            barrier.arrive();
        }

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
