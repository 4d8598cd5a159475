package dev.forkprop.bench;

import java.util.Arrays;

/**
 * One line of the {@code bench kernels} report: an implementation on a shape, with its speed or
 * the reason it has none. Times are per call, from the measured JMH iterations.
 *
 * @param status          "ok", "unavailable" (not in this build / not installed) or "failed"
 *                        (the run or its result check threw)
 * @param note            why, when status is not "ok"; empty otherwise
 * @param medianUs        median over iterations of the mean time per call, microseconds; NaN unless ok
 * @param minUs           fastest iteration's mean time per call; NaN unless ok
 * @param maxUs           slowest iteration's mean time per call; NaN unless ok
 * @param ratioToOpenblas gflops / openblas gflops on the same shape; NaN if either is missing
 */
public record KernelRow(GemmShape shape, String impl, String status, String note,
                        double medianUs, double minUs, double maxUs, double ratioToOpenblas) {

    public static KernelRow measured(GemmShape shape, String impl, double[] iterationUs) {
        if (iterationUs.length == 0) throw new IllegalArgumentException("no iterations for " + impl);
        double[] t = iterationUs.clone();
        Arrays.sort(t);
        return new KernelRow(shape, impl, "ok", "", Spread.median(t), t[0], t[t.length - 1], Double.NaN);
    }

    public static KernelRow unavailable(GemmShape shape, String impl, String why) {
        return new KernelRow(shape, impl, "unavailable", why, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    public static KernelRow failed(GemmShape shape, String impl, String why) {
        return new KernelRow(shape, impl, "failed", why, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    public boolean ok() {
        return status.equals("ok");
    }

    /** 2*M*N*K / median time, in 10^9 flop/s; NaN unless ok. */
    public double gflops() {
        return ok() ? shape.flops() / (medianUs * 1e3) : Double.NaN;
    }

    /** (slowest - fastest) / median over the measured iterations: how noisy the machine was. */
    public double spread() {
        return ok() ? (maxUs - minUs) / medianUs : Double.NaN;
    }

    public KernelRow withRatioToOpenblas(double ratio) {
        return new KernelRow(shape, impl, status, note, medianUs, minUs, maxUs, ratio);
    }
}
