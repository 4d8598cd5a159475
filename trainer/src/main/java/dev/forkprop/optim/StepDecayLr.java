package dev.forkprop.optim;

/**
 * {@code lr(t) = base * gamma^floor((t-1)/every)}: steps 1..every use base, the next
 * {@code every} steps use base*gamma, and so on (PyTorch {@code StepLR} with
 * {@code step_size = every}, counting optimizer steps).
 */
public record StepDecayLr(float base, long every, float gamma) implements LrSchedule {
    public StepDecayLr {
        if (every <= 0) throw new IllegalArgumentException("every " + every + " <= 0");
    }

    @Override
    public float lr(long step) {
        LrSchedule.checkStep(step);
        return (float) (base * Math.pow(gamma, (double) ((step - 1) / every)));
    }

    @Override public String spec() { return "step:" + every + ":" + gamma; }
}
