package dev.forkprop.model;

import java.util.SplittableRandom;

/**
 * One layer of a sequential network, computing on a slice of the minibatch ({@code rows} rows)
 * in caller-given buffers. A layer object holds only its shape and its offsets into the flat
 * parameter layout; activations, per-shard state and gradients all live in buffers passed in, so
 * any number of workers can run the same layer at once on different shards.
 *
 * <p>Buffers are row-major with leading dimension equal to the width: {@code x: [rows, in()]},
 * {@code y: [rows, out()]}. {@code state} is this layer's per-shard scratch of
 * {@link #stateSize(int)} floats, written by forward and read by backward.
 *
 * <p>Backward <em>overwrites</em> its gradient slots in {@code grad} (it never accumulates), so a
 * gradient buffer needs no zeroing between steps, and writes {@code dx} unless it is null.
 */
public interface Layer {

    int in();

    int out();

    /** Short spec token, e.g. {@code dense:256} or {@code relu}. */
    String spec();

    /** Registers this layer's tensors under {@code layers.<index>.*}; called once. */
    default void declare(ParamLayout.Builder layout, int index) {}

    /** Resolves offsets from the finished layout; called once after {@link #declare}. */
    default void bind(ParamLayout layout, int index) {}

    /** Initialises this layer's parameters (and buffers) in place. */
    default void init(float[] params, float[] buffers, Init init, SplittableRandom rnd) {}

    /** Floats of per-shard state kept from forward to backward, for shards of up to maxRows rows. */
    default long stateSize(int maxRows) {
        return 0;
    }

    /** Non-trainable per-run floats this layer keeps (running statistics). */
    default int bufferSize() {
        return 0;
    }

    /** Called once with the offset of this layer's region in the buffers array. */
    default void bindBuffers(int offset) {}

    /**
     * Folds the reduced statistics slots (the sum over {@code shards} shards, in {@code reduced})
     * into running statistics; called once per step by a single thread after the reduction.
     */
    default void commitStatistics(float[] reduced, int shards, float[] buffers) {}

    void forward(ShardContext p, float[] x, int xOff, float[] y, int yOff, int rows, float[] state);

    void backward(ShardContext p, float[] x, int xOff, float[] y, int yOff, float[] dy, int dyOff,
                  float[] dx, int dxOff, int rows, float[] state, float[] grad);
}
