package dev.forkprop.optim;

/**
 * Linear warm-up in front of another schedule:
 * <pre>
 *   lr(t) = inner.lr(1) * t / steps     for t &lt;= steps   (reaches inner.lr(1) at t = steps)
 *   lr(t) = inner.lr(t - steps)         afterwards        (inner starts at its own step 1)
 * </pre>
 */
public record WarmupLr(long steps, LrSchedule inner) implements LrSchedule {
    public WarmupLr {
        if (steps <= 0) throw new IllegalArgumentException("warm-up steps " + steps + " <= 0");
        if (inner == null) throw new IllegalArgumentException("inner schedule is null");
    }

    @Override
    public float lr(long step) {
        LrSchedule.checkStep(step);
        if (step <= steps) return (float) ((double) inner.lr(1) * step / steps);
        return inner.lr(step - steps);
    }

    @Override public String spec() { return "warmup:" + steps + "," + inner.spec(); }
}
