package dev.forkprop.metrics;

/**
 * A {@link TelemetrySink} threw on the reporter thread. Carries the sink and the ring sequence it
 * failed at; the original exception is the cause. Collected by {@link SpscTelemetryRing#failures()},
 * never thrown at the producer.
 */
public final class TelemetrySinkFailure extends Exception {
    public TelemetrySinkFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
