package dev.forkprop.optim;

/**
 * The learning rate as a function of the 1-based step number. Pure: same step, same value, no
 * state, so a resumed run gets the same rates. Evaluated once per step by the coordinator and
 * passed to {@link Optimizer#beginStep}; implementations compute in double, return float.
 *
 * <p>Compact form for the CLI ({@link #parse}):
 * <pre>
 *   constant                 base
 *   step:N:GAMMA             base * GAMMA^floor((t-1)/N)       (torch StepLR, step_size = N)
 *   cosine[:FLOOR]           FLOOR + (base-FLOOR) * (1+cos(pi*min(t-1,T)/T))/2, T = total steps
 *                                                              (torch CosineAnnealingLR, eta_min = FLOOR)
 *   warmup:W[,INNER]         INNER.lr(1) * t/W for t &lt;= W, then INNER.lr(t-W); INNER defaults
 *                            to constant, and a cosine INNER spans total - W steps
 * </pre>
 * Examples: {@code constant}, {@code step:30000:0.1}, {@code cosine}, {@code cosine:1e-5},
 * {@code warmup:500,cosine}.
 */
public interface LrSchedule {

    /** The learning rate at 1-based {@code step}; throws IllegalArgumentException if step &lt; 1. */
    float lr(long step);

    /** The compact form this schedule parses from (without the base rate or total steps). */
    String spec();

    /**
     * Parses the compact form above.
     *
     * @param spec       e.g. {@code "warmup:500,cosine"}; surrounding blanks are ignored
     * @param baseLr     peak learning rate, finite and {@code > 0}
     * @param totalSteps steps in the whole run; needed by {@code cosine} only ({@code <= 0}: unknown)
     * @throws IllegalArgumentException whose message quotes the bad token and says what fits there
     */
    static LrSchedule parse(String spec, float baseLr, long totalSteps) {
        if (!(baseLr > 0) || !Float.isFinite(baseLr)) {
            throw new IllegalArgumentException("base learning rate " + baseLr + " must be finite and > 0");
        }
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("empty learning-rate schedule; expected e.g. constant, "
                    + "step:30000:0.1, cosine, warmup:500,cosine");
        }
        String s = spec.strip();
        int comma = s.indexOf(',');
        String head = comma < 0 ? s : s.substring(0, comma);
        if (head.equals("warmup") || head.startsWith("warmup:")) {
            String[] t = head.split(":", -1);
            if (t.length != 2) throw bad(spec, head, "warmup:W with W the number of warm-up steps");
            long w = positiveLong(spec, t[1], "warm-up steps");
            LrSchedule inner = comma < 0
                    ? new ConstantLr(baseLr)
                    : parseInner(spec, s.substring(comma + 1), baseLr, totalSteps <= 0 ? totalSteps : totalSteps - w, true);
            return new WarmupLr(w, inner);
        }
        return parseInner(spec, s, baseLr, totalSteps, false);
    }

    private static LrSchedule parseInner(String spec, String s, float baseLr, long total, boolean afterWarmup) {
        if (s.contains(",")) {
            String extra = s.substring(s.indexOf(',') + 1);
            throw bad(spec, extra, "nothing: only 'warmup:W,' may come before another schedule");
        }
        String[] t = s.split(":", -1);
        switch (t[0]) {
            case "constant" -> {
                if (t.length != 1) throw bad(spec, s, "constant (it takes no arguments)");
                return new ConstantLr(baseLr);
            }
            case "step" -> {
                if (t.length != 3) throw bad(spec, s, "step:N:GAMMA, e.g. step:30000:0.1");
                long every = positiveLong(spec, t[1], "step interval");
                float gamma = number(spec, t[2], "decay factor GAMMA");
                if (!(gamma > 0)) throw bad(spec, t[2], "a decay factor GAMMA > 0");
                return new StepDecayLr(baseLr, every, gamma);
            }
            case "cosine" -> {
                if (t.length > 2) throw bad(spec, s, "cosine or cosine:FLOOR");
                float floor = t.length == 2 ? number(spec, t[1], "floor learning rate") : 0f;
                if (!(floor >= 0 && floor <= baseLr)) throw bad(spec, t[1], "a floor in [0, base lr " + baseLr + "]");
                if (total <= 0) {
                    throw bad(spec, s, afterWarmup
                            ? "cosine needs total steps greater than the warm-up steps"
                            : "cosine needs the total number of steps (pass --steps)");
                }
                return new CosineLr(baseLr, floor, total);
            }
            case "warmup" -> throw bad(spec, s, "constant, step or cosine: warmup may appear once, first");
            default -> throw bad(spec, t[0], "one of constant, step, cosine, warmup");
        }
    }

    private static long positiveLong(String spec, String token, String what) {
        try {
            long v = Long.parseLong(token);
            if (v > 0) return v;
        } catch (NumberFormatException ignored) {
            // fall through to the message that names the token
        }
        throw bad(spec, token, "a positive integer (" + what + ")");
    }

    private static float number(String spec, String token, String what) {
        try {
            float v = Float.parseFloat(token);
            if (Float.isFinite(v)) return v;
        } catch (NumberFormatException ignored) {
            // fall through
        }
        throw bad(spec, token, "a finite number (" + what + ")");
    }

    private static IllegalArgumentException bad(String spec, String token, String expected) {
        return new IllegalArgumentException("bad learning-rate schedule '" + spec + "': '" + token
                + "' is not valid here; expected " + expected);
    }

    /** Shared by implementations: steps are 1-based. */
    static void checkStep(long step) {
        if (step < 1) throw new IllegalArgumentException("step " + step + " < 1 (steps are 1-based)");
    }
}
