package dev.forkprop.cli;

import dev.forkprop.model.Init;
import dev.forkprop.model.ModelSpec;
import dev.forkprop.model.Network;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The model flags, a picocli mixin shared by {@code train} and the bench commands. A command that
 * wants another default model passes {@code new ModelOptions(spec)} as its mixin.
 */
public final class ModelOptions {
    /**
     * The default model of {@code train}: two hidden layers of 384 with dropout. With train's
     * defaults (batch 256, Adam at 2e-3, cosine over 5 epochs) it reaches 98.1-98.3% on MNIST for
     * seeds 1-5 in about 11 s at 2 threads (see docs/BENCHMARKS.md); two layers of 512 reach 98.4%
     * but take twice as long.
     */
    public static final String TRAIN_DEFAULT = "dense:384,relu,dropout:0.2,dense:384,relu,dropout:0.2,dense:10";

    @Option(names = "--model", description = "compact (784-256-10) or full (dense:256,relu,dense:10) spec (default: ${DEFAULT-VALUE})")
    public String model;
    @Option(names = "--activation", description = "activation for compact specs: relu, leakyrelu, sigmoid, tanh, gelu (default: ${DEFAULT-VALUE})")
    public String activation = "relu";
    @Option(names = "--dropout", description = "dropout after each hidden activation, compact specs (default: ${DEFAULT-VALUE})")
    public float dropout = 0f;
    @Option(names = "--init", description = "he, he-uniform, xavier, xavier-uniform, small (default: he for relu-like, xavier otherwise)")
    public String init;

    public ModelOptions() {
        this(TRAIN_DEFAULT);
    }

    public ModelOptions(String defaultModel) {
        this.model = defaultModel;
    }

    /** Checks the flags that need no data; a one-line IllegalArgumentException names the first bad one. */
    public void validate() {
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("--dropout must be in [0, 1), got " + dropout);
    }

    /** These flags as train arguments, for a run of {@code train} in this JVM. */
    public List<String> args() {
        List<String> a = new ArrayList<>(List.of("--model", model, "--activation", activation, "--dropout", Float.toString(dropout)));
        if (init != null) a.addAll(List.of("--init", init));
        return a;
    }

    /** The network for inputs of {@code inputWidth} features. */
    public Network network(int inputWidth) {
        return ModelSpec.parse(model, inputWidth, activation, dropout);
    }

    /** The weight initialisation: {@code --init}, or the default for {@code --activation}. */
    public Init initKind() {
        return init != null ? Init.parse(init) : Init.defaultFor(activation);
    }
}
