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
        this.maxRows = maxRows;
        Layer[] layers = net.layers();
        act = new float[layers.length + 1][];
        act[0] = new float[maxRows * net.in()];
        state = new float[layers.length][];
        int maxWidth = 1;
        for (int l = 0; l < layers.length; l++) {
            act[l + 1] = new float[maxRows * layers[l].out()];
            state[l] = new float[layers[l].stateSize(maxRows)];
            maxWidth = Math.max(maxWidth, layers[l].in());
        }
        gradA = new float[maxRows * maxWidth];
        gradB = new float[maxRows * maxWidth];
        dLogits = new float[maxRows * net.out()];
        labels = new int[maxRows];
        targets = new float[maxRows * Math.max(1, targetWidth)];
    }

    /** The input buffer the loader fills: [maxRows, in], row-major. */
    public float[] input() {
        return act[0];
    }

    /** The network's output (logits) for the last forward: [rows, out]. */
    public float[] output() {
        return act[act.length - 1];
    }

    /** Bytes held, for memory accounting. */
    public long bytes() {
        long n = gradA.length + gradB.length + dLogits.length + labels.length + targets.length;
        for (float[] a : act) n += a.length;
        for (float[] s : state) n += s.length;
        return 4 * n;
    }
}
