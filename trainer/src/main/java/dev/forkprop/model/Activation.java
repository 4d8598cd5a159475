package dev.forkprop.model;

import dev.forkprop.kernels.Activations;

/**
 * An elementwise activation layer: relu, leaky relu (slope 0.01), sigmoid, tanh or GELU (tanh
 * approximation). One class for all of them because they differ only in the kernel pair they call;
 * no parameters, no state.
 */
public final class Activation implements Layer {
    public enum Kind { RELU, LEAKY_RELU, SIGMOID, TANH, GELU }

    /** PyTorch's default negative slope. */
    public static final float LEAKY_SLOPE = 0.01f;

    private final Kind kind;
    private final int width;

    public Activation(Kind kind, int width) {
        this.kind = kind;
        this.width = width;
    }

    public Kind kind() { return kind; }
    @Override public int in() { return width; }
    @Override public int out() { return width; }

    @Override
    public String spec() {
        return switch (kind) {
            case RELU -> "relu";
            case LEAKY_RELU -> "leakyrelu";
            case SIGMOID -> "sigmoid";
            case TANH -> "tanh";
            case GELU -> "gelu";
        };
    }

    @Override
    public void forward(ShardContext p, float[] x, int xOff, float[] y, int yOff, int rows, float[] state) {
        final int n = rows * width;
        switch (kind) {
            case RELU -> Activations.relu(x, xOff, y, yOff, n);
            case LEAKY_RELU -> Activations.leakyRelu(x, xOff, y, yOff, n, LEAKY_SLOPE);
            case SIGMOID -> Activations.sigmoid(x, xOff, y, yOff, n);
            case TANH -> Activations.tanh(x, xOff, y, yOff, n);
            case GELU -> Activations.gelu(x, xOff, y, yOff, n);
        }
    }

    @Override
    public void backward(ShardContext p, float[] x, int xOff, float[] y, int yOff, float[] dy, int dyOff,
                         float[] dx, int dxOff, int rows, float[] state, float[] grad) {
        if (dx == null) return;
        final int n = rows * width;
        switch (kind) {
            case RELU -> Activations.reluBackward(y, yOff, dy, dyOff, dx, dxOff, n);
            case LEAKY_RELU -> Activations.leakyReluBackward(x, xOff, dy, dyOff, dx, dxOff, n, LEAKY_SLOPE);
            case SIGMOID -> Activations.sigmoidBackward(y, yOff, dy, dyOff, dx, dxOff, n);
            case TANH -> Activations.tanhBackward(y, yOff, dy, dyOff, dx, dxOff, n);
            case GELU -> Activations.geluBackward(x, xOff, dy, dyOff, dx, dxOff, n);
        }
    }
}
