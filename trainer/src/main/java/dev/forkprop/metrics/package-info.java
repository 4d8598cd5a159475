/**
 * What a run measures and where it goes: per-step and per-phase latency in HdrHistograms
 * ({@link dev.forkprop.metrics.PhaseHistograms}, summarised by {@link dev.forkprop.metrics.LatencySummary}),
 * the telemetry ring that carries one {@link dev.forkprop.metrics.StepEvent} per step from the
 * coordinator to a reporter thread ({@link dev.forkprop.metrics.SpscTelemetryRing}), and the sinks
 * that thread feeds: progress lines or a terminal bar, {@code metrics.jsonl}, the .hlog, the
 * curve and latency charts. A terminal bar is the status line of a
 * {@link dev.forkprop.metrics.StatusLineStream}; a message printed while the bar shows must go
 * through that same stream to get a line of its own.
 *
 * <p>Threads: the coordinator only claims and publishes events (no I/O, no allocation); every
 * sink runs on the reporter thread. A failing sink is dropped and reported at the end; training
 * goes on. Who calls: {@code run} and {@code cli}.
 */
package dev.forkprop.metrics;
