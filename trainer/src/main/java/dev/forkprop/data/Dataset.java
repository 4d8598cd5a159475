package dev.forkprop.data;

/**
 * {@code n} samples, each a feature vector of {@link #featureDim()} floats and either a class label
 * (classification, {@link #numClasses()} {@code > 0}) or a target vector of {@link #targetDim()}
 * floats (regression, {@code numClasses() == 0}). This is what the trainer's batch loader reads.
 *
 * <p>Contract for every implementation (checked by {@code DatasetContractTest}):
 * <ul>
 *   <li>Immutable: the same sample always yields the same values.</li>
 *   <li>{@link #features}, {@link #label} and {@link #target} allocate nothing and take no locks;
 *       they are the batch loader's hot path.</li>
 *   <li>Thread-safe: any number of threads may read any samples at the same time.
 *       Memory consistency effects: all storage is written before the constructor returns and
 *       reached through final fields, so a thread that sees a reference to the dataset sees
 *       its contents (JLS 17.5); no further synchronization is needed.</li>
 *   <li>A sample index outside {@code [0, size())} throws {@link IndexOutOfBoundsException}.</li>
 * </ul>
 */
public interface Dataset {

    /** Short name for logs, e.g. {@code "mnist/train"}, {@code "mnist/train[50000,60000)"}. */
    String name();

    /** One line for the run log: name, shape, task and normalization. */
    String describe();

    /** Number of samples. */
    int size();

    /** Floats per sample written by {@link #features}; 784 for MNIST. */
    int featureDim();

    /** Number of classes for classification; {@code 0} for regression. */
    int numClasses();

    /**
     * Floats per sample written by {@link #target}, which is also the width the model's output
     * layer must have: {@code numClasses()} for classification (a one-hot row), the number of
     * regressed values for regression.
     */
    int targetDim();

    /** {@code true} when {@link #numClasses()} {@code > 0}, i.e. {@link #label} may be called. */
    default boolean isClassification() {
        return numClasses() > 0;
    }

    /**
     * Writes the {@code featureDim()} normalized features of {@code sample} to
     * {@code dst[dstOff .. dstOff + featureDim())}. Allocates nothing.
     */
    void features(int sample, float[] dst, int dstOff);

    /**
     * The class of {@code sample}, in {@code [0, numClasses())}. Allocates nothing.
     *
     * @throws UnsupportedOperationException for a regression dataset
     */
    int label(int sample);

    /**
     * Writes the {@code targetDim()} targets of {@code sample} to {@code dst[dstOff ..)}: the
     * regression values, or for classification a one-hot row (1 at the label, 0 elsewhere).
     * Allocates nothing.
     */
    void target(int sample, float[] dst, int dstOff);

    /**
     * A view of samples {@code [from, to)} sharing this dataset's storage (nothing is copied);
     * sample {@code i} of the view is sample {@code from + i} here. {@code --val N} is
     * {@code slice(size() - N, size())}.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= from <= to <= size()}
     */
    Dataset slice(int from, int to);
}
