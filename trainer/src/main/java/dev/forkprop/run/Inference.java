package dev.forkprop.run;

import dev.forkprop.data.Dataset;
import dev.forkprop.kernels.Gemms;
import dev.forkprop.model.Network;
import dev.forkprop.model.ShardContext;
import dev.forkprop.model.Workspace;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A trained network's outputs for every sample of a dataset, in eval mode (no dropout, batch-norm
 * running statistics): what {@code eval} and {@code predict} report. Samples go in chunks of
 * {@link #CHUNK} rows to {@code threads} threads, each with its own workspace; every row's output
 * depends only on that row, so the result is the same for any thread count.
 *
 * <p>Memory consistency effects: each thread writes only its chunks' rows of the result; joining
 * the threads (Thread.join) makes them visible to the caller. A thread that throws stops the others
 * at their next chunk, and the first failure is rethrown.
 */
public final class Inference {
    /** Rows per forward pass. */
    public static final int CHUNK = 256;

    private Inference() {}

    /**
     * {@code [data.size(), net.out()]} row-major: the network's output for each sample, in order.
     *
     * @param targetWidth the width of the data's targets (sizes the workspace as training does)
     */
    public static float[] outputs(Network net, float[] params, float[] buffers, Dataset data, int targetWidth, int threads) {
        final int n = data.size(), out = net.out(), in = net.in();
        final float[] result = new float[Math.multiplyExact(n, out)];
        final int chunks = (n + CHUNK - 1) / CHUNK;
        final AtomicInteger next = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable work = () -> {
            try {
                Workspace w = net.newWorkspace(CHUNK, targetWidth);
                ShardContext p = net.newContext(Gemms.best());
                p.params = params;
                p.buffers = buffers;
                p.train = false;
                for (int c; failure.get() == null && (c = next.getAndIncrement()) < chunks; ) {
                    int r0 = c * CHUNK, rows = Math.min(CHUNK, n - r0);
                    for (int r = 0; r < rows; r++) data.features(r0 + r, w.input(), r * in);
                    p.rowBase = r0;
                    net.forward(p, w, rows);
                    System.arraycopy(w.output(), 0, result, r0 * out, rows * out);
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        };
        int t = Math.max(1, Math.min(threads, chunks));
        Thread[] pool = new Thread[t - 1];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = new Thread(work, "forkprop-inference-" + (i + 1));
            pool[i].start();
        }
        work.run();
        for (Thread th : pool) {
            try {
                th.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for inference threads", e);
            }
        }
        Throwable f = failure.get();
        if (f instanceof RuntimeException re) throw re;
        if (f instanceof Error err) throw err;
        if (f != null) throw new IllegalStateException(f);
        return result;
    }
}
