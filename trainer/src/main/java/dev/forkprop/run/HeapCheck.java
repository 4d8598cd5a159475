package dev.forkprop.run;

import java.util.Locale;

/**
 * Whether a run's buffers fit in the heap that is left, checked before they are allocated: an
 * OutOfMemoryError halfway through allocating is no error message.
 */
public final class HeapCheck {
    private HeapCheck() {}

    /**
     * Fails in one line when {@code engineBytes} (see {@code Engine.requiredBytes}) and a margin do
     * not fit in the free heap (the data is loaded by now). The margin covers checkpoints (a
     * checkpoint is encoded in memory: parameters and optimizer state once more) and the
     * reporter's charts. {@code model}, {@code batch}, {@code threads} and {@code shards} name the run in the message.
     */
    public static void require(long engineBytes, String model, int batch, int threads, int shards) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        long need = engineBytes + engineBytes / 4 + (64L << 20);
        if (need <= free) return;
        throw new IllegalArgumentException(String.format(Locale.ROOT,
                "model %s at batch %d with %d threads and %d gradient buffers needs about %,d MB of heap, %,d MB are free"
                        + " (-Xmx %,d MB): use a smaller model, --batch, --threads or --shards, or raise the heap, e.g."
                        + " FORKPROP_JVM_OPTS=-Xmx%dg", model, batch, threads, shards, need >> 20, free >> 20, rt.maxMemory() >> 20,
                Math.max(2, (rt.maxMemory() + need - free + (1L << 30) - 1) >> 30)));
    }
}
