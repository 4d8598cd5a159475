package dev.forkprop.data;

/**
 * One preallocated slot of the {@link SpscBatchPrefetch} ring: one minibatch, its rows in the
 * epoch's shuffled order. Plain arrays written in place by the loader and read in place by the
 * trainer's workers; not a value object and not meant to be kept past {@link #release()}.
 *
 * <p>Features travel in the form that is cheapest for the loader: an image dataset's rows as its
 * raw pixel bytes ({@link #pixels}; each worker normalises its own rows while it copies them into
 * its workspace, see {@link #copyFeatures}), other datasets' rows as floats ({@link #features}).
 * The loader is one thread; normalising every pixel there (0.17 ms per 256 MNIST rows) would take
 * a core from a worker in the middle of each step, and a 2-core step would wait for it at the
 * barrier.
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
    /** features: [rows, featureDim], row-major, as {@link Dataset#features} writes them; empty when {@link #pixels} holds them. */
    public final float[] features;
    /** An image dataset's rows as raw pixels, [rows, featureDim]; empty for other datasets. */
    public final byte[] pixels;
    /** Decodes {@link #pixels} (the image dataset they came from), or null. */
    private final ImageDataset images;
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

    BatchSlot(SpscBatchPrefetch owner, int rows, int featureDim, boolean classification, int targetDim, ImageDataset images) {
        this.owner = owner;
        this.rows = rows;
        this.featureDim = featureDim;
        this.targetDim = targetDim;
        this.images = images;
        this.features = new float[images == null ? rows * featureDim : 0];
        this.pixels = new byte[images == null ? 0 : rows * featureDim];
        this.labels = new int[classification ? rows : 0];
        this.targets = new float[classification ? 0 : rows * targetDim];
    }

    /**
     * Rows {@code [r0, r0 + n)}'s features as floats into {@code dst} at {@code dstOff}: a copy,
     * or the image dataset's normalisation of the raw pixels (the same floats its
     * {@link Dataset#features} gives). Any thread that may read the slot; allocates nothing.
     */
    public void copyFeatures(int r0, int n, float[] dst, int dstOff) {
        if (images == null) System.arraycopy(features, r0 * featureDim, dst, dstOff, n * featureDim);
        else images.decode(pixels, r0 * featureDim, dst, dstOff, n * featureDim);
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
