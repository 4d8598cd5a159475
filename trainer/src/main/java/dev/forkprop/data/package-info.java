/**
 * Reading datasets: IDX images and labels (MNIST, Fashion-MNIST), CSV tables, and a seeded
 * synthetic regression problem, all behind one {@link dev.forkprop.data.Dataset} interface that
 * the trainer's batch loader reads without allocating; and that loader,
 * {@link dev.forkprop.data.SpscBatchPrefetch}: one thread filling the preallocated
 * {@link dev.forkprop.data.BatchSlot}s of a Disruptor ring with shuffled, normalised minibatches.
 *
 * <p>What this package deliberately is not: it does not decide how many batches a run takes or
 * when it stops (the {@code Trainer} does), and it does not augment.
 *
 * <p>Conventions:
 * <ul>
 *   <li>Images stay {@code uint8} in a {@code byte[]} (MNIST train is 47 MB, not 188 MB as
 *       floats) and become normalized floats only when {@code features} copies one sample into
 *       the caller's batch buffer.</li>
 *   <li>Every dataset is immutable once built: all fields are final, and no array is written
 *       after construction, so any thread may read any sample concurrently.</li>
 *   <li>Every problem with input data is a {@link dev.forkprop.data.DataException} whose message is
 *       one line: the file, where in it (byte offset of the uncompressed IDX content, or CSV line),
 *       and what was expected versus found. The CLI prints it and exits with status 2.</li>
 * </ul>
 */
package dev.forkprop.data;
