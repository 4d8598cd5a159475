package dev.forkprop.engine;

import dev.forkprop.kernels.Gemm;
import dev.forkprop.model.Dense;
import dev.forkprop.model.Layer;
import dev.forkprop.model.Network;

/**
 * The dense layers' weights pre-packed for the kernel ({@link Gemm#packB}), shared read-only by
 * every worker of a step: {@code W} as the B operand of the forward product {@code Y = X W}, and
 * {@code W^T} as the B operand of {@code dX = dY W^T} (not for layer 0, whose dX is never needed).
 *
 * <p>Why: without it every shard's forward and backward repacks every weight matrix (a transpose,
 * for {@code W^T}); with T workers that is T copies of work that does not shrink with T, plus more
 * with more shards than threads. Packed once per step, it costs one pass over the weights in
 * all: by the update, unit by unit ({@link #packUnit}, rows of W), as it changes the weights, or
 * by a pack of all panels split across the workers ({@link #pack}). Memory: about twice the
 * weights.
 *
 * <p>Thread contract: {@link #pack} with parts {@code 0..parts-1} may run concurrently on
 * different threads (they write disjoint panels); the packed data must be published to the
 * readers by the caller (the engine's phase barrier) before any forward or backward reads it,
 * and must not be read while a pack runs.
 */
public final class WeightPacks {
    private final Gemm gemm;
    private final Dense[] dense;
    /** Per dense layer: offsets of the forward (W) and backward (W^T, or -1) packs in {@link #data}. */
    private final long[] fwdOff, bwdOff;
    /** Per (dense layer, form): first global panel; the last entry is the panel count. */
    private final long[] panelStart;
    private final int align;
    final float[] data;

    public WeightPacks(Network net, Gemm gemm) {
        this(net, gemm, true);
    }

    /** Bytes the packs of {@code net} for {@code gemm} would hold, without allocating them (memory check). */
    public static long bytes(Network net, Gemm gemm) {
        return 4 * new WeightPacks(net, gemm, false).size;
    }

    private final long size;

