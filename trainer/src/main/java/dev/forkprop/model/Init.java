package dev.forkprop.model;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Weight initialisation schemes, seeded. Biases start at zero whatever the scheme.
 * Variances follow the papers: He et al. 2015 ({@code 2/fanIn}), Glorot and Bengio 2010
 * ({@code 2/(fanIn+fanOut)}); {@code small} is PyTorch's nn.Linear default,
 * {@code U(-1/sqrt(fanIn), 1/sqrt(fanIn))}.
 */
public enum Init {
    HE_NORMAL, HE_UNIFORM, XAVIER_NORMAL, XAVIER_UNIFORM, SMALL_UNIFORM;

    /** Parses {@code he}, {@code he-uniform}, {@code xavier}, {@code xavier-uniform}, {@code small}. */
    /** The initialisation for layers followed by {@code activation}: Xavier for sigmoid and tanh, He for the ReLU family. */
    public static Init defaultFor(String activation) {
        return activation.equals("sigmoid") || activation.equals("tanh") ? XAVIER_NORMAL : HE_NORMAL;
    }

    public static Init parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "he", "he-normal", "kaiming" -> HE_NORMAL;
            case "he-uniform" -> HE_UNIFORM;
            case "xavier", "glorot", "xavier-normal" -> XAVIER_NORMAL;
            case "xavier-uniform", "glorot-uniform" -> XAVIER_UNIFORM;
            case "small", "small-uniform" -> SMALL_UNIFORM;
            default -> throw new IllegalArgumentException("unknown init '" + s
                    + "' (expected he, he-uniform, xavier, xavier-uniform or small)");
        };
    }

    /** Fills {@code w[off, off + fanIn*fanOut)} with draws for a {@code [fanIn, fanOut]} weight. */
    public void fill(float[] w, int off, int fanIn, int fanOut, SplittableRandom rnd) {
        final int n = fanIn * fanOut;
        switch (this) {
            case HE_NORMAL -> normal(w, off, n, Math.sqrt(2.0 / fanIn), rnd);
            case HE_UNIFORM -> uniform(w, off, n, Math.sqrt(6.0 / fanIn), rnd);
            case XAVIER_NORMAL -> normal(w, off, n, Math.sqrt(2.0 / (fanIn + fanOut)), rnd);
            case XAVIER_UNIFORM -> uniform(w, off, n, Math.sqrt(6.0 / (fanIn + fanOut)), rnd);
            case SMALL_UNIFORM -> uniform(w, off, n, 1.0 / Math.sqrt(fanIn), rnd);
        }
    }

    private static void normal(float[] w, int off, int n, double std, SplittableRandom rnd) {
        for (int i = 0; i < n; i++) w[off + i] = (float) (gaussian(rnd) * std);
    }

    private static void uniform(float[] w, int off, int n, double bound, SplittableRandom rnd) {
        for (int i = 0; i < n; i++) w[off + i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
    }

    /** Standard normal by Box-Muller; one draw per call keeps the stream easy to reason about. */
    static double gaussian(SplittableRandom rnd) {
        double u1 = rnd.nextDouble(), u2 = rnd.nextDouble();
        return Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
