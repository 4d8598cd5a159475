/**
 * The data-parallel training step.
 *
 * <pre>
 *  coordinator (the thread calling Trainer.fit)
 *    |  per step: fill inputs of the step (batch indices), then three phases:
 *    |
 *    |  compute   pool.execute(worker w) for w in 0..T-1, park on PhaseCountdown
 *    |            worker w: for its shards s: load rows -> forward -> loss -> backward
 *    |                      into grads[s] (private; only worker w writes it)
 *    |  <-------- last worker arrives, unparks the coordinator (HB: arrive -> await)
 *    |  sum shard losses in shard order
 *    |  reduce    worker w: grads[0][slice w] = grads[0] + grads[1] + ... + grads[S-1]
 *    |                      (fixed order), blockSq[b] for the blocks of slice w
 *    |  <--------
 *    |  sum blockSq in block order -> finite? clip scale -> optimizer.beginStep
 *    |  update    worker w: optimizer.update(params, grads[0], slice w)
 *    |  <--------
 *    |  commit batch-norm statistics; publish a StepEvent to the telemetry ring
 *    v
 *  reporter thread (SpscTelemetryRing): HdrHistograms, progress log, .hlog
 * </pre>
 *
 * <p>Ownership: during a phase every array index has exactly one writer: grads[s] belongs to the
 * worker owning shard s in compute; slice w of grads[0], of the parameters and of the optimizer
 * state belongs to worker w in reduce and update. Shards depend only on (batch, shards); with a
 * fixed shard count ({@code --deterministic}) results are bitwise identical for any thread count.
 */
package dev.forkprop.engine;
