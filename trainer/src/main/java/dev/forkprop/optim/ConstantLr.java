package dev.forkprop.optim;

/** {@code lr(t) = base} for every step. */
public record ConstantLr(float base) implements LrSchedule {
    @Override public float lr(long step) { LrSchedule.checkStep(step); return base; }
    @Override public String spec() { return "constant"; }
}
