package dev.forkprop.model;

import java.util.Locale;

/**
 * Parses model specs for the command line.
 *
 * <ul>
 *   <li>Compact: {@code 784-256-256-10} — widths joined by '-', the first being the input width;
 *       every hidden dense layer is followed by the given activation and, if {@code dropout > 0},
 *       a dropout layer.</li>
 *   <li>Full: comma-separated layers after the input, e.g.
 *       {@code dense:256,relu,dropout:0.2,dense:256,layernorm,relu,dense:10}; tokens:
 *       {@code dense:N}, {@code relu}, {@code leakyrelu}, {@code sigmoid}, {@code tanh},
 *       {@code gelu}, {@code dropout:R}, {@code batchnorm}, {@code layernorm}.</li>
 * </ul>
 * A misspelt or inconsistent spec throws {@link IllegalArgumentException} naming the bad token.
 */
public final class ModelSpec {
    private ModelSpec() {}

    /**
     * @param spec       compact or full spec
     * @param inputWidth the data's feature width; a compact spec's first number must equal it
     * @param activation activation for compact specs (relu, leakyrelu, sigmoid, tanh, gelu)
     * @param dropout    dropout rate after each hidden activation for compact specs (0: none)
     */
    public static Network parse(String spec, int inputWidth, String activation, float dropout) {
        if (spec == null || spec.isBlank()) throw new IllegalArgumentException("empty model spec");
        String s = spec.trim().toLowerCase(Locale.ROOT);
        // Dashes without commas or colons: a compact spec, so a typo is reported per width.
        if (s.contains("-") && !s.contains(",") && !s.contains(":")) {
            return parseCompact(spec, s, inputWidth, activation, dropout);
        }
        if (s.matches("[0-9]+")) throw bad(spec, s, "a compact spec needs at least an input and an output width, e.g. 784-10");
        Network.Builder b = Network.builder(inputWidth);
        for (String token : s.split(",", -1)) {
            String t = token.trim();
            int colon = t.indexOf(':');
            String head = colon < 0 ? t : t.substring(0, colon);
            String arg = colon < 0 ? null : t.substring(colon + 1);
            switch (head) {
                case "dense", "linear" -> b.dense(positiveInt(spec, t, arg));
                case "dropout" -> b.dropout(rate(spec, t, arg));
                case "batchnorm", "bn" -> noArg(spec, t, arg, b).batchNorm();
                case "layernorm", "ln" -> noArg(spec, t, arg, b).layerNorm();
                default -> noArg(spec, t, arg, b).activation(activationKind(spec, t, head));
            }
        }
        return b.build();
    }

    private static Network parseCompact(String spec, String s, int inputWidth, String activation, float dropout) {
        String[] parts = spec.trim().split("-", -1);
        int[] widths = new int[parts.length];
        for (int i = 0; i < parts.length; i++) widths[i] = positiveInt(spec, parts[i], parts[i]);
        if (inputWidth > 0 && widths[0] != inputWidth) {
            throw bad(spec, parts[0], "the data has " + inputWidth + " features, so the spec must start with " + inputWidth);
        }
        Activation.Kind kind = activationKind("--activation " + activation, activation, activation.toLowerCase(Locale.ROOT));
        Network.Builder b = Network.builder(widths[0]);
        for (int i = 1; i < widths.length; i++) {
            b.dense(widths[i]);
            if (i < widths.length - 1) {
                b.activation(kind);
                if (dropout > 0) b.dropout(dropout);
            }
        }
        return b.build();
    }

    /** Maps an activation name to its kind; the error names the token. */
    public static Activation.Kind activationKind(String spec, String token, String name) {
        return switch (name) {
            case "relu" -> Activation.Kind.RELU;
            case "leakyrelu", "leaky_relu", "leaky-relu" -> Activation.Kind.LEAKY_RELU;
            case "sigmoid" -> Activation.Kind.SIGMOID;
            case "tanh" -> Activation.Kind.TANH;
            case "gelu" -> Activation.Kind.GELU;
            default -> throw bad(spec, token, "expected dense:N, relu, leakyrelu, sigmoid, tanh, gelu, dropout:R, batchnorm or layernorm");
        };
    }

    private static Network.Builder noArg(String spec, String token, String arg, Network.Builder b) {
        if (arg != null) throw bad(spec, token, "this layer takes no argument");
        return b;
    }

    private static int positiveInt(String spec, String token, String arg) {
        if (arg == null || arg.isEmpty()) throw bad(spec, token, "missing width, e.g. dense:256");
        try {
            int v = Integer.parseInt(arg);
            if (v > 0 && v <= 1 << 20) return v;
        } catch (NumberFormatException ignored) {
            // falls through to the error below
        }
        throw bad(spec, token, "width must be an integer in 1..1048576");
    }

    private static float rate(String spec, String token, String arg) {
        if (arg == null || arg.isEmpty()) throw bad(spec, token, "missing rate, e.g. dropout:0.2");
        try {
            float r = Float.parseFloat(arg);
            if (r >= 0f && r < 1f) return r;
        } catch (NumberFormatException ignored) {
            // falls through to the error below
        }
        throw bad(spec, token, "dropout rate must be a number in [0, 1)");
    }

    private static IllegalArgumentException bad(String spec, String token, String why) {
        return new IllegalArgumentException("model spec '" + spec + "': bad token '" + token + "': " + why);
    }
}