    private WeightPacks(Network net, Gemm gemm, boolean allocate) {
        this.gemm = gemm;
        this.align = gemm.packBAlign();
        Layer[] layers = net.layers();
        int count = 0;
        for (Layer l : layers) if (l instanceof Dense) count++;
        dense = new Dense[count];
        fwdOff = new long[count];
        bwdOff = new long[count];
        panelStart = new long[2 * count + 1];
        long size = 0, panels = 0;
        for (int l = 0, d = 0; l < layers.length; l++) {
            if (!(layers[l] instanceof Dense layer)) continue;
            dense[d] = layer;
            assert layer.denseIndex() == d : "Network numbers its dense layers in order";
            fwdOff[d] = size;
            size += gemm.packedBSize(layer.in(), layer.out());
            panelStart[2 * d] = panels;
            panels += (layer.out() + align - 1) / align;
            panelStart[2 * d + 1] = panels;
            if (l > 0) {
                bwdOff[d] = size;
                size += gemm.packedBSize(layer.out(), layer.in());
                panels += (layer.in() + align - 1) / align;
            } else {
                bwdOff[d] = -1;
            }
            d++;
        }
        panelStart[2 * count] = panels;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("packed weights need " + size + " floats, more than one array holds");
        }
        this.size = size;
        data = allocate ? new float[(int) size] : null;
    }

    public Gemm gemm() { return gemm; }

    /**
     * A unit of the update-and-pack partition that lies in a weight matrix holds at least this
     * many floats, unless the matrix ends first (whole rows, a multiple of the pack alignment):
     * with its gradient and Adam moments at least 256 KiB (512 KiB for 32 rows of a 1024-wide
     * layer), small enough to stay in L2 while it is packed right after its update.
     */
    static final int UNIT_FLOATS = 16_384;

    /**
     * Boundaries of the update units of {@code [0, trainable)}: {@code units[u]} to
     * {@code units[u + 1]} is unit u, either rows {@code [r0, r1)} of one dense layer's weight
     * matrix, with {@code r0} and {@code r1} multiples of {@link Gemm#packBAlign} (or the last
     * row), or a stretch holding no weights at all (biases, norm parameters, alignment gaps).
     * A worker that has updated a unit's parameters packs them with {@link #packUnit}; packing
     * every unit gives the same packs as {@link #pack} over all parts.
     */
    public int[] units(int trainable) {
        return units(trainable, UNIT_FLOATS);
    }

    /** {@link #units(int)} with weight units of at least {@code minFloats} (tests: many small units). */
    public int[] units(int trainable, int minFloats) {
        int[] bounds = new int[16];
        int n = 0;
        int at = 0;
        for (Dense l : dense) {
            final int w = l.weightOffset(), in = l.in(), out = l.out();
            if (w > at) bounds = add(bounds, n++, at);
            final int rows = ((Math.max(1, minFloats) + out - 1) / out + align - 1) / align * align;
            for (int r = 0; r < in; r += rows) bounds = add(bounds, n++, w + r * out);
            at = w + in * out;
        }
        if (trainable > at) bounds = add(bounds, n++, at);
        bounds = add(bounds, n++, Math.max(at, trainable));
        return java.util.Arrays.copyOf(bounds, n);
    }

    private static int[] add(int[] a, int n, int v) {
        if (n == a.length) a = java.util.Arrays.copyOf(a, 2 * n);
        a[n] = v;
        return a;
    }

    /** Floats of packed weights; with {@link #packed(int)}, for checks (tests, jcstress). */
    public int packedLength() { return data.length; }

    /** Packed float {@code i}, read without synchronisation: the caller publishes the packs. */
    public float packed(int i) { return data[i]; }

    /**
     * Packs unit {@code [from, to)} of {@link #units} from {@code params}: the weight rows it holds
     * into the forward pack ({@link Gemm#packBRows}) and, as columns of W^T, into the backward
     * pack. A unit without weights packs nothing. Units are disjoint in the packs, so different
     * threads may pack different units at once. Allocates nothing.
     */
    public void packUnit(float[] params, int from, int to) {
        for (int d = 0; d < dense.length; d++) {
            final Dense l = dense[d];
            final int w = l.weightOffset(), in = l.in(), out = l.out();
            if (from < w || from >= w + in * out) continue;
            final int r0 = (from - w) / out, r1 = (to - w) / out;
            gemm.packBRows(in, out, r0, r1, params, w, out, data, (int) fwdOff[d]);
            if (bwdOff[d] >= 0) gemm.packB(true, out, in, r0, r1, params, w, out, data, (int) bwdOff[d]);
            return;
        }
    }

    /** Bytes held, for memory accounting. */
    public long bytes() { return 4L * data.length; }

    int forwardOffset(int denseIndex) { return (int) fwdOff[denseIndex]; }

    /** Offset of layer's W^T pack, or -1 when it has none (the first layer). */
    int backwardOffset(int denseIndex) { return (int) bwdOff[denseIndex]; }

    /**
     * Packs part {@code part} of {@code parts} of every dense layer's weights from {@code params}:
     * a contiguous run of the panels of all layers and both forms, in order, cut so that every
     * part does about the same work (see {@link #panelAt}).
     */
    public void pack(float[] params, int part, int parts) {
        final long g0 = panelAt(part, parts), g1 = panelAt(part + 1, parts);
        for (int d = 0; d < dense.length; d++) {
            final Dense l = dense[d];
            final int w = l.weightOffset(), in = l.in(), out = l.out();
            // Forward form: op(B) = W [in, out], so k = in, n = out.
            packRange(g0, g1, panelStart[2 * d], panelStart[2 * d + 1], false, in, out, params, w, out, fwdOff[d]);
            if (bwdOff[d] >= 0) {
                // Backward form: op(B) = W^T [out, in], stored as W [in, out]: k = out, n = in.
                packRange(g0, g1, panelStart[2 * d + 1], panelStart[2 * d + 2], true, out, in, params, w, out, bwdOff[d]);
            }
        }
    }

    /**
     * The first panel of part {@code part} of {@code parts}: where the cost of the panels before it
     * reaches {@code part / parts} of the total ({@link #panelCost}). Panels hold k x align floats, and k differs between forms
     * (784 x 32 for a first layer's W, 10 x 32 for a logit layer's W^T), so equal panel counts
     * would be unequal work: 1.85M against 1.09M floats for 784-1024-1024-10 at 2 workers. Monotone
     * in {@code part}, 0 for part 0 and the panel count for part {@code parts}; no allocation.
     */
    long panelAt(int part, int parts) {
        long total = 0;
        for (int f = 0; f < 2 * dense.length; f++) total += panelCost(f) * (panelStart[f + 1] - panelStart[f]);
        final long target = total * part / parts;
        long done = 0;
        for (int f = 0; f < 2 * dense.length; f++) {
            final long c = panelCost(f), panels = panelStart[f + 1] - panelStart[f];
            if (panels > 0 && target <= done + c * panels) return panelStart[f] + (target - done + c - 1) / c;
            done += c * panels;
        }
        return panelStart[panelStart.length - 1];
    }

    /**
     * The cost of one panel of form {@code f} (2d: layer d's W, 2d+1: its W^T): its rows, times 5
     * for W and 6 for W^T, whose transposing pack takes about 1.2x as long per float (VectorGemm,
     * cold 1024 x 1024: 0.32 ms for W, 0.38 ms for W^T).
     */
    private long panelCost(int f) {
        Dense l = dense[f / 2];
        return f % 2 == 0 ? 5L * l.in() : 6L * l.out();
    }

    private void packRange(long g0, long g1, long p0, long p1, boolean trans, int k, int n,
                           float[] b, int bOff, int ldb, long off) {
        long lo = Math.max(g0, p0), hi = Math.min(g1, p1);
        if (lo >= hi) return;
        int n0 = (int) (lo - p0) * align, n1 = (int) Math.min(n, (hi - p0) * align);
        gemm.packB(trans, k, n, n0, n1, b, bOff, ldb, data, (int) off);
    }
}
