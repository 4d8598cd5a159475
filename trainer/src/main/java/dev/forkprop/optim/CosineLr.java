package dev.forkprop.optim;

/**
 * Cosine annealing from {@code base} to {@code floor} over {@code total} steps (PyTorch
 * {@code CosineAnnealingLR}, closed form, {@code T_max = total}, {@code eta_min = floor}):
 * <pre>
 *   lr(t) = floor + (base - floor) * (1 + cos(pi * min(t-1, total) / total)) / 2
 * </pre>
 * So {@code lr(1) = base}, {@code lr(total/2 + 1)} is the midpoint, {@code lr(total + 1) = floor},
 * and later steps stay at the floor (PyTorch's would rise again).
 */
public record CosineLr(float base, float floor, long total) implements LrSchedule {
    public CosineLr {
        if (total <= 0) throw new IllegalArgumentException("total steps " + total + " <= 0");
    }

    @Override
    public float lr(long step) {
        LrSchedule.checkStep(step);
        double progress = (double) Math.min(step - 1, total) / total;
        return (float) (floor + (base - (double) floor) * (1 + Math.cos(Math.PI * progress)) / 2);
    }

    @Override public String spec() { return floor == 0f ? "cosine" : "cosine:" + floor; }
}
