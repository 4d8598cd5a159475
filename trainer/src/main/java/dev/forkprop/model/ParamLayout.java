package dev.forkprop.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Where every tensor lives in the one flat parameter vector.
 *
 * <p>All trainable parameters of a network are views into a single {@code float[params]}; each
 * worker's gradient buffer and every optimizer state tensor use the same layout, so reduction and
 * update are flat loops over index ranges. Tensors are placed in declaration order (layer by
 * layer, weight before bias), each starting on a 16-float (64-byte) boundary so that no two
 * tensors share a cache line and vector loads start aligned; the gaps are zero and stay zero
 * (their gradient is always zero).
 *
 * <p>After the trainable region {@code [0, trainable)} comes a statistics region
 * {@code [trainable, size)}: slots where layers with running statistics (batch norm) write each
 * shard's batch statistics into the gradient buffer, so the same fixed-order reduction that sums
 * gradients also combines them. The optimizer never touches this region.
 *
 * <p>Tensor names follow {@code layers.<i>.<name>} with {@code i} the layer's index in the
 * network; checkpoints and exports name tensors this way. Immutable once built.
 */
public final class ParamLayout {
    /** Tensors start on multiples of this many floats (64 bytes). */
    public static final int ALIGN = 16;

    /** The most floats a parameter vector may span: the largest Java array, rounded down to {@link #ALIGN}. */
    public static final int MAX_SIZE = (Integer.MAX_VALUE - 8) / ALIGN * ALIGN;

    /**
     * One named tensor: {@code shape} row-major, {@code offset} into the flat vector. A shape with
     * more than {@link #MAX_SIZE} elements is a one-line IllegalArgumentException.
     */
    public record Tensor(String name, int offset, int[] shape, boolean trainable) {
        public Tensor {
            long n = 1;
            for (int d : shape) {
                if (d < 0) throw new IllegalArgumentException("tensor " + name + " has a negative dimension " + d);
                n *= d; // n <= MAX_SIZE < 2^31 before, d < 2^31: no long overflow
                if (n > MAX_SIZE) throw tooLarge(name, shape, n);
            }
        }

        public int size() {
            int s = 1;
            for (int d : shape) s *= d;
            return s;
        }
    }

    private final List<Tensor> tensors;
    private final int trainable;
    private final int size;

    private ParamLayout(List<Tensor> tensors, int trainable, int size) {
        this.tensors = Collections.unmodifiableList(tensors);
        this.trainable = trainable;
        this.size = size;
    }

    /** All tensors in layout order. */
    public List<Tensor> tensors() {
        return tensors;
    }

    /** End of the trainable region: the optimizer updates {@code [0, trainable())}. */
    public int trainable() {
        return trainable;
    }

    /** Length of a parameter/gradient buffer, statistics region included. */
    public int size() {
        return size;
    }

    /** Number of trainable scalars (without alignment gaps). */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : tensors) if (t.trainable) n += t.size();
        return n;
    }

    public Tensor tensor(String name) {
        for (Tensor t : tensors) if (t.name.equals(name)) return t;
        throw new IllegalArgumentException("no tensor named " + name);
    }

    static int align(int n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** Collects tensors; trainable ones first, then statistics slots. Not thread-safe. */
    public static final class Builder {
        private final List<Tensor> params = new ArrayList<>();
        private final List<String> statNames = new ArrayList<>();
        private final List<int[]> statShapes = new ArrayList<>();
        private int next;

        /** Reserves a trainable tensor and returns its offset. */
        public int param(String name, int... shape) {
            int offset = next;
            Tensor t = new Tensor(name, offset, shape.clone(), true);
            params.add(t);
            next = end(t);
            return offset;
        }

        /**
         * Reserves a statistics slot; returns its index among statistics slots, resolved to an
         * offset by {@link ParamLayout#tensor(String)} after {@link #build()}.
         */
        public String stat(String name, int... shape) {
            statNames.add(name);
            statShapes.add(shape.clone());
            return name;
        }

        public ParamLayout build() {
            List<Tensor> all = new ArrayList<>(params);
            int trainableEnd = next;
            int off = next;
            for (int i = 0; i < statNames.size(); i++) {
                Tensor t = new Tensor(statNames.get(i), off, statShapes.get(i), false);
                all.add(t);
                off = end(t);
            }
            return new ParamLayout(all, trainableEnd, off);
        }

        /** The aligned offset after {@code t}, checked in long: in int it would wrap for huge models (dense:1048576 twice: 2^40 weights). */
        private static int end(Tensor t) {
            long end = (long) t.offset() + t.size();
            if (end > MAX_SIZE) throw tooLarge(t.name(), t.shape(), end);
            return align((int) end); // end <= MAX_SIZE, a multiple of ALIGN: no overflow
        }
    }

    private static IllegalArgumentException tooLarge(String name, int[] shape, long floats) {
        return new IllegalArgumentException("model too large: at tensor " + name + " " + java.util.Arrays.toString(shape)
                + " the parameters need " + floats + " floats, more than one Java array holds (" + MAX_SIZE + ")");
    }
}
