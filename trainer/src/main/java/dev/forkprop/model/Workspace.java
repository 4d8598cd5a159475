package dev.forkprop.model;

/**
 * One worker's activation memory for shards of up to {@link #maxRows} rows: every layer's output
 * (kept for backward), every layer's per-shard state, two ping-pong buffers for activation
 * gradients, the loss gradient, and the shard's targets.
 *
 * <p>Confined to one thread at a time; allocated once per (network, shard size) and then reused
 * for every shard and step, so a step allocates nothing.
 */
public final class Workspace {
    public final int maxRows;
    /** act[0]: the input [maxRows, in]; act[l+1]: output of layer l, [maxRows, dims[l+1]]. */
    public final float[][] act;
    /** Per-layer state (dropout masks, normalisation statistics). */
    final float[][] state;
    /** Ping-pong activation gradients, [maxRows, max hidden width] each. */
    final float[] gradA, gradB;
    /** d loss / d logits: [maxRows, out]. */
    public final float[] dLogits;
    /** Class labels of the shard's rows (classification). */
    public final int[] labels;
    /** Real-valued targets, [maxRows, targetWidth] (regression, multi-label). */
    public final float[] targets;

    Workspace(Network net, int maxRows, int targetWidth) {
        bytes(net, maxRows, targetWidth); // checks every size below fits in an array
        this.maxRows = maxRows;
        Layer[] layers = net.layers();
        act = new float[layers.length + 1][];
        act[0] = new float[maxRows * net.in()];
        state = new float[layers.length][];
        for (int l = 0; l < layers.length; l++) {
            act[l + 1] = new float[maxRows * layers[l].out()];
            state[l] = new float[(int) layers[l].stateSize(maxRows)];
        }
        gradA = new float[maxRows * maxWidth(layers)];
        gradB = new float[maxRows * maxWidth(layers)];
        dLogits = new float[maxRows * net.out()];
        labels = new int[maxRows];
        targets = new float[maxRows * Math.max(1, targetWidth)];
    }

    private static int maxWidth(Layer[] layers) {
        int w = 1;
        for (Layer l : layers) w = Math.max(w, l.in());
        return w;
    }

    /**
     * Bytes a workspace for {@code maxRows} rows would hold, computed without allocating (for the
     * memory check before a run). Throws IllegalArgumentException naming the buffer when one
     * would not fit in a Java array (rows x width past 2^31 - 1).
     */
    public static long bytes(Network net, int maxRows, int targetWidth) {
        Layer[] layers = net.layers();
        long n = fits("the input", maxRows, (long) maxRows * net.in()) + 2 * fits("the activation gradients", maxRows, (long) maxRows * maxWidth(layers))
                + fits("the loss gradient", maxRows, (long) maxRows * net.out()) + maxRows
                + fits("the targets", maxRows, (long) maxRows * Math.max(1, targetWidth));
        for (Layer l : layers) {
            n += fits("the output of " + l.spec(), maxRows, (long) maxRows * l.out()) + fits("the state of " + l.spec(), maxRows, l.stateSize(maxRows));
        }
        return 4 * n;
    }

    private static long fits(String what, int rows, long floats) {
        if (floats > ParamLayout.MAX_SIZE) {
            throw new IllegalArgumentException(what + " for a shard of " + rows + " rows would be " + floats
                    + " floats, more than one array holds: use a smaller --batch, or more --threads or --shards");
        }
        return floats;
    }

    /** The input buffer the loader fills: [maxRows, in], row-major. */
    public float[] input() {
        return act[0];
    }

    /** The network's output (logits) for the last forward: [rows, out]. */
    public float[] output() {
        return act[act.length - 1];
    }

    /** Bytes held, for memory accounting (equals {@link #bytes(Network, int, int)}). */
    public long bytes() {
        long n = gradA.length + gradB.length + dLogits.length + labels.length + targets.length;
        for (float[] a : act) n += a.length;
        for (float[] s : state) n += s.length;
        return 4 * n;
    }
}
