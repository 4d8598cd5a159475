package dev.forkprop.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.forkprop.model.DirectProducts;
import dev.forkprop.model.Init;
import dev.forkprop.model.Network;
import dev.forkprop.model.ShardContext;
import dev.forkprop.model.Workspace;
import dev.forkprop.kernels.Gemm;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.kernels.ScalarGemm;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A forward and backward through pre-packed weights gives exactly the bits of the same pass that
 * packs inside every product, however the packing is split into parts, for awkward widths (primes,
 * 1, non-multiples of the kernel's panel width) and a dense layer behind a non-dense first layer.
 */
class WeightPacksTest {

    @Test
    void packedPassEqualsUnpackedPassBitwise() {
        for (Gemm g : new Gemm[] {Gemms.best(), ScalarGemm.INSTANCE}) {
            Network net = Network.builder(37).dense(33).relu().dense(1).tanh().dense(65).layerNorm().dense(7).build();
            check(net, g, 13, 1);
            check(net, g, 13, 3);
            check(Network.builder(20).dropout(0.1f).dense(31).relu().dense(5).build(), g, 4, 2);
        }
    }

    /**
     * Parts do about equal work, not equal numbers of panels: for 784-1024-1024-10 (panels of 784,
     * 1024 and 10 rows; a W^T panel's row costs 6, a W panel's 5) each of 2..5 parts is within one
     * panel of an equal share, and the parts cover every panel once, in order.
     */
    @Test
    void partsPackEqualWork() {
        Gemm g = Gemms.best();
        Network net = Network.builder(784).dense(1024).relu().dense(1024).relu().dense(10).build();
        WeightPacks packs = new WeightPacks(net, g);
        long[] rowsOfPanel = new long[(int) packs.panelAt(1, 1)];
        int at = 0;
        for (int[] form : new int[][] {{784, 1024, 5}, {1024, 1024, 5}, {1024, 1024, 6}, {1024, 10, 5}, {10, 1024, 6}}) { // {k, n, cost}
            for (int panel = 0; panel < (form[1] + g.packBAlign() - 1) / g.packBAlign(); panel++) rowsOfPanel[at++] = (long) form[0] * form[2];
        }
        assertEquals(rowsOfPanel.length, at, "panel count");
        long total = 0;
        for (long r : rowsOfPanel) total += r;
        for (int parts = 2; parts <= 5; parts++) {
            assertEquals(0, packs.panelAt(0, parts));
            assertEquals(rowsOfPanel.length, packs.panelAt(parts, parts));
            for (int part = 0; part < parts; part++) {
                long work = 0;
                for (long q = packs.panelAt(part, parts); q < packs.panelAt(part + 1, parts); q++) work += rowsOfPanel[(int) q];
                assertEquals(total / (double) parts, work, 6 * 1024, parts + " parts, part " + part + ": cost of its panels");
            }
        }
    }

    /**
     * The update units tile [0, trainable) without gaps, each either whole aligned weight rows of
     * one dense layer or no weights at all; packing every unit (in reverse order, as workers would
     * finish) writes exactly the packs that {@link WeightPacks#pack} writes, for awkward widths,
     * norm layers between dense ones, and a layer wider than one unit.
     */
    @Test
    void packingEveryUpdateUnitIsTheWholePack() {
        for (Gemm g : new Gemm[] {Gemms.best(), ScalarGemm.INSTANCE}) {
            for (Network net : new Network[] {
                    Network.builder(37).dense(33).relu().dense(1).tanh().dense(65).layerNorm().dense(7).build(),
                    Network.builder(20).dropout(0.1f).dense(31).batchNorm().relu().dense(5).build(),
                    Network.builder(300).dense(1031).relu().dense(10).build()}) {
                float[] params = net.newParams(), buffers = net.newBuffers();
                net.init(params, buffers, Init.HE_NORMAL, 3);
                WeightPacks whole = new WeightPacks(net, g), byUnit = new WeightPacks(net, g);
                whole.pack(params, 0, 1);
                java.util.Arrays.fill(byUnit.data, Float.NaN);
                int trainable = net.layout().trainable();
                int[] units = byUnit.units(trainable);
                assertEquals(0, units[0]);
                assertEquals(trainable, units[units.length - 1]);
                for (int u = units.length - 2; u >= 0; u--) {
                    org.junit.jupiter.api.Assertions.assertTrue(units[u] < units[u + 1], "unit " + u + " is empty");
                    byUnit.packUnit(params, units[u], units[u + 1]);
                }
                assertArrayEquals(whole.data, byUnit.data, g.name() + " " + net.spec());
                // Each unit alone writes its own floats: no two units write the same packed
                // float (workers pack units concurrently), and together they write every one.
                int[] writer = new int[whole.data.length];
                java.util.Arrays.fill(writer, -1);
                for (int u = 0; u + 1 < units.length; u++) {
                    WeightPacks alone = new WeightPacks(net, g);
                    java.util.Arrays.fill(alone.data, Float.NaN);
                    alone.packUnit(params, units[u], units[u + 1]);
                    for (int i = 0; i < alone.data.length; i++) {
                        if (Float.isNaN(alone.data[i])) continue;
                        assertEquals(-1, writer[i], g.name() + " " + net.spec() + ": packed float " + i + " written by units "
                                + writer[i] + " and " + u);
                        writer[i] = u;
                    }
                }
                for (int i = 0; i < writer.length; i++) {
                    assertTrue(writer[i] >= 0, g.name() + " " + net.spec() + ": packed float " + i + " written by no unit");
                }
            }
        }
        // 300 x 1031: 16 rows hold UNIT_FLOATS, rounded up to whole panels of the kernel's alignment.
        Network wide = Network.builder(300).dense(1031).relu().dense(10).build();
        int align = Gemms.best().packBAlign();
        int[] units = new WeightPacks(wide, Gemms.best()).units(wide.layout().trainable());
        assertEquals((16 + align - 1) / align * align * 1031, units[1] - units[0], "first unit of the 300 x 1031 weights");
    }

    private static void check(Network net, Gemm g, int rows, int parts) {
        float[] params = net.newParams(), buffers = net.newBuffers();
        net.init(params, buffers, Init.HE_NORMAL, 3);
        WeightPacks packs = new WeightPacks(net, g);
        // Parts packed in reverse order, as different workers would finish in any order.
        for (int part = parts - 1; part >= 0; part--) packs.pack(params, part, parts);
        float[][] grads = new float[2][];
        float[][] outs = new float[2][];
        for (int variant = 0; variant < 2; variant++) {
            Workspace w = net.newWorkspace(rows, 1);
            ShardContext p = new ShardContext(variant == 0 ? new DirectProducts(g) : new EngineProducts(g, packs));
            p.params = params;
            p.buffers = buffers;
            p.train = true;
            p.seed = 9;
            p.step = 1;
            SplittableRandom rnd = new SplittableRandom(5);
            for (int i = 0; i < rows * net.in(); i++) w.input()[i] = (float) rnd.nextGaussian();
            net.forward(p, w, rows);
            for (int i = 0; i < rows * net.out(); i++) w.dLogits[i] = (float) rnd.nextGaussian();
            grads[variant] = net.newParams();
            net.backward(p, w, rows, grads[variant]);
            outs[variant] = w.output().clone();
        }
        assertArrayEquals(outs[0], outs[1], g.name() + " forward, " + parts + " parts");
        assertArrayEquals(grads[0], grads[1], g.name() + " backward, " + parts + " parts");
        assertEquals(net.layout().size(), grads[1].length);
    }
}
