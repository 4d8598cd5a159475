package dev.forkprop.data;

import java.util.Objects;

/**
 * Grey images of {@code rows x cols} {@code uint8} pixels with class labels, e.g. MNIST. Pixels
 * stay bytes (one per pixel) and become normalized floats, {@code (x / 255 - mean) / std}, only
 * when {@link #features} copies a sample out.
 *
 * <p>Thread-safety and allocation: see {@link Dataset}. Immutable; slices and
 * {@link #withNormalization} views share the pixel and label arrays.
 */
public final class ImageDataset implements Dataset {

    private final String name;
    // pixels: [total samples, rows * cols] row-major uint8; this view is samples [first, first + n)
    private final byte[] pixels;
    // labels: [total samples] uint8, same indexing as pixels
    private final byte[] labels;
    private final int first;
    private final int n;
    private final int rows;
    private final int cols;
    private final int numClasses;
    private final Normalization normalization;
    // lut[x] = (x / 255 - mean) / std for every byte value x
    private final float[] lut;

    /**
     * Takes ownership of {@code pixels} ({@code [n, rows * cols]}, row-major) and {@code labels}
     * ({@code [n]}); the caller must not write them afterwards. Every label must be below
     * {@code numClasses} (the readers check this with a message naming the file; here it is a
     * programming error).
     */
    public ImageDataset(String name, byte[] pixels, byte[] labels, int rows, int cols, int numClasses,
                        Normalization normalization) {
        this(name, pixels, labels, 0, labels.length, rows, cols, numClasses, normalization);
        if (rows <= 0 || cols <= 0 || (long) rows * cols * labels.length != pixels.length) {
            throw new IllegalArgumentException("pixels.length " + pixels.length + " != " + labels.length
                    + " x " + rows + " x " + cols);
        }
        if (numClasses < 1 || numClasses > 256) {
            throw new IllegalArgumentException("numClasses " + numClasses + " not in 1..256");
        }
        for (int i = 0; i < labels.length; i++) {
            if ((labels[i] & 0xFF) >= numClasses) {
                throw new IllegalArgumentException("label " + (labels[i] & 0xFF) + " of sample " + i
                        + " >= numClasses " + numClasses);
            }
        }
    }

    private ImageDataset(String name, byte[] pixels, byte[] labels, int first, int n, int rows, int cols,
                         int numClasses, Normalization normalization) {
        this.name = Objects.requireNonNull(name, "name");
        this.pixels = pixels;
        this.labels = labels;
        this.first = first;
        this.n = n;
        this.rows = rows;
        this.cols = cols;
        this.numClasses = numClasses;
        this.normalization = Objects.requireNonNull(normalization, "normalization");
        this.lut = normalization.lookupTable();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String describe() {
        return name + ": " + n + " images " + rows + "x" + cols + " uint8, " + numClasses
                + " classes, features (x/255 - " + normalization.mean() + ") / " + normalization.std();
    }

    @Override
    public int size() {
        return n;
    }

    @Override
    public int featureDim() {
        return rows * cols;
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    /** {@code numClasses()}: {@link #target} writes a one-hot row. */
    @Override
    public int targetDim() {
        return numClasses;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public Normalization normalization() {
        return normalization;
    }

    /** The same images normalized with other constants; shares storage. */
    public ImageDataset withNormalization(Normalization other) {
        return new ImageDataset(name, pixels, labels, first, n, rows, cols, numClasses, other);
    }

    /** The raw pixel {@code index} ({@code row * cols + col}) of {@code sample}, in 0..255. */
    public int pixel(int sample, int index) {
        Objects.checkIndex(sample, n);
        Objects.checkIndex(index, rows * cols);
        return pixels[(first + sample) * rows * cols + index] & 0xFF;
    }

    @Override
    public void features(int sample, float[] dst, int dstOff) {
        Objects.checkIndex(sample, n);
        final int dim = rows * cols;
        // (first + sample) * dim fits in int: the whole array is at most Integer.MAX_VALUE bytes.
        decode(pixels, (first + sample) * dim, dst, dstOff, dim); // checks dst
    }

    /** Sample {@code sample}'s raw pixels (one byte each, row-major) into {@code dst} at {@code dstOff}; see {@link #decode}. */
    public void pixels(int sample, byte[] dst, int dstOff) {
        Objects.checkIndex(sample, n);
        final int dim = rows * cols;
        System.arraycopy(pixels, (first + sample) * dim, dst, dstOff, dim);
    }

    /**
     * Normalises {@code count} raw pixels from {@code src} at {@code srcOff} into {@code dst} at
     * {@code dstOff}: what {@link #features} does, from pixels {@link #pixels} copied out earlier.
     */
    public void decode(byte[] src, int srcOff, float[] dst, int dstOff, int count) {
        Objects.checkFromIndexSize(srcOff, count, src.length);
        Objects.checkFromIndexSize(dstOff, count, dst.length);
        final float[] t = lut;
        for (int i = 0; i < count; i++) {
            dst[dstOff + i] = t[src[srcOff + i] & 0xFF];
        }
    }

    @Override
    public int label(int sample) {
        Objects.checkIndex(sample, n);
        return labels[first + sample] & 0xFF;
    }

    @Override
    public void target(int sample, float[] dst, int dstOff) {
        int label = label(sample);
        Objects.checkFromIndexSize(dstOff, numClasses, dst.length);
        for (int c = 0; c < numClasses; c++) {
            dst[dstOff + c] = 0f;
        }
        dst[dstOff + label] = 1f;
    }

    @Override
    public ImageDataset slice(int from, int to) {
        Objects.checkFromToIndex(from, to, n);
        return new ImageDataset(name + "[" + from + "," + to + ")", pixels, labels, first + from, to - from,
                rows, cols, numClasses, normalization);
    }

    /** How many samples of each class: {@code [numClasses]}. */
    public int[] labelHistogram() {
        int[] h = new int[numClasses];
        for (int i = 0; i < n; i++) {
            h[labels[first + i] & 0xFF]++;
        }
        return h;
    }

    /** How many pixels of this view have each value 0..255: {@code [256]}. */
    long[] pixelHistogram() {
        long[] h = new long[256];
        final int dim = rows * cols;
        for (int i = first * dim, end = (first + n) * dim; i < end; i++) {
            h[pixels[i] & 0xFF]++;
        }
        return h;
    }
}
