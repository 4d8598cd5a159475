/**
 * A training run around the engine: the loop ({@link dev.forkprop.run.Trainer}: take a batch,
 * step, report, validate, decide whether to go on), its length ({@link dev.forkprop.run.RunLength}),
 * its position ({@link dev.forkprop.run.Position}: step, epoch, batch in the epoch, bad steps,
 * validation record; the one form a start, a hook and a checkpoint share), what it reports
 * ({@link dev.forkprop.run.RunResult}), the hooks called between steps
 * ({@link dev.forkprop.run.StepHook}), the checkpoint and resume policy
 * ({@link dev.forkprop.run.Checkpointing}), the heap check before buffers are allocated, and the
 * .hlog file.
 *
 * <p>Threads: everything here runs on the coordinator thread, the one that calls
 * {@code Trainer.fit}; the loader and the telemetry reporter are started and joined by the loop.
 *
 * <p>Who calls: the {@code train} command and library users. Depends on {@code engine},
 * {@code data}, {@code metrics}, {@code io}, {@code model} and {@code optim}; nothing below it
 * depends on it.
 */
package dev.forkprop.run;
