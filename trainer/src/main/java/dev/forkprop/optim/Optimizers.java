package dev.forkprop.optim;

import java.util.List;

/** Creates an {@link Optimizer} from its flag name; the one place that maps names to classes. */
public final class Optimizers {
    /** Valid names for {@link #create}, in the order error messages list them. */
    public static final List<String> NAMES = List.of("sgd", "momentum", "nesterov", "adam", "adamw");

    private Optimizers() {}

    /**
     * @param name       one of {@link #NAMES} (case-sensitive)
     * @param paramCount P; state tensors of that length are allocated here, once
     * @param h          hyper-parameters; each optimizer reads the fields it uses
     * @throws IllegalArgumentException naming the bad name and listing the valid ones
     */
    public static Optimizer create(String name, int paramCount, Hyper h) {
        return switch (name) {
            case "sgd" -> new Sgd(paramCount, h.weightDecay());
            case "momentum" -> new Momentum(paramCount, h.momentum(), h.weightDecay(), false);
            case "nesterov" -> new Momentum(paramCount, h.momentum(), h.weightDecay(), true);
            case "adam" -> new Adam(paramCount, h.beta1(), h.beta2(), h.eps(), h.weightDecay());
            case "adamw" -> new AdamW(paramCount, h.beta1(), h.beta2(), h.eps(), h.weightDecay());
            case null -> throw new IllegalArgumentException("optimizer name is null; valid: " + String.join(", ", NAMES));
            default -> throw new IllegalArgumentException(
                    "unknown optimizer '" + name + "'; valid: " + String.join(", ", NAMES));
        };
    }
}
