package dev.forkprop.loss;

import dev.forkprop.model.Workspace;

/**
 * A loss over a shard's logits ({@code w.output(): [rows, cols]}) and its targets (labels or
 * real-valued targets in the workspace).
 *
 * <p>Convention: the value returned is the <em>sum</em> over rows of the per-sample loss, and the
 * gradient written to {@code w.dLogits} is that of the sum. Shard contributions then simply add;
 * the engine scales by {@code 1/batch} once, in the optimizer step. Allocates nothing.
 */
public interface Loss {

    /** Sum of per-sample losses; if {@code gradient}, also writes d(sum)/d(logits) to w.dLogits. */
    double compute(Workspace w, int rows, int cols, boolean gradient);

    /** Number of rows predicted correctly, or -1 when accuracy is not defined (regression). */
    int correct(Workspace w, int rows, int cols);

    /** Name as the CLI spells it. */
    String name();

    /** Parses {@code ce} / {@code cross-entropy}, {@code bce}, {@code mse}. */
    /** The loss a run uses when none is named: cross-entropy for classification, mean squared error for regression. */
    static String defaultName(boolean classification) {
        return classification ? "ce" : "mse";
    }

    static Loss parse(String name, int positiveClass) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "ce", "cross-entropy", "crossentropy", "softmax" -> new SoftmaxCrossEntropy();
            case "bce", "binary-cross-entropy" -> new SigmoidBce(positiveClass);
            case "mse" -> new Mse();
            default -> throw new IllegalArgumentException("unknown loss '" + name + "' (expected ce, bce or mse)");
        };
    }
}
