package dev.forkprop.model;

import dev.forkprop.kernels.Gemm;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A sequential network: layers, their flat parameter layout, and the forward and backward passes
 * over one shard of a minibatch.
 *
 * <p>A network holds no mutable state of its own: parameters, buffers (running statistics),
 * gradients and activations live in arrays the caller owns, so one network is shared by all
 * workers. Build with {@link #builder(int)} or {@link ModelSpec#parse}.
 */
public final class Network {
    private final int in;
    private final Layer[] layers;
    private final ParamLayout layout;
    private final int bufferSize;

    Network(int in, List<Layer> layerList) {
        if (layerList.isEmpty()) throw new IllegalArgumentException("a network needs at least one layer");
        this.in = in;
        this.layers = layerList.toArray(new Layer[0]);
        int width = in;
        for (Layer l : layers) {
            if (l.in() != width) {
                throw new IllegalArgumentException("layer " + l.spec() + " expects width " + l.in() + " but gets " + width);
            }
            width = l.out();
        }
        ParamLayout.Builder b = new ParamLayout.Builder();
        for (int i = 0; i < layers.length; i++) layers[i].declare(b, i);
        this.layout = b.build();
        int buf = 0;
        for (int i = 0; i < layers.length; i++) {
            layers[i].bind(layout, i);
            layers[i].bindBuffers(buf);
            buf += layers[i].bufferSize();
        }
        this.bufferSize = buf;
        int dense = 0;
        for (Layer l : layers) {
            if (l instanceof Dense d) {
                if (d.denseIndex >= 0) throw new IllegalArgumentException("a dense layer instance can be in one network only");
                d.denseIndex = dense++;
            }
        }
    }

    public static Builder builder(int in) {
        return new Builder(in);
    }

    public int in() { return in; }
    public int out() { return layers[layers.length - 1].out(); }
    public Layer[] layers() { return layers; }
    public ParamLayout layout() { return layout; }
    public int bufferSize() { return bufferSize; }

    /** The full spec string, e.g. {@code dense:100,relu,dense:10}, which {@link ModelSpec} parses back. */
    public String spec() {
        StringBuilder sb = new StringBuilder();
        for (Layer l : layers) {
            if (sb.length() > 0) sb.append(',');
            sb.append(l.spec());
        }
        return sb.toString();
    }

    /** A zeroed parameter vector of {@link ParamLayout#size()} floats (also the gradient layout). */
    public float[] newParams() {
        return new float[layout.size()];
    }

    public float[] newBuffers() {
        return new float[bufferSize];
    }

    /**
     * Initialises parameters and buffers from {@code seed}: every layer draws from its own
     * stream split off in layer order, so adding a parameter-free layer does not shift others.
     */
    public void init(float[] params, float[] buffers, Init init, long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        for (Layer l : layers) l.init(params, buffers, init, root.split());
    }

    public Workspace newWorkspace(int maxRows, int targetWidth) {
        if (maxRows <= 0) throw new IllegalArgumentException("workspace rows must be positive: " + maxRows);
        return new Workspace(this, maxRows, targetWidth);
    }

    /** A per-thread shard context whose dense layers compute their products with {@code gemm} ({@link DirectProducts}). */
    public ShardContext newContext(Gemm gemm) {
        return new ShardContext(new DirectProducts(gemm));
    }

    /** Forward over {@code rows} rows of {@code w.input()}; the logits land in {@code w.output()}. */
    public void forward(ShardContext p, Workspace w, int rows) {
        for (int l = 0; l < layers.length; l++) {
            layers[l].forward(p, w.act[l], 0, w.act[l + 1], 0, rows, w.state[l]);
        }
    }

    /**
     * Backward from {@code w.dLogits}: overwrites every gradient slot of {@code grad} (trainable
     * and statistics regions) with this shard's contribution. Must follow a training-mode
     * {@link #forward} of the same rows on the same workspace.
     */
    public void backward(ShardContext p, Workspace w, int rows, float[] grad) {
        float[] dy = w.dLogits;
        for (int l = layers.length - 1; l >= 0; l--) {
            // The first layer's input gradient is never needed.
            float[] dx = l == 0 ? null : (dy == w.gradA ? w.gradB : w.gradA);
            layers[l].backward(p, w.act[l], 0, w.act[l + 1], 0, dy, 0, dx, 0, rows, w.state[l], grad);
            dy = dx;
        }
    }

    /** Folds reduced shard statistics into running statistics; single-threaded, once per step. */
    public void commitStatistics(float[] reduced, int shards, float[] buffers) {
        for (Layer l : layers) l.commitStatistics(reduced, shards, buffers);
    }

    /** Fluent construction; widths are tracked so each call only names the new width. */
    public static final class Builder {
        private final int in;
        private final List<Layer> layers = new ArrayList<>();
        private int width;

        Builder(int in) {
            if (in <= 0) throw new IllegalArgumentException("input width must be positive: " + in);
            this.in = in;
            this.width = in;
        }

        public Builder dense(int out) { return add(new Dense(width, out)); }
        public Builder relu() { return add(new Activation(Activation.Kind.RELU, width)); }
        public Builder leakyRelu() { return add(new Activation(Activation.Kind.LEAKY_RELU, width)); }
        public Builder sigmoid() { return add(new Activation(Activation.Kind.SIGMOID, width)); }
        public Builder tanh() { return add(new Activation(Activation.Kind.TANH, width)); }
        public Builder gelu() { return add(new Activation(Activation.Kind.GELU, width)); }
        public Builder activation(Activation.Kind kind) { return add(new Activation(kind, width)); }
        public Builder dropout(float rate) { return add(new Dropout(rate, width)); }
        public Builder batchNorm() { return add(new BatchNorm(width)); }
        public Builder layerNorm() { return add(new LayerNorm(width)); }

        public Builder add(Layer layer) {
            layers.add(layer);
            width = layer.out();
            return this;
        }

        public Network build() {
            return new Network(in, layers);
        }
    }
}
