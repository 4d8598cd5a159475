package dev.forkprop.data;

/**
 * How an image's {@code uint8} pixel {@code x} becomes a feature: {@code (x / 255 - mean) / std}.
 * The published per-dataset constants are the mean and standard deviation of all training pixels
 * scaled to [0, 1]; {@link #measure} recomputes them (the real-data tests do, to check the table).
 */
public record Normalization(float mean, float std) {

    /** MNIST training-set pixel statistics, as used by torchvision's examples. */
    public static final Normalization MNIST = new Normalization(0.1307f, 0.3081f);
    /** Fashion-MNIST training-set pixel statistics. */
    public static final Normalization FASHION_MNIST = new Normalization(0.2860f, 0.3530f);
    /** Plain scaling to [0, 1]: {@code x / 255}. */
    public static final Normalization UNIT = new Normalization(0f, 1f);

    public Normalization {
        if (!Float.isFinite(mean) || !Float.isFinite(std) || !(std > 0f)) {
            throw new IllegalArgumentException("normalization needs a finite mean and std > 0, got mean="
                    + mean + " std=" + std);
        }
    }

    /**
     * The 256-entry table {@code lut[x] = (float) ((x / 255.0 - mean) / std)}, computed in double.
     * A table lookup per pixel is exact and cheaper than a multiply-add with a conversion.
     */
    float[] lookupTable() {
        float[] lut = new float[256];
        for (int x = 0; x < 256; x++) {
            lut[x] = (float) ((x / 255.0 - mean) / std);
        }
        return lut;
    }

    /**
     * Mean and (population) standard deviation of all pixels of {@code images}, scaled to [0, 1];
     * std 1 if every pixel is the same. Reads every pixel once; allocates a 256-entry histogram.
     */
    public static Normalization measure(ImageDataset images) {
        long[] histogram = images.pixelHistogram();
        double n = 0, sum = 0, sumSq = 0;
        for (int x = 0; x < 256; x++) {
            double v = x / 255.0;
            n += histogram[x];
            sum += histogram[x] * v;
            sumSq += histogram[x] * v * v;
        }
        double mean = sum / n;
        double var = Math.max(0, sumSq / n - mean * mean);
        double std = Math.sqrt(var);
        // A constant image set has std 0; 1 keeps the formula defined (features become x/255 - mean).
        return new Normalization((float) mean, std > 0 ? (float) std : 1f);
    }

    @Override
    public String toString() {
        return "mean " + mean + " std " + std;
    }
}
