package dev.forkprop.metrics;

/**
 * A consumer of the telemetry ring: the progress display, the latency histograms, the
 * metrics.jsonl writer and the training curves. All sinks of one {@link SpscTelemetryRing} run on
 * its single reporter thread, in registration order, so a sink needs no synchronization of its
 * own and is the single writer of whatever it owns.
 *
 * <p>A sink that throws is reported once through {@link SpscTelemetryRing#failures()} and not
 * called again (its {@link #onClose()} is still attempted); the other sinks and the producer go
 * on. A slow sink delays the others and, once the ring is full, makes the producer drop events
 * (counted in {@link SpscTelemetryRing#dropped()}); it never stalls training.
 */
public interface TelemetrySink {

    /**
     * One published event, on the reporter thread. The slot is reused: copy what you keep.
     *
     * @param endOfBatch true when no further event is available right now; a good moment to flush
     */
    void onEvent(StepEvent e, boolean endOfBatch) throws Exception;

    /** After the last event, on the reporter thread: flush, close files, build summaries. */
    default void onClose() throws Exception {}
}
