package dev.forkprop.bench;

import java.util.Arrays;

/**
 * The median of a benchmark's repeats with the fastest and slowest beside it: how every
 * samples/s figure of {@code bench scaling} and {@code bench compare} is reported (a median, not a
 * mean, so one run disturbed by another process on a shared machine does not move it).
 *
 * @param median the middle value, or the mean of the middle two
 * @param min    the smallest value
 * @param max    the largest value
 */
public record Spread(double median, double min, double max) {

    /** Of one or more values (copied, not modified). */
    public static Spread of(double... values) {
        if (values.length == 0) throw new IllegalArgumentException("no values");
        double[] v = values.clone();
        Arrays.sort(v);
        return new Spread(median(v), v[0], v[v.length - 1]);
    }

    /** Median of sorted values: the middle one, or the mean of the middle two. */
    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
