package dev.forkprop.data;

/**
 * One preallocated slot of the {@link SpscBatchPrefetch} ring: one minibatch, its rows in the
 * epoch's shuffled order, features already normalised. Plain arrays written in place by the loader
 * and read in place by the trainer's workers; not a value object and not meant to be kept past
 * {@link #release()}.
 *
 * <p>Ownership: between the loader's claim and its publication only the loader thread writes a
 * slot; from {@link SpscBatchPrefetch#take()} until {@link #release()} only the consumer (the
 * training coordinator and, during its compute phase, the engine's workers) reads it; after the
 * release the loader may overwrite it. Every array element of the first {@link #rows} rows is
 * overwritten on each fill.
 *
 * <p>Memory consistency effects: the loader's plain writes to a slot happen-before the consumer's
 * reads of it (release store of the ring's cursor in publish, acquire load of it in {@code take});
 * the consumer's reads happen-before the loader's next writes to the slot (the store of the
 * gating sequence in {@code release}, the acquire load of it in the loader's claim).
 */
public final class BatchSlot {
    /** features: [rows, featureDim], row-major, as {@link Dataset#features} writes them. */
    public final float[] features;
    /** labels: [rows] class indices (classification); empty for regression. */
    public final int[] labels;
    /** targets: [rows, targetDim], row-major (regression); empty for classification. */
    public final float[] targets;
    /** Rows per batch, floats per row of {@link #features} and of {@link #targets}. */
    public final int rows, featureDim, targetDim;

    private final SpscBatchPrefetch owner;
    // Position, written by the loader with the rows.
    int epoch, index;
    // The ring sequence it was taken at: consumer bookkeeping for release.
    long sequence;

    BatchSlot(SpscBatchPrefetch owner, int rows, int featureDim, boolean classification, int targetDim) {
        this.owner = owner;
        this.rows = rows;
        this.featureDim = featureDim;
        this.targetDim = targetDim;
        this.features = new float[rows * featureDim];
        this.labels = new int[classification ? rows : 0];
        this.targets = new float[classification ? 0 : rows * targetDim];
    }

    /** 0-based epoch this batch belongs to. */
    public int epoch() {
        return epoch;
    }

    /** 0-based batch index within its epoch. */
    public int index() {
        return index;
    }

    /** Hands the slot back to the loader; see {@link SpscBatchPrefetch#release(BatchSlot)}. */
    public void release() {
        owner.release(this);
    }
}
