package dev.forkprop.cli;

import dev.forkprop.optim.GradClip;
import dev.forkprop.optim.Hyper;
import dev.forkprop.optim.LrSchedule;
import dev.forkprop.optim.Optimizer;
import dev.forkprop.optim.Optimizers;
import java.util.List;
import picocli.CommandLine.Option;

/** The optimizer and learning-rate flags, a picocli mixin shared by {@code train} and the bench commands. */
public final class OptimizerOptions {
    @Option(names = "--optimizer", description = "sgd, momentum, nesterov, adam, adamw (default: ${DEFAULT-VALUE})")
    public String optimizer = "adam";
    @Option(names = "--lr", description = "learning rate (default: ${DEFAULT-VALUE})")
    public float lr = 1e-3f;
    @Option(names = "--momentum", description = "momentum for momentum/nesterov (default: ${DEFAULT-VALUE})")
    public double momentum = 0.9;
    @Option(names = "--weight-decay", description = "coupled L2 for sgd/momentum/adam, decoupled for adamw (default: ${DEFAULT-VALUE})")
    public double weightDecay = 0;
    @Option(names = "--schedule", description = "constant, step:N:GAMMA, cosine[:FLOOR], warmup:W[,INNER] (default: ${DEFAULT-VALUE})")
    public String schedule = "constant";
    @Option(names = "--clip", description = "clip the global gradient norm to this (0: off) (default: ${DEFAULT-VALUE})")
    public float clip = 0;

    /** Adam at 1e-3, constant: the defaults of the bench commands. */
    public OptimizerOptions() {}

    /** Adam at {@code lr} with {@code schedule}: the defaults a command shows and uses (train: 2e-3, cosine). */
    public OptimizerOptions(float lr, String schedule) {
        this.lr = lr;
        this.schedule = schedule;
    }

    /** Checks the flags that need no model; a one-line IllegalArgumentException names the first bad one. */
    public void validate() {
        check(lr > 0 && Float.isFinite(lr), "--lr must be a positive number, got " + lr);
        check(Double.isFinite(weightDecay) && weightDecay >= 0, "--weight-decay must be >= 0, got " + weightDecay);
        check(Double.isFinite(momentum) && momentum >= 0, "--momentum must be >= 0, got " + momentum);
        check(Float.isFinite(clip) && clip >= 0, "--clip must be >= 0 (0: off), got " + clip);
    }

    /** These flags as train arguments, for a run of {@code train} in this JVM. */
    public List<String> args() {
        return List.of("--optimizer", optimizer, "--lr", Float.toString(lr), "--momentum", Double.toString(momentum),
                "--weight-decay", Double.toString(weightDecay), "--schedule", schedule, "--clip", Float.toString(clip));
    }

    public Hyper hyper() {
        return Hyper.DEFAULTS.withMomentum(momentum).withWeightDecay(weightDecay);
    }

    /** The optimizer for {@code size} parameters (0: only to ask for its state count). */
    public Optimizer create(int size) {
        return Optimizers.create(optimizer, size, hyper());
    }

    public GradClip gradClip() {
        return new GradClip(clip);
    }

    /** The learning-rate schedule over a run of {@code totalSteps} steps. */
    public LrSchedule lrSchedule(long totalSteps) {
        return LrSchedule.parse(schedule, lr, totalSteps);
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
