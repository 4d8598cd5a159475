/**
 * The data-parallel training step: {@link dev.forkprop.engine.Engine} and its protocols, the
 * phase barrier ({@link dev.forkprop.engine.PhaseGate}, {@link dev.forkprop.engine.PhaseCountdown}),
 * the split of a batch into shards and of the parameters into reduce slices
 * ({@link dev.forkprop.engine.ShardPlan}), the weights packed once per step
 * ({@link dev.forkprop.engine.WeightPacks}), idle workers helping with a slowed worker's products
 * ({@link dev.forkprop.engine.SharedProducts}), and the matrix products a worker's layers get
 * through both ({@link dev.forkprop.engine.EngineProducts}). Who calls: {@code run.Trainer} (one
 * step at a time) and tests; the engine knows nothing of epochs, files or flags.
 *
 * <pre>
 *  loader thread (SpscBatchPrefetch): shuffle per epoch, fill slot -> publish (cursor, release)
 *    |                                                  ^ waits for a free slot (gating sequence)
 *    v  ring of 8 BatchSlots                            |
 *  coordinator (the thread calling run.Trainer.fit)      |
 *    |  per step: take() the next slot (acquire; the wait is the data_wait phase), then three phases:
 *    |
 *    |  compute   open the PhaseGate for workers 1..T-1, run worker 0, park on PhaseCountdown
 *    |            worker w: for its shards s: copy its rows out of the slot -> forward -> loss
 *    |                      -> backward into grads[s] (private: only worker w writes it, and
 *    |                      helpers, chunks of rows it hands them, see below)
 *    |                      then helps: chunks of the products of shards still running
 *    |  <-------- last worker arrives, unparks the coordinator (HB: arrive -> await)
 *    |  release the slot (gating sequence, setVolatile) -------+
 *    |  sum shard losses in shard order
 *    |  reduce    worker w: grads[0][slice w] = grads[0] + grads[1] + ... + grads[S-1]
 *    |                      (fixed order), blockSq[b] for the blocks of slice w
 *    |  <--------
 *    |  sum blockSq in block order -> finite? clip scale -> optimizer.beginStep
 *    |  update    workers claim units (atomic counter): optimizer.update, then pack the unit's weights
 *    |  <--------
 *    |  commit batch-norm statistics; publish a StepEvent to the telemetry ring
 *    v
 *  reporter thread (SpscTelemetryRing): HdrHistograms, progress log, .hlog
 * </pre>
 *
 * <p>Ownership: during a phase every array index has exactly one writer: grads[s] belongs to the
 * worker owning shard s in compute, except that a row block of one of its products (an activation,
 * dX or dW) may be handed to a helper through {@code SharedProducts}: a CAS claims the block for
 * one thread, and the owner reads it only after the helper's count says it is written. Slice w of
 * grads[0], of the parameters and of the optimizer state belongs to worker w in reduce; update
 * units are claimed one at a time. Shards depend only on (batch, shards); with a
 * fixed shard count ({@code --deterministic}) results are bitwise identical for any thread count.
 */
package dev.forkprop.engine;
